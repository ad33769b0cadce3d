/**
 * Prophesee RAW EVT 3.0: decoder and encoder (16-bit little-endian words, stateful; type in bits 15..12).
 *
 * Decoding follows OpenEB's standalone metavision_evt3_raw_file_decoder.cpp word by word:
 *   0x0 ADDR_Y (CD)   y = bits 10..0; CD mode on
 *   0x1 EM_Y          EM mode: following ADDR_X/vectors are not CD events (counted: monitor MONITOR_EM_ROW)
 *   0x2 ADDR_X        one event (x 10..0, p bit 11) at the current y and time
 *   0x3 VECT_BASE_X   base x 10..0 and polarity bit 11 for the vectors; emits nothing
 *   0x4 VECT_12       events at base + i for set bits i of 11..0; then base += 12
 *   0x5 VECT_8        events at base + i for set bits i of 7..0;  then base += 8
 *   0x6 TIME_LOW      time = base time + bits 11..0
 *   0x8 TIME_HIGH     base time = bits 11..0 << 12 (+ loops); time = base time
 *   0x7/0xF CONTINUED skipped (extra data of the word before)
 *   0xA EXT_TRIGGER   value bit 0, id 11..8 → trigger side batch
 *   0xD IMU, 0xE OTHERS → monitor side batch (OTHERS with its 12-bit subtype)
 *   0x9/0xB/0xC       unknown: DecodeError per run, decoding goes on
 * Time: only TIME_HIGH advances the time base. TIME_LOW may step back under one TIME_HIGH (several
 * event sources) and is never taken as an overflow. The 24-bit counter loop is detected on TIME_HIGH
 * (timebase.ts). Words before the first TIME_HIGH are skipped.
 * Option `kernel` ('auto' | 'wasm' | 'js'): 'auto' runs the same word loop compiled to WebAssembly
 * (src/wasm/evt3.as.ts) when it is built, handing it the rare words it leaves to the loop below.
 *
 * Encoding (createEncoder): a new-style header (`% evt 3.0`, `% format EVT3;height=H;width=W`,
 * `% geometry WxH`, `% end`), then TIME_HIGH / TIME_LOW only when the time changes, ADDR_Y when y
 * changes, and for each run of events with the same t, y, p and strictly increasing x either ADDR_X
 * words or VECT_BASE_X + VECT_12/VECT_8 words, whichever is shorter; decoding gives back the same
 * events in the same order. Timestamps must be non-decreasing integers ≥ 0 (after `timeOffset`):
 * anything else is rejected with an error (sort first) — never reordered silently. Crossing a 2^24 µs
 * loop emits TIME_HIGH 4095 then TIME_HIGH 0 (once per loop), which OpenEB's loop detection counts.
 */

import type { EventPacket, Geometry } from '../../events/packet.js';
import { sideCount, type SideBatch, type SideCollector } from '../../events/side.js';
import { IS_LITTLE_ENDIAN } from '../bytes.js';
import type { DecodeError, DecoderOptions, EncoderOptions, FormatDescriptor, StreamDecoder, StreamEncoder } from '../types.js';
import { chooseKernel, decodeInto, type StagingKernel } from '../wasm-kernels.js';
import { sniffRawVersion } from './raw-header.js';
import {
  emitStaged,
  EVT3_LOOP_DROP_US,
  EVT3_LOOP_US,
  EvtStreamDecoder,
  MONITOR_EM_ROW,
  MONITOR_IMU,
  nextTimeBase,
  STAGE,
  type UnknownWordRuns,
} from './timebase.js';

// ---------------------------------------------------------------------------------------------
// Decoder

class Evt3Decoder extends EvtStreamDecoder {
  private synced = false;
  /** Decoder state carried across chunks (OpenEB's current_time_base, current_time, y, x base, polarity, CD mode). */
  private base = 0;
  private time = 0;
  private y = 0;
  private xBase = 0;
  private polarity = 0;
  private cd = 1;
  /** The WASM word loop, or null for the TypeScript loop below (option `kernel`: 'auto' | 'wasm' | 'js'). */
  private readonly kernel: StagingKernel | null;

  constructor(options: DecoderOptions) {
    super('evt3', '3.0', 2, options);
    this.kernel = chooseKernel('evt3', options.kernel);
    this.acceptsUnalignedWords = this.kernel !== null; // the kernel path copies the words anyway
  }

