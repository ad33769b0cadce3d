/**
 * COBS (Consistent Overhead Byte Stuffing, Cheshire & Baker 1999): removes every 0x00 from a payload
 * so 0x00 can delimit frames. Each block starts with a code byte c (1..255): c−1 data bytes follow,
 * then an implied 0x00 unless c = 0xFF (a full 254-byte run) or the block ends the frame.
 * Overhead: at most ⌈n/254⌉ bytes. The delimiter itself is not part of the encoding here.
 */

export const COBS_DELIMITER = 0x00;

/** COBS encoding of `payload` (no delimiter). */
export function cobsEncode(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + Math.ceil(payload.length / 254) + 1);
  let codeAt = 0;
  let o = 1;
  let code = 1;
  for (let i = 0; i < payload.length; i++) {
    const b = payload[i]!;
    if (b === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
      continue;
    }
    out[o++] = b;
    if (++code === 0xff) {
      out[codeAt] = code;
      code = 1;
      // Minimal form: a full block that ends the payload needs no empty block after it.
      if (i + 1 === payload.length) return out.subarray(0, o);
      codeAt = o++;
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/** Decoded payload, or a string saying why `encoded` (no delimiter) is not valid COBS. */
export function cobsDecode(encoded: Uint8Array): Uint8Array | string {
  const n = encoded.length;
  const out = new Uint8Array(n);
  let o = 0;
  let i = 0;
  while (i < n) {
    const code = encoded[i]!;
    if (code === 0) return `zero byte inside a COBS frame at frame byte ${i}`;
    const end = i + code;
    if (end > n) return `COBS code ${code} at frame byte ${i} runs past the frame end (${n} bytes)`;
    for (let k = i + 1; k < end; k++) {
      const b = encoded[k]!;
      if (b === 0) return `zero byte inside a COBS frame at frame byte ${k}`;
      out[o++] = b;
    }
    i = end;
    if (code !== 0xff && i < n) out[o++] = 0;
  }
  return out.subarray(0, o);
}

/**
 * For each start position s, 1 when encoded[s…] is structurally valid COBS (its chain of code bytes
 * lands exactly on the end). O(n) for all positions at once, so a deframer looking for a valid frame
 * after garbage only decodes the candidates that can be one.
 */
export function cobsSuffixStarts(encoded: Uint8Array): Uint8Array {
  const n = encoded.length;
  const ok = new Uint8Array(n + 1);
  ok[n] = 1;
  for (let s = n - 1; s >= 0; s--) {
    const c = encoded[s]!;
    ok[s] = c !== 0 && s + c <= n && ok[s + c] === 1 ? 1 : 0;
  }
  return ok;
}
