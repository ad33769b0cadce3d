/** spikeflow core: event packets, side streams, formats (no I/O). I/O lives in `spikeflow/adapters`. */
export * from './events/packet.js';
export * from './events/pool.js';
export * from './events/builder.js';
export * from './events/side.js';
export * from './formats/types.js';
export { FORMATS, getFormat, detectFormat, createDecoder, createEncoder, writableFormats, isFormatName, type Detection } from './formats/registry.js';
export { decodeBuffer, allEvents, type Decoded } from './formats/decode-all.js';
export { kernelPacketPool, kernelInfo } from './formats/wasm-kernels.js';
export { pixelKernelStatus, type FilterKernelChoice } from './events/pixel-kernels.js';
export { RecordingSummary, type SummaryJson } from './formats/summary.js';
export { SpifEncoder, SpifDecoder, type SpifEncoderOptions, type SpifDecoderOptions } from './formats/spif.js';
export * as emulator from './emulator/index.js';
export * as snn from './snn/index.js';
export * as wire from './wire/index.js';
export * as serialFormats from './formats/serial/index.js';
export * as encoders from './encoders/index.js';