  protected decodeWords(bytes: Uint8Array, offset: number, errors: DecodeError[]): void {
    if (this.kernel) {
      this.decodeWithKernel(this.kernel, bytes, offset, errors);
      return;
    }
    const words = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 1);
    const nw = words.length;
    let i = this.synced ? 0 : this.sync(words, nw);
    while (i < nw) {
      const count = decodeEvt3Block(words, i, nw, this.base, this.time, this.y, this.xBase, this.polarity, this.cd, offset, this.side, this.unknown, errors);
      this.saveBlockState();
      i = outNext;
      emitStaged(this.builder, SX, SY, ST, SP, count);
    }
  }

  /** Before the first TIME_HIGH: skip words (no time base yet); returns the index after that TIME_HIGH, or nw. */
  private sync(words: Uint16Array, nw: number): number {
    let i = 0;
    while (i < nw && words[i]! >>> 12 !== 0x8) i++;
    this.wordsBeforeTimeBase += i;
    if (i === nw) return nw;
    this.synced = true;
    this.base = (words[i]! & 0xfff) << 12;
    this.time = this.base;
    return i + 1;
  }

  /** The decoder state after a decodeEvt3Block call. */
  private saveBlockState(): void {
    this.base = outBase;
    this.time = outTime;
    this.y = outY;
    this.xBase = outXBase;
    this.polarity = outPolarity;
    this.cd = outCd;
  }

  /**
   * The same loop in WASM (src/wasm/evt3.as.ts): words are copied into the kernel's memory a slice at
   * a time and decoded into the packet buffer (decodeInto: in place, or through the staging area). The
   * kernel stops at a word it does not decode (EM_Y, triggers, IMU, OTHERS, unknown) or when its output
   * area is nearly full; the reference loop decodes that one word (read from the kernel's memory), and
   * the kernel resumes after it. The state travels in and out through the kernel's state slots.
   */
  private decodeWithKernel(k: StagingKernel, bytes: Uint8Array, offset: number, errors: DecodeError[]): void {
    const nw = bytes.length >>> 1;
    const perSlice = k.inCapacity * 2;
    const words = k.input16;
    const s = k.state;
    for (let s0 = 0; s0 < nw; s0 += perSlice) {
      const sn = Math.min(perSlice, nw - s0);
      k.input.set(bytes.subarray(s0 * 2, (s0 + sn) * 2));
      const at = offset + 2 * s0; // absolute offset of words[0]
      let i = this.synced ? 0 : this.sync(words, sn);
      if (i === sn) continue;
      s[0] = this.base;
      s[1] = this.time;
      s[2] = this.y;
      s[3] = this.xBase;
      s[4] = this.polarity;
      s[5] = this.cd;
      while (i < sn) {
        decodeInto(k, this.builder, i, sn);
        i = k.stoppedAt();
        if (i < sn) {
          const c = decodeEvt3Block(words, i, i + 1, s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, at, this.side, this.unknown, errors);
          emitStaged(this.builder, SX, SY, ST, SP, c);
          s[0] = outBase;
          s[1] = outTime;
          s[2] = outY;
          s[3] = outXBase;
          s[4] = outPolarity;
          s[5] = outCd;
          i++;
        }
      }
      this.base = s[0]!;
      this.time = s[1]!;
      this.y = s[2]!;
      this.xBase = s[3]!;
      this.polarity = s[4]!;
      this.cd = s[5]!;
    }
  }
}

// Staging arrays and block outputs: see evt2.ts for why the hot loop writes to module-level arrays
// and hands its state back through module variables.
const SX = new Uint16Array(STAGE);
const SY = new Uint16Array(STAGE);
const ST = new Float64Array(STAGE);
const SP = new Uint8Array(STAGE);
/** A VECT_12 word yields at most 12 events: stop a block when fewer than that fit. */
const STAGE_LIMIT = STAGE - 12;
let outBase = 0;
let outTime = 0;
let outY = 0;
let outXBase = 0;
let outPolarity = 0;
let outCd = 1;
let outNext = 0;

