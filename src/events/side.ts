/**
 * Side streams: what event files carry besides polarity events — external triggers, IMU samples,
 * APS frames, and sensor monitoring words. Each kind is its own batch type (struct-of-arrays where
 * there are many records), so it can travel as its own typed stream.
 */

export interface TriggerBatch {
  readonly kind: 'trigger';
  readonly length: number;
  readonly t: Float64Array;
  /** Trigger channel / id (EVT2 id, AEDAT4 trigger type). */
  readonly id: Uint8Array;
  /** Edge or value: 1 rising, 0 falling (formats that have no edge use 1). */
  readonly value: Uint8Array;
}

export interface ImuBatch {
  readonly kind: 'imu';
  readonly length: number;
  readonly t: Float64Array;
  /** 3 values per sample (x, y, z), g. */
  readonly accel: Float32Array;
  /** 3 values per sample, degrees/s. */
  readonly gyro: Float32Array;
  /** 3 values per sample, µT (NaN when absent). */
  readonly mag: Float32Array;
  /** °C (NaN when absent). */
  readonly temperature: Float32Array;
}

export interface FrameRecord {
  readonly kind: 'frame';
  /** Frame timestamp (µs); exposure bounds when known. */
  readonly t: number;
  readonly exposureStart: number;
  readonly exposureEnd: number;
  readonly width: number;
  readonly height: number;
  /** Channels per pixel: 1 gray, 3 BGR, 4 BGRA. */
  readonly channels: number;
  readonly pixels: Uint8Array | Uint16Array;
}

/** Monitoring/housekeeping words (EVT OTHERS, ERC counters…) are counted, not decoded further. */
export interface MonitorBatch {
  readonly kind: 'monitor';
  readonly length: number;
  readonly t: Float64Array;
  readonly subtype: Uint16Array;
}

export type SideBatch = TriggerBatch | ImuBatch | FrameRecord | MonitorBatch;
export type SideKind = SideBatch['kind'];

export function sideCount(batch: SideBatch): number {
  return batch.kind === 'frame' ? 1 : batch.length;
}

/** Growable column of numbers for building side batches in decoders (side data is rare: simplicity over speed). */
export class SideCollector {
  private trig = { t: [] as number[], id: [] as number[], value: [] as number[] };
  private imu = { t: [] as number[], accel: [] as number[], gyro: [] as number[], mag: [] as number[], temperature: [] as number[] };
  private mon = { t: [] as number[], subtype: [] as number[] };
  private frames: FrameRecord[] = [];

  trigger(t: number, id: number, value: number): void {
    this.trig.t.push(t);
    this.trig.id.push(id);
    this.trig.value.push(value);
  }

  imuSample(t: number, accel: readonly number[], gyro: readonly number[], mag: readonly number[] = [NaN, NaN, NaN], temperature = NaN): void {
    this.imu.t.push(t);
    this.imu.accel.push(accel[0]!, accel[1]!, accel[2]!);
    this.imu.gyro.push(gyro[0]!, gyro[1]!, gyro[2]!);
    this.imu.mag.push(mag[0]!, mag[1]!, mag[2]!);
    this.imu.temperature.push(temperature);
  }

  monitor(t: number, subtype: number): void {
    this.mon.t.push(t);
    this.mon.subtype.push(subtype);
  }

  frame(f: FrameRecord): void {
    this.frames.push(f);
  }

  /** Batches collected since the last call (empty kinds omitted). */
  take(): SideBatch[] {
    const out: SideBatch[] = [];
    if (this.trig.t.length) {
      out.push({ kind: 'trigger', length: this.trig.t.length, t: Float64Array.from(this.trig.t), id: Uint8Array.from(this.trig.id), value: Uint8Array.from(this.trig.value) });
      this.trig = { t: [], id: [], value: [] };
    }
    if (this.imu.t.length) {
      const m = this.imu;
      out.push({ kind: 'imu', length: m.t.length, t: Float64Array.from(m.t), accel: Float32Array.from(m.accel), gyro: Float32Array.from(m.gyro), mag: Float32Array.from(m.mag), temperature: Float32Array.from(m.temperature) });
      this.imu = { t: [], accel: [], gyro: [], mag: [], temperature: [] };
    }
    if (this.mon.t.length) {
      out.push({ kind: 'monitor', length: this.mon.t.length, t: Float64Array.from(this.mon.t), subtype: Uint16Array.from(this.mon.subtype) });
      this.mon = { t: [], subtype: [] };
    }
    if (this.frames.length) out.push(...this.frames.splice(0, this.frames.length));
    return out;
  }
}
