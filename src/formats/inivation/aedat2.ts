/**
 * AEDAT 2.0 / 1.0 (jAER) decoder.
 *
 * Layout (inivation-docs AEDAT_file_formats §AEDAT 2.0): header lines starting with '#' ending CRLF
 * (first line `#!AER-DAT2.0`; jAER headers carry up to ~175 KB of XML preferences), no end marker —
 * the header ends at the first line not starting with '#'. Then big-endian records:
 * AEDAT 2.0 [int32 address, int32 timestamp µs] (8 B); AEDAT 1.0 (`#!AER-DAT1.0` or no version line)
 * [int16 address, int32 timestamp] (6 B). Timestamps are 32-bit and wrap: a drop by more than half
 * the range counts as one wrap (+2^32 µs).
 *
 * Address meaning follows jAER's extractors (the reader/writer of these files), not the prose docs:
 *   DVS128 (ch.unizh.ini.jaer.chip.retina.DVS128): x = 127 − ((a >> 1) & 0x7F), y = (a >> 8) & 0x7F,
 *     ON when raw bit 0 is 0 (setFliptype: "The ON events have raw polarity 0"); bit 15 (sync) or
 *     bit 31 set → external/special event → trigger side stream.
 *   DAVIS (eu.seebetter.ini.chips.DavisChip / DavisBaseCamera extractor):
 *     (a & 0x80000C00) == 0x80000C00 → IMU word: sample type bits 30..28, int16 value bits 27..12,
 *       7 consecutive words (ax, ay, az, temperature, gx, gy, gz) per sample → imu side stream,
 *       scaled as jAER's IMUSample getters (accel 1/8192 g with x negated, gyro 1/65.5 °/s with x and
 *       z negated, temperature raw/340 + 35 °C);
 *     bit 31 clear → DVS: (a & 0xC00) == 0x400 is an external input event → trigger side stream;
 *       otherwise x = sizeX − 1 − ((a >> 12) & 0x3FF), y = (a >> 22) & 0x1FF, ON = bit 11;
 *     bit 31 set otherwise → APS ADC sample (readout cycle bits 11..10: 0 reset, 1 signal): counted on
 *       the monitor side stream with that cycle as subtype (frames are not assembled here).
 * Chip: option `chip` ('dvs128' | 'davis240' | 'davis346' | 'auto'); 'auto' reads the `# AEChip:`
 * header line (DVS128/Tmpdiff128 → dvs128, 346 → DAVIS346, 640 → DAVIS640, otherwise a DAVIS240) and
 * falls back to DVS128 for AEDAT 1.0 (16-bit addresses cannot hold DAVIS events) and DAVIS240 for 2.0.
 * DVS events outside the chip's array are reported (one error per run of records) and skipped.
 */

import { PacketBuilder } from '../../events/builder.js';
import { UNKNOWN_GEOMETRY, type Geometry, type SourceInfo } from '../../events/packet.js';
import { SideCollector } from '../../events/side.js';
import { RecordCarry, ascii } from '../bytes.js';
import { decodeResult } from '../decode-result.js';
import { FaultRuns } from '../fault-runs.js';
import { HeaderLineScanner } from '../text-header.js';
import { DecodeError, NO_RESULT, type DecodeResult, type DecoderOptions, type FormatDescriptor, type StreamDecoder } from '../types.js';
import { unwrapBase } from '../wrap32.js';

const FORMAT = 'aedat2';
const HASH = 0x23;
/** Header lines are kept up to this length (jAER's XML preference lines can be long; only `# Key: value` lines matter). */
const MAX_HEADER_LINE_BYTES = 4096;
const VERSION_2 = '#!AER-DAT2.0';
const VERSION_1 = '#!AER-DAT1.0';

export type Aedat2Chip = 'dvs128' | 'davis240' | 'davis346' | 'auto';

export interface Aedat2Options extends DecoderOptions {
  readonly chip?: Aedat2Chip;
}

const DAVIS_IMU_MASK = 0x80000c00;
const DAVIS_APS_BIT = 0x80000000;
const DAVIS_TYPE_MASK = 0xc00;
const DAVIS_EXTERNAL = 0x400;
const DVS128_SPECIAL_MASK = 0x80008000;
const IMU_WORDS = 7;
const ACCEL_G_PER_LSB = 1 / 8192;
const GYRO_DPS_PER_LSB = 1 / 65.5;