/** The hot loop from word i until `end` or the staging arrays are nearly full. Returns events staged. */
function decodeEvt3Block(
  words: Uint16Array,
  i: number,
  end: number,
  base: number,
  time: number,
  y: number,
  xBase: number,
  polarity: number,
  cd: number,
  offset: number,
  side: SideCollector,
  unknown: UnknownWordRuns,
  errors: DecodeError[],
): number {
  let n = 0;
  for (; i < end && n <= STAGE_LIMIT; i++) {
    const w = words[i]!;
    const type = w >>> 12;
    if (type === 0x2) {
      if (cd !== 0) {
        SX[n] = w & 0x7ff;
        SY[n] = y;
        ST[n] = time;
        SP[n] = (w >>> 11) & 1;
        n++;
      }
    } else if (type === 0x0) {
      y = w & 0x7ff;
      cd = 1;
    } else if (type === 0x4 || type === 0x5) {
      // VECT_12 (12 valid bits) or VECT_8 (8 valid bits): events in increasing x.
      let valid = type === 0x4 ? w & 0xfff : w & 0xff;
      if (cd !== 0) {
        while (valid !== 0) {
          const bit = valid & -valid;
          SX[n] = xBase + 31 - Math.clz32(bit);
          SY[n] = y;
          ST[n] = time;
          SP[n] = polarity;
          n++;
          valid ^= bit;
        }
      }
      xBase = (xBase + (type === 0x4 ? 12 : 8)) & 0xffff;
    } else if (type === 0x3) {
      xBase = w & 0x7ff;
      polarity = (w >>> 11) & 1;
    } else if (type === 0x6) {
      time = base + (w & 0xfff);
    } else if (type === 0x8) {
      base = nextTimeBase(base, (w & 0xfff) << 12, EVT3_LOOP_US, EVT3_LOOP_DROP_US);
      time = base;
    } else if (type === 0x1) {
      cd = 0;
      side.monitor(time, MONITOR_EM_ROW);
    } else if (type !== 0x7 && type !== 0xf) {
      evt3SideWord(w, type, time, offset + 2 * i, side, unknown, errors);
    }
  }
  outBase = base;
  outTime = time;
  outY = y;
  outXBase = xBase;
  outPolarity = polarity;
  outCd = cd;
  outNext = i;
  return n;
}

