/**
 * Decisions in a form a small microcontroller parses without protobuf:
 *
 * Binary record (16 bytes, little-endian), e.g. as the payload of a COBS/SLIP frame:
 *   0  u8   tag 0x44 ('D')
 *   1  u8   version 1
 *   2  u16  classIndex (0xFFFF when negative or beyond)
 *   4  u16  confidence × 65535, rounded, clamped to [0, 1]
 *   6  u16  latencySteps, saturated at 0xFFFF
 *   8  u32  sequence mod 2^32
 *   12 u32  timeUs mod 2^32 (stream time of the decision)
 * Text line: `D,<sequence>,<timeUs>,<classIndex>,<confidence>,<label>\n` with confidence to 4 decimals
 * and commas, CR and LF in the label replaced by spaces.
 */

import type { Decision } from '../../wire/messages.js';

export const COMPACT_DECISION_BYTES = 16;
export const COMPACT_DECISION_TAG = 0x44;

export interface CompactDecision {
  readonly classIndex: number;
  readonly confidence: number;
  readonly latencySteps: number;
  readonly sequence: number;
  readonly timeUs: number;
}

const sat16 = (v: number) => (Number.isFinite(v) && v >= 0 ? Math.min(0xffff, Math.round(v)) : 0xffff);

export function encodeCompactDecision(d: Pick<Decision, 'classIndex' | 'confidence' | 'latencySteps' | 'sequence' | 'timeUs'>): Uint8Array {
  const out = new Uint8Array(COMPACT_DECISION_BYTES);
  const v = new DataView(out.buffer);
  v.setUint8(0, COMPACT_DECISION_TAG);
  v.setUint8(1, 1);
  v.setUint16(2, sat16(d.classIndex), true);
  v.setUint16(4, Math.round(Math.min(1, Math.max(0, Number.isFinite(d.confidence) ? d.confidence : 0)) * 65535), true);
  v.setUint16(6, d.latencySteps >= 0 ? sat16(d.latencySteps) : 0, true);
  v.setUint32(8, ((d.sequence % 4294967296) + 4294967296) % 4294967296, true);
  v.setUint32(12, ((Math.round(d.timeUs) % 4294967296) + 4294967296) % 4294967296, true);
  return out;
}

/** The record's fields, or a string saying why `bytes` is not one. */
export function decodeCompactDecision(bytes: Uint8Array): CompactDecision | string {
  if (bytes.length !== COMPACT_DECISION_BYTES) return `compact decision is ${COMPACT_DECISION_BYTES} bytes, got ${bytes.length}`;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint8(0) !== COMPACT_DECISION_TAG) return `compact decision tag 0x${v.getUint8(0).toString(16)} (want 0x44)`;
  if (v.getUint8(1) !== 1) return `compact decision version ${v.getUint8(1)} (want 1)`;
  return { classIndex: v.getUint16(2, true), confidence: v.getUint16(4, true) / 65535, latencySteps: v.getUint16(6, true), sequence: v.getUint32(8, true), timeUs: v.getUint32(12, true) };
}

export function decisionLine(d: Pick<Decision, 'sequence' | 'timeUs' | 'classIndex' | 'confidence' | 'label'>): string {
  const label = d.label.replace(/[,\r\n]/g, ' ');
  return `D,${d.sequence},${d.timeUs},${d.classIndex},${d.confidence.toFixed(4)},${label}\n`;
}