interface ChipModel {
  readonly kind: 'dvs128' | 'davis';
  readonly name: string;
  readonly geometry: Geometry;
}

const CHIPS: Record<string, ChipModel> = {
  dvs128: { kind: 'dvs128', name: 'dvs128', geometry: { width: 128, height: 128 } },
  davis240: { kind: 'davis', name: 'davis240', geometry: { width: 240, height: 180 } },
  davis346: { kind: 'davis', name: 'davis346', geometry: { width: 346, height: 260 } },
  davis640: { kind: 'davis', name: 'davis640', geometry: { width: 640, height: 480 } },
};

/** The chip from the option, else from the `AEChip` header class name, else from the file version. */
function resolveChip(option: Aedat2Chip, aeChip: string | undefined, version: string): { chip: ChipModel; how: string } {
  if (option !== 'auto') {
    const chip = CHIPS[option];
    if (!chip) throw new RangeError(`aedat2: unknown chip '${option}'; use dvs128, davis240, davis346 or auto`);
    return { chip, how: 'option' };
  }
  const c = (aeChip ?? '').toLowerCase();
  if (c.includes('dvs128') || c.includes('tmpdiff128')) return { chip: CHIPS.dvs128!, how: 'AEChip' };
  if (c.includes('346')) return { chip: CHIPS.davis346!, how: 'AEChip' };
  if (c.includes('640')) return { chip: CHIPS.davis640!, how: 'AEChip' };
  if (c.includes('240') || c.includes('sbret10') || c.includes('davis')) return { chip: CHIPS.davis240!, how: 'AEChip' };
  return version === '1.0' ? { chip: CHIPS.dvs128!, how: 'default for AEDAT 1.0' } : { chip: CHIPS.davis240!, how: 'default for AEDAT 2.0' };
}

class Aedat2Decoder implements StreamDecoder {
  readonly format = 'aedat2' as const;
  geometry: Geometry = UNKNOWN_GEOMETRY;
  readonly header: Record<string, string> = {};
  bytesIn = 0;
  readonly failed = false;
  /** 6 (AEDAT 1.0) or 8 (AEDAT 2.0) once the header is read. */
  recordBytes = 0;

  private readonly chipOption: Aedat2Chip;
  private chip: ChipModel = CHIPS.davis240!;
  private inHeader = true;
  /** Header lines start with '#'; the body starts at the first line start that is not '#'. */
  private readonly headerScanner = new HeaderLineScanner(HASH, (line) => this.headerLine(line), MAX_HEADER_LINE_BYTES);
  private version = '1.0';
  private bodyStart = 0;
  private carry = new RecordCarry(8);
  private readonly builder: PacketBuilder;
  private readonly sideData = new SideCollector();
  private bad = new FaultRuns(FORMAT, 8);
  private timeBase = 0;
  private lastTs = 0;
  private ended = false;
  /** IMU sample being assembled: next expected word (0 = none pending), raw values, time, offset. */
  private imuNext = 0;
  private readonly imuRaw = new Int16Array(IMU_WORDS);
  private imuT = 0;
  private imuOffset = 0;

  constructor(options: Aedat2Options = {}) {
    this.chipOption = options.chip ?? 'auto';
    if (this.chipOption !== 'auto' && !CHIPS[this.chipOption]) throw new RangeError(`aedat2: unknown chip '${this.chipOption}'; use dvs128, davis240, davis346 or auto`);
    const source: SourceInfo = { format: FORMAT, uri: options.uri };
    this.builder = new PacketBuilder(UNKNOWN_GEOMETRY, source, options.pool);
  }

  push(chunk: Uint8Array): DecodeResult {
    const start = this.bytesIn;
    this.bytesIn += chunk.length;
    if (this.ended) return NO_RESULT;
    let k = 0;
    if (this.inHeader) {
      k = this.readHeader(chunk, start);
      if (this.inHeader) return NO_RESULT;
    }
    const records = this.carry.join(k === 0 ? chunk : chunk.subarray(k));
    if (records.length === 0) return NO_RESULT;
    const errors: DecodeError[] = [];
    const at = this.bodyStart + this.carry.offset;
    if (this.chip.kind === 'dvs128') this.decodeDvs128(records);
    else this.decodeDavis(records, at, errors);
    this.bad.settle(at + records.length, errors);
    return this.result(errors);
  }

