/** Shared vocabulary of the serial framings: why a frame was rejected, and where frames go. */

/**
 * crc: the frame's checksum did not match. framing: the byte stuffing / delimiting is broken
 * (invalid escape, frame too long, truncated at end of stream, misaligned word).
 * parse: the frame is intact but its content is not valid (wrong length, bad number, bad field).
 */
export type BadFrameReason = 'crc' | 'framing' | 'parse';

export type BadFrameCounts = Record<BadFrameReason, number>;

export function noBadFrames(): BadFrameCounts {
  return { crc: 0, framing: 0, parse: 0 };
}

/** Receives the frames a deframer finds. `offset`: absolute stream byte offset of the frame's first byte. */
export interface FrameSink {
  frame(payload: Uint8Array, offset: number): void;
  bad(reason: BadFrameReason, offset: number, detail: string): void;
}
