/**
 * RecordingSummary: running statistics over decoded results (counts, time span, polarity split,
 * bounding box, side-stream counts, errors) — what `spikeflow inspect` prints.
 */
import type { EventPacket } from '../events/packet.js';
import { sideCount, type SideBatch } from '../events/side.js';
import type { DecodeError, DecodeResult, StreamDecoder } from './types.js';

export interface SummaryJson {
  format: string;
  width: number;
  height: number;
  events: number;
  t_first_us: number | null;
  t_last_us: number | null;
  duration_us: number;
  on: number;
  off: number;
  bbox: { x_min: number; x_max: number; y_min: number; y_max: number } | null;
  packets: number;
  side_streams: Record<string, number>;
  errors: { format: string; offset: number; message: string; fatal: boolean }[];
  header: Record<string, string>;
  bytes: number;
}

export class RecordingSummary {
  events = 0;
  on = 0;
  packets = 0;
  tFirst = NaN;
  tLast = NaN;
  xMin = Infinity;
  xMax = -Infinity;
  yMin = Infinity;
  yMax = -Infinity;
  readonly side: Record<string, number> = {};
  readonly errors: DecodeError[] = [];

  add(r: DecodeResult): void {
    for (const p of r.events) this.addPacket(p);
    for (const s of r.side) this.addSide(s);
    for (const e of r.errors) this.errors.push(e);
  }

  addPacket(pk: EventPacket): void {
    const n = pk.length;
    if (n === 0) return;
    this.packets++;
    if (this.events === 0) this.tFirst = pk.t[0]!;
    this.tLast = pk.t[n - 1]!;
    this.events += n;
    const { x, y, p } = pk;
    let on = 0;
    let x0 = this.xMin, x1 = this.xMax, y0 = this.yMin, y1 = this.yMax;
    for (let i = 0; i < n; i++) {
      on += p[i]!;
      const xi = x[i]!, yi = y[i]!;
      if (xi < x0) x0 = xi;
      if (xi > x1) x1 = xi;
      if (yi < y0) y0 = yi;
      if (yi > y1) y1 = yi;
    }
    this.on += on;
    this.xMin = x0; this.xMax = x1; this.yMin = y0; this.yMax = y1;
  }

  addSide(s: SideBatch): void {
    this.side[s.kind] = (this.side[s.kind] ?? 0) + sideCount(s);
  }

  toJSON(decoder: StreamDecoder): SummaryJson {
    const empty = this.events === 0;
    return {
      format: decoder.format,
      width: decoder.geometry.width,
      height: decoder.geometry.height,
      events: this.events,
      t_first_us: empty ? null : this.tFirst,
      t_last_us: empty ? null : this.tLast,
      duration_us: empty ? 0 : this.tLast - this.tFirst,
      on: this.on,
      off: this.events - this.on,
      bbox: empty ? null : { x_min: this.xMin, x_max: this.xMax, y_min: this.yMin, y_max: this.yMax },
      packets: this.packets,
      side_streams: { ...this.side },
      errors: this.errors.map((e) => e.toJSON()),
      header: { ...decoder.header },
      bytes: decoder.bytesIn,
    };
  }
}