  end(): DecodeResult {
    if (this.ended) return NO_RESULT;
    this.ended = true;
    const errors: DecodeError[] = [];
    this.bad.flush(errors);
    if (this.imuNext > 0) this.brokenImu(errors, `stream ended inside an IMU sample (${this.imuNext} of ${IMU_WORDS} words)`);
    if (this.inHeader && this.bytesIn > 0) {
      errors.push(new DecodeError(FORMAT, this.bytesIn, 'stream ended inside the # header'));
    } else if (this.carry.pending > 0) {
      errors.push(new DecodeError(FORMAT, this.bodyStart + this.carry.pendingOffset, `truncated record: ${this.carry.pending} of ${this.recordBytes} bytes`));
    }
    return this.result(errors);
  }

  private result(errors: DecodeError[]): DecodeResult {
    return decodeResult((this.ended ? this.builder.finish() : this.builder.take()), this.sideData.take(), errors);
  }

  private readHeader(chunk: Uint8Array, chunkStart: number): number {
    const body = this.headerScanner.scan(chunk);
    if (body < 0) return chunk.length;
    this.finishHeader(chunkStart + body);
    return body;
  }

  private headerLine(text: string): void {
    const first = this.headerScanner.lines === 1;
    if (first && text.startsWith(VERSION_2)) this.version = '2.0';
    else if (first && text.startsWith(VERSION_1)) this.version = '1.0';
    // `# Key: value` lines (not the XML preference lines, which start with '<').
    const kv = /^#\s*([A-Za-z][\w-]*)\s*:\s*(.*)$/.exec(text);
    if (kv && this.header[kv[1]!] === undefined) this.header[kv[1]!] = kv[2]!.trim();
  }

  private finishHeader(offset: number): void {
    this.inHeader = false;
    this.bodyStart = offset;
    this.recordBytes = this.version === '2.0' ? 8 : 6;
    this.carry = new RecordCarry(this.recordBytes);
    this.bad = new FaultRuns(FORMAT, this.recordBytes);
    const { chip, how } = resolveChip(this.chipOption, this.header['AEChip'], this.version);
    this.chip = chip;
    this.geometry = chip.geometry;
    this.builder.geometry = chip.geometry;
    this.header['version'] = this.version;
    this.header['chip'] = `${chip.name} (${how})`;
    this.header['header_lines'] = String(this.headerScanner.lines);
  }

  private advanceTime(ts: number): number {
    this.timeBase = unwrapBase(this.timeBase, this.lastTs, ts);
    this.lastTs = ts;
    return this.timeBase + ts;
  }

  // Both record loops write their big-endian reads out: helper functions for them measured ~2x slower.
  private decodeDvs128(bytes: Uint8Array): void {
    const size = this.recordBytes;
    const wide = size === 8;
    const b = this.builder;
    for (let r = 0; r < bytes.length; r += size) {
      const a = wide ? ((bytes[r]! << 24) | (bytes[r + 1]! << 16) | (bytes[r + 2]! << 8) | bytes[r + 3]!) >>> 0 : (bytes[r]! << 8) | bytes[r + 1]!;
      const q = wide ? r + 4 : r + 2;
      const t = this.advanceTime(((bytes[q]! << 24) | (bytes[q + 1]! << 16) | (bytes[q + 2]! << 8) | bytes[q + 3]!) >>> 0);
      if ((a & DVS128_SPECIAL_MASK) !== 0) {
        this.sideData.trigger(t, 0, 1);
        continue;
      }
      b.push(127 - ((a >>> 1) & 0x7f), (a >>> 8) & 0x7f, t, (a & 1) ^ 1);
    }
  }

