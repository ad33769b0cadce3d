/**
 * The common first step of sniffing a headerless format of fixed-size records (N-MNIST, cochlea):
 * how many records of the head to examine, or none when the bytes cannot be such records.
 * What makes a record plausible is each format's own business.
 */

/** Bytes the registry's callers pass to `sniff`; a shorter head is the whole file. */
export const SNIFF_HEAD_BYTES = 65536;
/** Records examined at most. */
export const MAX_SNIFFED_RECORDS = 2000;
/** Fewer records than this are too little to judge. */
const MIN_SNIFFED_RECORDS = 8;

/**
 * The number of `recordBytes`-byte records at the start of `body` (the part of `head` after any
 * header) to examine: at most MAX_SNIFFED_RECORDS; 0 when there are fewer than 8, or when `head` is
 * the whole file and `body` is not a whole number of records.
 */
export function recordsToSniff(head: Uint8Array, body: Uint8Array, recordBytes: number): number {
  const wholeFile = head.length < SNIFF_HEAD_BYTES;
  if (body.length < recordBytes * MIN_SNIFFED_RECORDS || (wholeFile && body.length % recordBytes !== 0)) return 0;
  return Math.min(Math.floor(body.length / recordBytes), MAX_SNIFFED_RECORDS);
}
