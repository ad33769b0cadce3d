/**
 * AEDAT 4.0 (iniVation DV): '#!AER-DAT4.0\r\n', an IOHeader flatbuffer (compression, data table
 * position, XML stream list), then packets of LZ4/ZSTD-compressed (or raw) size-prefixed
 * flatbuffers per stream: EVTS events (int64 Unix-µs t, x, y, on), FRME frames, IMUS IMU samples,
 * TRIG triggers; a FileDataTable may close the file.
 *
 * The pieces live in ./aedat4/: schema (constants), io-header (IOHeader + infoNode XML),
 * compression (LZ4/ZSTD frames), packets (payload readers), packet-writers, decoder, writer.
 */

import type { FormatDescriptor } from '../types.js';
import { Aedat4Decoder } from './aedat4/decoder.js';
import { MAGIC } from './aedat4/schema.js';
import { Aedat4Encoder, type Aedat4EncoderOptions } from './aedat4/writer.js';

export { Aedat4Decoder, type Aedat4Stats } from './aedat4/decoder.js';
export { Aedat4Encoder, type Aedat4EncoderOptions } from './aedat4/writer.js';

export const aedat4Format: FormatDescriptor = {
  name: 'aedat4',
  description: 'iniVation AEDAT 4.0 (DV): events, frames, IMU and triggers in LZ4/ZSTD-compressed flatbuffer packets',
  extensions: ['.aedat4'],
  sniff(head: Uint8Array): number {
    if (head.length < MAGIC.length) return 0;
    for (let i = 0; i < MAGIC.length; i++) if (head[i] !== MAGIC[i]) return 0;
    return 1;
  },
  createDecoder: (options) => new Aedat4Decoder(options),
  createEncoder: (options) => new Aedat4Encoder(options as Aedat4EncoderOptions),
};
