/** The spikeflow wire format: protobuf Envelope (proto/spikeflow.proto) and its JSON mapping. */
export * from './messages.js';
export { WireError } from './errors.js';
export { encodeWire, decodeWire } from './protobuf-codec.js';
export { encodeJson, decodeJson, toJsonObject } from './json-codec.js';
export { SequenceTracker } from './sequence.js';
