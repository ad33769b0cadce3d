/** spikeflow adapters: the I/O side (files, UDP, TCP, emulator, serial, MQTT, WebSocket), as RxJS observables of packets and sinks. */
export { fromFile, openRecording, type FileSource, type FileSourceOptions, type FileSourceStats, type Recording, type Pace } from './file-source.js';
export { fromUdp, unixMicros, type UdpSource, type UdpSourceOptions, type UdpSourceStats } from './udp-source.js';
export { sendUdp, type UdpSenderOptions, type UdpSendStats, type PacketSource } from './udp-sender.js';
export { fromDvTcp, type DvTcpOptions, type DvTcpSource, type DvTcpStats } from './dv-tcp-source.js';
export { openEmulator, type EmulatorSource, type EmulatorSourceOptions } from './emulator-source.js';
export { readChunksSync, readHeadSync } from './file-chunks.js';
export { startWsServer, type WsServer, type WsServerOptions, type WsServerStats, type WsClientInfo } from './ws-server.js';
export { connectWs, type WsClient, type WsClientOptions, type WsClientStats, type WsMessage, type WebSocketLike, type WebSocketConstructor, type WireCodec } from './ws-client.js';
export { fromWs, type WsSource, type WsSourceOptions, type WsSourceStats } from './ws-source.js';
export { isLoopback, type WsEndpointOptions, type WsEndpointStats } from './ws-endpoint.js';
export { FrameAccumulator, encodeFrame, decodeFrame, frameToJson, frameFromJson, type CountFrame } from './ws-frames.js';
export { STREAMS, FILTER_KEYS, SUBPROTOCOL_JSON, SUBPROTOCOL_PROTO, type StreamName, type PublishStream, type StreamPayloads, type StreamFilter, type WsEncoding, type HelloMessage, type StatusMessage, type ServerControl, type ClientControl } from './ws-protocol.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export { RateLimitedLog, type ErrorLogOptions } from './error-log.js';
