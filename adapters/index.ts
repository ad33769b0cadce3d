/** spikeflow adapters: the I/O side (files, UDP, TCP, emulator), as RxJS observables of packets. */
export { fromFile, openRecording, type FileSource, type FileSourceOptions, type FileSourceStats, type Recording, type Pace } from './file-source.js';
export { fromUdp, unixMicros, type UdpSource, type UdpSourceOptions, type UdpSourceStats } from './udp-source.js';
export { sendUdp, type UdpSenderOptions, type UdpSendStats, type PacketSource } from './udp-sender.js';
export { fromDvTcp, type DvTcpOptions, type DvTcpSource, type DvTcpStats } from './dv-tcp-source.js';
export { openEmulator, type EmulatorSource, type EmulatorSourceOptions } from './emulator-source.js';
export { readChunksSync, readHeadSync } from './file-chunks.js';