  private decodeDavis(bytes: Uint8Array, at: number, errors: DecodeError[]): void {
    const size = this.recordBytes;
    const wide = size === 8;
    const b = this.builder;
    const width = this.chip.geometry.width;
    const height = this.chip.geometry.height;
    for (let r = 0; r < bytes.length; r += size) {
      const a = wide ? ((bytes[r]! << 24) | (bytes[r + 1]! << 16) | (bytes[r + 2]! << 8) | bytes[r + 3]!) >>> 0 : (bytes[r]! << 8) | bytes[r + 1]!;
      const q = wide ? r + 4 : r + 2;
      const t = this.advanceTime(((bytes[q]! << 24) | (bytes[q + 1]! << 16) | (bytes[q + 2]! << 8) | bytes[q + 3]!) >>> 0);
      const isImu = ((a & DAVIS_IMU_MASK) >>> 0) === DAVIS_IMU_MASK;
      if (this.imuNext > 0 && !isImu) this.brokenImu(errors, `IMU sample cut short after ${this.imuNext} of ${IMU_WORDS} words`);
      if (isImu) {
        this.imuWord(a, t, at + r, errors);
      } else if ((a & DAVIS_APS_BIT) === 0) {
        if ((a & DAVIS_TYPE_MASK) === DAVIS_EXTERNAL) {
          this.sideData.trigger(t, 0, 1);
          continue;
        }
        const rawX = (a >>> 12) & 0x3ff;
        const y = (a >>> 22) & 0x1ff;
        if (rawX >= width || y >= height) {
          this.bad.note(at + r, `DVS address outside the ${width}x${height} array of the ${this.chip.name}`, errors);
          continue;
        }
        b.push(width - 1 - rawX, y, t, (a >>> 11) & 1);
      } else {
        this.sideData.monitor(t, (a >>> 10) & 3);
      }
    }
  }

  private imuWord(a: number, t: number, offset: number, errors: DecodeError[]): void {
    const code = (a >>> 28) & 7;
    const value = (((a >>> 12) & 0xffff) << 16) >> 16;
    if (code === 0) {
      if (this.imuNext > 0) this.brokenImu(errors, `IMU sample cut short after ${this.imuNext} of ${IMU_WORDS} words`);
      this.imuT = t;
      this.imuOffset = offset;
    } else if (code !== this.imuNext) {
      if (this.imuNext > 0) this.brokenImu(errors, `IMU word of type ${code} where type ${this.imuNext} was expected`);
      else {
        this.bad.flush(errors); // keep errors in offset order
        errors.push(new DecodeError(FORMAT, offset, `IMU word of type ${code} outside a sample`));
      }
      return;
    }
    this.imuRaw[code] = value;
    this.imuNext = code + 1;
    if (this.imuNext === IMU_WORDS) {
      const v = this.imuRaw;
      this.sideData.imuSample(
        this.imuT,
        [-v[0]! * ACCEL_G_PER_LSB, v[1]! * ACCEL_G_PER_LSB, v[2]! * ACCEL_G_PER_LSB],
        [-v[4]! * GYRO_DPS_PER_LSB, v[5]! * GYRO_DPS_PER_LSB, -v[6]! * GYRO_DPS_PER_LSB],
        undefined,
        v[3]! / 340 + 35,
      );
      this.imuNext = 0;
    }
  }

  private brokenImu(errors: DecodeError[], detail: string): void {
    this.bad.flush(errors); // keep errors in offset order
    errors.push(new DecodeError(FORMAT, this.imuOffset, detail));
    this.imuNext = 0;
  }
}

function sniffAedat2(head: Uint8Array): number {
  const first = ascii(head.subarray(0, 16));
  if (first.startsWith(VERSION_2)) return 1;
  // AEDAT 1.0 is also what NAS cochleas write; leave room for the cochlea reader to win on content.
  if (first.startsWith(VERSION_1)) return 0.6;
  return 0;
}

export const aedat2Format: FormatDescriptor = {
  name: 'aedat2',
  description: 'jAER AEDAT 2.0 / 1.0: # header, big-endian [address, timestamp] records (DVS128, DAVIS)',
  extensions: ['.aedat', '.dat'],
  sniff: sniffAedat2,
  createDecoder: (options?: DecoderOptions) => new Aedat2Decoder(options as Aedat2Options),
};
