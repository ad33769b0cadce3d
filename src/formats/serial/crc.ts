/**
 * Frame checksums for serial framings: CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, not reflected,
 * xorout 0; check value of "123456789" = 0x29B1 — the variant most MCU libraries call "CCITT") and
 * CRC-32/ISO-HDLC (the zlib/Ethernet CRC, reflected poly 0xEDB88320; check value 0xCBF43926).
 * Table driven, one table per algorithm built on first use.
 *
 * On the wire the CRC of the payload follows the payload, little-endian unless `endian: 'big'`,
 * and both sit inside the COBS/SLIP frame.
 */

export type CrcKind = 'none' | 'crc16' | 'crc32';
export type Endian = 'little' | 'big';

let table16: Uint16Array | undefined;
let table32: Uint32Array | undefined;

function crc16Table(): Uint16Array {
  if (table16) return table16;
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return (table16 = t);
}

function crc32Table(): Uint32Array {
  if (table32) return table32;
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[i] = c >>> 0;
  }
  return (table32 = t);
}

/** CRC-16/CCITT-FALSE of bytes[start, end). */
export function crc16Ccitt(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = crc16Table();
  let c = 0xffff;
  for (let i = start; i < end; i++) c = ((c << 8) & 0xffff) ^ t[((c >>> 8) ^ bytes[i]!) & 0xff]!;
  return c;
}

/** CRC-32/ISO-HDLC of bytes[start, end). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = crc32Table();
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = (c >>> 8) ^ t[(c ^ bytes[i]!) & 0xff]!;
  return (c ^ 0xffffffff) >>> 0;
}

export function crcBytes(kind: CrcKind): number {
  return kind === 'crc16' ? 2 : kind === 'crc32' ? 4 : 0;
}

/** payload followed by its CRC (a copy; the payload itself when kind is 'none'). */
export function appendCrc(payload: Uint8Array, kind: CrcKind, endian: Endian = 'little'): Uint8Array {
  const n = crcBytes(kind);
  if (n === 0) return payload;
  const out = new Uint8Array(payload.length + n);
  out.set(payload, 0);
  const v = kind === 'crc16' ? crc16Ccitt(payload) : crc32(payload);
  const dv = new DataView(out.buffer);
  if (n === 2) dv.setUint16(payload.length, v, endian === 'little');
  else dv.setUint32(payload.length, v, endian === 'little');
  return out;
}

/**
 * The payload of `frame` (a view, CRC stripped) when its trailing CRC matches; undefined when the
 * frame is shorter than the CRC or the CRC differs.
 */
export function checkCrc(frame: Uint8Array, kind: CrcKind, endian: Endian = 'little'): Uint8Array | undefined {
  const n = crcBytes(kind);
  if (n === 0) return frame;
  if (frame.length < n) return undefined;
  const end = frame.length - n;
  const dv = new DataView(frame.buffer, frame.byteOffset + end, n);
  const got = n === 2 ? dv.getUint16(0, endian === 'little') : dv.getUint32(0, endian === 'little');
  const want = kind === 'crc16' ? crc16Ccitt(frame, 0, end) : crc32(frame, 0, end);
  return got === want ? frame.subarray(0, end) : undefined;
}
