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
