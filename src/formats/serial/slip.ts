/**
 * SLIP (RFC 1055) byte stuffing: END (0xC0) delimits frames; inside a frame END is sent as
 * ESC ESC_END (0xDB 0xDC) and ESC as ESC ESC_ESC (0xDB 0xDD). The delimiter itself is not part of
 * the encoding here.
 */

export const SLIP_END = 0xc0;
export const SLIP_ESC = 0xdb;
export const SLIP_ESC_END = 0xdc;
export const SLIP_ESC_ESC = 0xdd;

/** SLIP encoding of `payload` (no END bytes). */
export function slipEncode(payload: Uint8Array): Uint8Array {
  let extra = 0;
  for (let i = 0; i < payload.length; i++) if (payload[i] === SLIP_END || payload[i] === SLIP_ESC) extra++;
  if (extra === 0) return payload.slice();
  const out = new Uint8Array(payload.length + extra);
  let o = 0;
  for (let i = 0; i < payload.length; i++) {
    const b = payload[i]!;
    if (b === SLIP_END) {
      out[o++] = SLIP_ESC;
      out[o++] = SLIP_ESC_END;
    } else if (b === SLIP_ESC) {
      out[o++] = SLIP_ESC;
      out[o++] = SLIP_ESC_ESC;
    } else out[o++] = b;
  }
  return out;
}

/** Decoded payload, or a string saying why `encoded` (no END bytes) is not valid SLIP. */
export function slipDecode(encoded: Uint8Array): Uint8Array | string {
  const n = encoded.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const b = encoded[i]!;
    if (b === SLIP_END) return `END byte inside a SLIP frame at frame byte ${i}`;
    if (b !== SLIP_ESC) {
      out[o++] = b;
      continue;
    }
    const next = encoded[++i];
    if (next === SLIP_ESC_END) out[o++] = SLIP_END;
    else if (next === SLIP_ESC_ESC) out[o++] = SLIP_ESC;
    else return next === undefined ? `SLIP frame ends in an ESC byte` : `invalid SLIP escape 0xdb 0x${next.toString(16).padStart(2, '0')} at frame byte ${i - 1}`;
  }
  return out.subarray(0, o);
}

/**
 * Every start position at once, for a deframer looking for a valid frame after garbage: `bytes` is
 * the lenient decoding of the whole frame (invalid escapes dropped) and `starts[s]` the index in
 * `bytes` where the decoding of encoded[s…] begins, or −1 when encoded[s…] is not valid SLIP (an
 * invalid escape follows) or s falls inside an escape pair. O(n), one allocation per array.
 */
export function slipSuffixStarts(encoded: Uint8Array): { bytes: Uint8Array; starts: Int32Array } {
  const n = encoded.length;
  const bytes = new Uint8Array(n);
  const starts = new Int32Array(n + 1).fill(-1);
  let o = 0;
  let lastInvalid = -1;
  for (let i = 0; i < n; i++) {
    starts[i] = o;
    const b = encoded[i]!;
    if (b !== SLIP_ESC) {
      bytes[o++] = b;
      continue;
    }
    const next = encoded[i + 1];
    if (next === SLIP_ESC_END) bytes[o++] = SLIP_END;
    else if (next === SLIP_ESC_ESC) bytes[o++] = SLIP_ESC;
    else {
      lastInvalid = i;
      if (next === undefined) break;
    }
    i++;
  }
  starts[n] = o;
  for (let s = 0; s <= lastInvalid; s++) starts[s] = -1;
  return { bytes: bytes.subarray(0, o), starts };
}
