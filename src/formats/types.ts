/**
 * Contracts shared by every format: a streaming decoder (bytes in any chunking -> packets) and a
 * streaming encoder (packets -> bytes). Pure: no I/O here; adapters feed bytes in.
 */

import type { EventPacket, Geometry } from '../events/packet.js';
import type { SideBatch } from '../events/side.js';
import type { PacketPool } from '../events/pool.js';

export type FormatName =
  | 'evt2'
  | 'evt21'
  | 'evt3'
  | 'dat'
  | 'aedat2'
  | 'aedat31'
  | 'aedat4'
  | 'nmnist'
  | 'cochlea'
  | 'csv';

/**
 * A decoding fault. `offset` is the absolute byte offset in the stream (0 = first byte ever pushed).
 * `fatal` faults stop the decoder (e.g. unreadable header); others are reported and decoding resumes.
 */
export class DecodeError extends Error {
  constructor(
    readonly format: string,
    readonly offset: number,
    readonly detail: string,
    readonly fatal = false,
  ) {
    super(`${format}: ${detail} at byte offset ${offset}`);
    this.name = 'DecodeError';
  }

  toJSON(): { format: string; offset: number; message: string; fatal: boolean } {
    return { format: this.format, offset: this.offset, message: this.message, fatal: this.fatal };
  }
}

/** What one `push` or `end` produced. Arrays are empty, never undefined. */
export interface DecodeResult {
  readonly events: EventPacket[];
  readonly side: SideBatch[];
  readonly errors: DecodeError[];
}

export interface DecoderOptions {
  /** Packet buffers come from this pool; its capacity is the maximum events per packet. */
  readonly pool?: PacketPool;
  /** Recorded in every packet's `source.uri`. */
  readonly uri?: string;
  /** Format-specific knobs (EVT2.1 word order, cochlea tick, CSV column order, …). */
  readonly [key: string]: unknown;
}

export interface StreamDecoder {
  readonly format: FormatName;
  /** Known once the header has been read (0x0 before, or when the format carries none). */
  readonly geometry: Geometry;
  /** Header key/values as found in the file (for `inspect`). */
  readonly header: Readonly<Record<string, string>>;
  /** Total bytes pushed so far. */
  readonly bytesIn: number;
  /** True after a fatal error: further pushes are ignored. */
  readonly failed: boolean;
  /**
   * Decode one chunk. Chunk boundaries may fall anywhere, even inside a header or a word;
   * the events produced are identical whatever the chunking. The decoder does not keep `chunk`.
   */
  push(chunk: Uint8Array): DecodeResult;
  /** End of stream: flush, and report a truncated trailing word/record/header as an error. */
  end(): DecodeResult;
}

export interface EncoderOptions {
  readonly geometry?: Geometry;
  readonly [key: string]: unknown;
}

export interface StreamEncoder {
  readonly format: FormatName;
  /** Bytes for these events (the first call also emits the header). */
  encode(packet: EventPacket): Uint8Array;
  /** Side data, for formats that can carry it (others count it in `droppedSide`). */
  encodeSide?(batch: SideBatch): Uint8Array;
  /** Trailing bytes (data tables, footers). After this the encoder is done. */
  end(): Uint8Array;
  /** Side records the format could not carry. */
  readonly droppedSide: number;
}

/** How a format is found, read and written. One per format, registered in `registry.ts`. */
export interface FormatDescriptor {
  readonly name: FormatName;
  readonly description: string;
  /** Lower-case file extensions including the dot, e.g. ['.raw']. */
  readonly extensions: readonly string[];
  /**
   * Confidence 0..1 that `head` (the first bytes of a file, up to 64 KiB) is this format.
   * Header-bearing formats answer 1 on a match; headerless ones answer at most 0.5 from plausibility.
   */
  sniff(head: Uint8Array): number;
  createDecoder(options?: DecoderOptions): StreamDecoder;
  createEncoder?(options?: EncoderOptions): StreamEncoder;
}

export const NO_RESULT: DecodeResult = Object.freeze({ events: [], side: [], errors: [] }) as DecodeResult;