/** EXT_TRIGGER, IMU, OTHERS and unknown words (rare, so kept out of the hot loop). */
function evt3SideWord(w: number, type: number, time: number, at: number, side: SideCollector, unknown: UnknownWordRuns, errors: DecodeError[]): void {
  switch (type) {
    case 0xa:
      side.trigger(time, (w >>> 8) & 0xf, w & 1);
      break;
    case 0xe:
      side.monitor(time, w & 0xfff);
      break;
    case 0xd:
      side.monitor(time, MONITOR_IMU);
      break;
    default:
      unknown.note(at, type, errors);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoder

const TIME_HIGH = 0x8000;
const TIME_LOW = 0x6000;
const ADDR_Y = 0x0000;
const ADDR_X = 0x2000;
const VECT_BASE_X = 0x3000;
const VECT_12 = 0x4000;
const VECT_8 = 0x5000;
const EXT_TRIGGER = 0xa000;
const MAX_HIGH = 0xfff;
/** Loops (2^24 µs each, 2 words) one encode may have to step through before the input is called absurd. */
const MAX_LOOP_STEPS = 1 << 20;
/** A run needs this many events inside 12 columns before VECT_BASE_X + vector beats single ADDR_X words. */
const MIN_VECTOR_RUN = 3;

class Evt3Encoder implements StreamEncoder {
  readonly format = 'evt3' as const;
  droppedSide = 0;
  private readonly timeOffset: number;
  private geometry: Geometry | undefined;
  private headerWritten = false;
  private ended = false;
  // What a decoder knows after the words written so far.
  /** Loops counted by the decoder; -1 before the first TIME_HIGH. */
  private loop = -1;
  private high = 0;
  private low = 0;
  /** Current time (µs, after timeOffset); -1 before the first word. */
  private time = -1;
  private y = -1;
  /** Vector base x (as the decoder advances it) and its polarity; -1 when none was set. */
  private xBase = -1;
  private xPolarity = 0;
  // Output of the current call.
  private out = new Uint16Array(0);
  private len = 0;

  constructor(options: EncoderOptions) {
    this.geometry = options.geometry;
    const offset = options['timeOffset'] ?? 0;
    if (typeof offset !== 'number' || !Number.isFinite(offset)) throw new RangeError(`evt3 encoder: timeOffset must be a finite number of µs, got ${String(offset)}`);
    this.timeOffset = offset;
  }

  encode(packet: EventPacket): Uint8Array {
    if (this.ended) throw new Error('evt3 encoder: encode() after end()');
    if (!this.geometry && packet.geometry.width > 0 && packet.geometry.height > 0) this.geometry = packet.geometry;
    const loopSteps = this.validate(packet);
    const n = packet.length;
    this.begin(5 * n + 2 * loopSteps + 8);
    const { x: X, y: Y, t: T, p: P } = packet;
    const off = this.timeOffset;
    let i = 0;
    while (i < n) {
      const t = T[i]! - off;
      const y = Y[i]!;
      const p = P[i]! !== 0 ? 1 : 0;
      if (t !== this.time) this.setTime(t);
      if (y !== this.y) {
        this.out[this.len++] = ADDR_Y | y;
        this.y = y;
      }
      // A run: same t, y, p and strictly increasing x — what ADDR_X and vector words can carry in order.
      let end = i + 1;
      while (end < n && T[end]! - off === t && Y[end] === y && (P[end]! !== 0 ? 1 : 0) === p && X[end]! > X[end - 1]!) end++;
      this.encodeRun(X, i, end, p);
      i = end;
    }
    return this.finish();
  }

  encodeSide(batch: SideBatch): Uint8Array {
    if (this.ended) throw new Error('evt3 encoder: encodeSide() after end()');
    if (batch.kind !== 'trigger') {
      this.droppedSide += sideCount(batch);
      this.begin(0);
      return this.finish();
    }
    this.begin(8 + 3 * batch.length);
    for (let i = 0; i < batch.length; i++) {
      const t = batch.t[i]! - this.timeOffset;
      const id = batch.id[i]!;
      // EVT3 triggers carry a 4-bit id and must not go back in time (they share the event clock).
      if (!Number.isInteger(t) || t < Math.max(this.time, 0) || id > 0xf || this.loopStepsTo(t) > MAX_LOOP_STEPS) {
        this.droppedSide++;
        continue;
      }
      if (this.len + 2 * this.loopStepsTo(t) + 4 > this.out.length) this.grow(2 * this.loopStepsTo(t) + 4);
      if (t !== this.time) this.setTime(t);
      this.out[this.len++] = EXT_TRIGGER | (id << 8) | (batch.value[i]! !== 0 ? 1 : 0);
    }
    return this.finish();
  }

  end(): Uint8Array {
    if (this.ended) return new Uint8Array(0);
    this.begin(0);
    this.ended = true;
    return this.finish();
  }

  /** Check the whole packet before writing anything; returns the loop steps it needs. */
  private validate(packet: EventPacket): number {
    const { x: X, y: Y, t: T } = packet;
    const off = this.timeOffset;
    let prev = Math.max(this.time, 0);
    for (let i = 0; i < packet.length; i++) {
      const t = T[i]! - off;
      if (!Number.isInteger(t) || t < 0) {
        throw new RangeError(`evt3 encoder: event ${i} of the packet has t = ${T[i]} µs${off ? ` (timeOffset ${off})` : ''}; EVT3 needs integer µs ≥ 0`);
      }
      if (t < prev) {
        throw new RangeError(`evt3 encoder: event ${i} of the packet has t = ${T[i]} µs, earlier than the event before it (${prev + off} µs); EVT3 needs non-decreasing timestamps: sort the events first`);
      }
      if (X[i]! > 2047 || Y[i]! > 2047) {
        throw new RangeError(`evt3 encoder: event ${i} at (${X[i]}, ${Y[i]}) is outside EVT3's 11-bit coordinates (0..2047)`);
      }
      prev = t;
    }
    if (packet.length === 0) return 0;
    const steps = this.loopStepsTo(T[packet.length - 1]! - off);
    if (steps > MAX_LOOP_STEPS) {
      throw new RangeError(
        `evt3 encoder: t = ${T[packet.length - 1]} µs needs ${steps} TIME_HIGH loops of 2^24 µs to reach; ` +
          `pass the encoder option timeOffset (e.g. the first event's time) for absolute clocks such as Unix time`,
      );
    }
    return steps;
  }

  /** 2^24 µs loops a decoder must be stepped through to reach time t (counting the first TIME_HIGH's). */
  private loopStepsTo(t: number): number {
    return Math.floor(t / EVT3_LOOP_US) - Math.max(this.loop, 0);
  }

  /** Emit the TIME_HIGH / TIME_LOW words that bring a decoder to time t (t ≥ current time). */
  private setTime(t: number): void {
    const out = this.out;
    const loop = Math.floor(t / EVT3_LOOP_US);
    const within = t - loop * EVT3_LOOP_US;
    const high = within >>> 12;
    const low = within & 0xfff;
    if (this.loop < 0) {
      // The first TIME_HIGH starts loop 0; a later start steps through loops from TIME_HIGH 4095.
      this.high = loop === 0 ? high : MAX_HIGH;
      out[this.len++] = TIME_HIGH | this.high;
      this.loop = 0;
      this.low = 0;
    }
    while (this.loop < loop) {
      // A TIME_HIGH falling from 4095 to 0 is a loop for OpenEB (drop ≥ 2^24 − 2^12 − 10·2^12).
      if (this.high !== MAX_HIGH) out[this.len++] = TIME_HIGH | MAX_HIGH;
      out[this.len++] = TIME_HIGH;
      this.loop++;
      this.high = 0;
      this.low = 0;
    }
    if (high !== this.high) {
      out[this.len++] = TIME_HIGH | high;
      this.high = high;
      this.low = 0;
    }
    if (low !== this.low) {
      out[this.len++] = TIME_LOW | low;
      this.low = low;
    }
    this.time = t;
  }

  /** Events [i, end) share t, y and p and have strictly increasing x. */
  private encodeRun(X: Uint16Array, i: number, end: number, p: number): void {
    const out = this.out;
    while (i < end) {
      const x = X[i]!;
      const base = this.xBase;
      if (!(base >= 0 && this.xPolarity === p && x >= base && x < base + 12)) {
        let k = i + 1;
        while (k < end && X[k]! < x + 12) k++;
        if (k - i < MIN_VECTOR_RUN) {
          out[this.len++] = ADDR_X | (p << 11) | x;
          i++;
          continue;
        }
        out[this.len++] = VECT_BASE_X | (p << 11) | x;
        this.xBase = x;
        this.xPolarity = p;
      }
      // One vector word from the current base: VECT_8 when the events fit in 8 columns (the base
      // then advances less, so the next window starts nearer), else VECT_12.
      const from = this.xBase;
      let valid = 0;
      let last = 0;
      while (i < end && X[i]! < from + 12) {
        last = X[i]! - from;
        valid |= 1 << last;
        i++;
      }
      if (last < 8) {
        out[this.len++] = VECT_8 | valid;
        this.xBase = from + 8;
      } else {
        out[this.len++] = VECT_12 | valid;
        this.xBase = from + 12;
      }
    }
  }

  /** Start a call's output with room for `words` words (the header, if due, is added by finish). */
  private begin(words: number): void {
    this.out = new Uint16Array(words);
    this.len = 0;
  }

  private grow(extra: number): void {
    const bigger = new Uint16Array(this.out.length * 2 + extra);
    bigger.set(this.out.subarray(0, this.len));
    this.out = bigger;
  }

  /** This call's bytes: the header first if it has not been written yet. */
  private finish(): Uint8Array {
    const words = this.out.subarray(0, this.len);
    if (!IS_LITTLE_ENDIAN) for (let i = 0; i < words.length; i++) words[i] = ((words[i]! & 0xff) << 8) | (words[i]! >>> 8);
    const body = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
    this.out = new Uint16Array(0);
    this.len = 0;
    if (this.headerWritten) return body;
    this.headerWritten = true;
    const header = new TextEncoder().encode(evt3Header(this.geometry));
    const all = new Uint8Array(header.length + body.length);
    all.set(header, 0);
    all.set(body, header.length);
    return all;
  }
}

/** The new-style RAW header this encoder writes (geometry lines only when the geometry is known). */
export function evt3Header(geometry: Geometry | undefined): string {
  const known = geometry && geometry.width > 0 && geometry.height > 0;
  return (
    '% evt 3.0\n' +
    (known ? `% format EVT3;height=${geometry.height};width=${geometry.width}\n% geometry ${geometry.width}x${geometry.height}\n` : '% format EVT3\n') +
    '% end\n'
  );
}

export const evt3Format: FormatDescriptor = {
  name: 'evt3',
  description: 'Prophesee RAW EVT 3.0 (16-bit stateful words with vectors; read and write)',
  extensions: ['.raw'],
  sniff: (head) => (sniffRawVersion(head) === '3.0' ? 1 : 0),
  createDecoder: (options = {}): StreamDecoder => new Evt3Decoder(options),
  createEncoder: (options = {}): StreamEncoder => new Evt3Encoder(options),
};
