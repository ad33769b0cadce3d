/**
 * Whole-buffer decoding on top of the streaming decoders, for tests, `inspect` and small files.
 */

import { concatPackets, type EventPacket } from '../events/packet.js';
import type { SideBatch } from '../events/side.js';
import { createDecoder, detectFormat } from './registry.js';
import type { DecodeError, DecodeResult, DecoderOptions, StreamDecoder } from './types.js';

export interface Decoded {
  readonly decoder: StreamDecoder;
  readonly packets: EventPacket[];
  readonly side: SideBatch[];
  readonly errors: DecodeError[];
}

export function collect(into: { packets: EventPacket[]; side: SideBatch[]; errors: DecodeError[] }, r: DecodeResult): void {
  for (const e of r.events) into.packets.push(e);
  for (const s of r.side) into.side.push(s);
  for (const e of r.errors) into.errors.push(e);
}

/**
 * Decode `bytes` fed in chunks of the given sizes (cycled), or whole when `chunkSizes` is empty.
 * Format 'auto' (default) detects from the bytes and `fileName`.
 */
export function decodeBuffer(
  bytes: Uint8Array,
  format = 'auto',
  options: DecoderOptions & { fileName?: string; chunkSizes?: readonly number[] } = {},
): Decoded {
  const name = format === 'auto' ? detectFormat(bytes.subarray(0, 65536), options.fileName ?? '').format : format;
  const decoder = createDecoder(name, options);
  const out = { decoder, packets: [] as EventPacket[], side: [] as SideBatch[], errors: [] as DecodeError[] };
  const sizes = options.chunkSizes?.length ? options.chunkSizes : [bytes.length || 1];
  let o = 0;
  let k = 0;
  while (o < bytes.length) {
    const n = Math.max(1, sizes[k++ % sizes.length]!);
    collect(out, decoder.push(bytes.subarray(o, o + n)));
    o += n;
  }
  collect(out, decoder.end());
  return out;
}

/** All events of a decode as one packet (copies when there are several packets). */
export function allEvents(d: Decoded): EventPacket {
  return concatPackets(d.packets);
}
