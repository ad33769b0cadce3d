/**
 * Prophesee RAW EVT 2.1 decoder (64-bit words), OpenEB semantics (evt21_event_types.h, evt21_decoder.h):
 *
 *   canonical 64-bit word: type 63..60, ts_low 59..54, x 53..43, y 42..32, valid mask 31..0
 *   0x0/0x1 EVT_NEG/EVT_POS  one event per set bit b of the mask at (x + b, y), t = base + ts_low,
 *                            in increasing b order (OpenEB loops ctz over the mask)
 *   0x8 TIME_HIGH            ts bits 33..6 in 59..32 (34-bit loop tracking as EVT 2.0)
 *   0xA EXT_TRIGGER          value bit 32, id 44..40                → trigger side batch
 *   0xE OTHERS               subtype 47..32                        → monitor side (subtype as sent)
 *   0xF CONTINUED                                                  → skipped
 *   anything else                                                  → DecodeError per run, decoding goes on
 *
 * Word order on disk (both little-endian u32 halves):
 *   little (OpenEB Evt21Raw, GenX320): first u32 = mask, second u32 = type/ts/x/y.
 *   legacy (Evt21LegacyRaw, IMX636):   first u32 = type/ts/x/y, second u32 = mask.
 * The header decides (see raw-header.ts); option `endianness: 'little' | 'legacy'` overrides it.
 * Words before the first TIME_HIGH are skipped (no time base yet).
 * Option `kernel` ('auto' | 'wasm' | 'js'): 'auto' runs the same word loop compiled to WebAssembly
 * (src/wasm/evt21.as.ts) when it is built, handing it the rare words it leaves to the loop below.
 */

import type { SideCollector } from '../../events/side.js';
import type { DecodeError, DecoderOptions, FormatDescriptor, StreamDecoder } from '../types.js';
import { chooseKernel, decodeInto, type StagingKernel } from '../wasm-kernels.js';
import { sniffRawVersion, type Evt21WordOrder, type RawHeaderInfo } from './raw-header.js';
import { emitStaged, EVT2_LOOP_DROP_US, EVT2_LOOP_US, EvtStreamDecoder, i32View, nextTimeBase, STAGE, type UnknownWordRuns } from './timebase.js';

class Evt21Decoder extends EvtStreamDecoder {
  /** Word order in use (from the header unless the option forces one). */
  endianness: Evt21WordOrder = 'little';
  private readonly forced: Evt21WordOrder | undefined;
  private base = 0;
  private synced = false;
  /** The WASM word loop, or null for the TypeScript loop below (option `kernel`: 'auto' | 'wasm' | 'js'). */
  private readonly kernel: StagingKernel | null;

  constructor(options: DecoderOptions) {
    super('evt21', '2.1', 8, options);
    this.kernel = chooseKernel('evt21', options.kernel);
    this.acceptsUnalignedWords = this.kernel !== null; // the kernel path copies the words anyway
    const e = options['endianness'];
    if (e !== undefined && e !== 'little' && e !== 'legacy') {
      throw new RangeError(`evt21 decoder: option endianness must be 'little' or 'legacy', got ${String(e)}`);
    }
    this.forced = e as Evt21WordOrder | undefined;
    if (this.forced) this.endianness = this.forced;
  }

  protected override onHeader(info: RawHeaderInfo): void {
    this.endianness = this.forced ?? info.endianness;
  }

  protected decodeWords(bytes: Uint8Array, offset: number, errors: DecodeError[]): void {
    if (this.kernel) {
      this.decodeWithKernel(this.kernel, bytes, offset, errors);
      return;
    }
    const words = i32View(bytes);
    const nw = words.length;
    const hi = this.typeHalf();
    let j = this.synced ? 0 : this.sync(words, nw, hi);
    while (j < nw) {
      const count = decodeEvt21Block(words, j, nw, hi, this.base, offset, this.side, this.unknown, errors);
      this.base = blockBase;
      j = blockNext;
      emitStaged(this.builder, SX, SY, ST, SP, count);
    }
  }

  /** Index (0 or 1) of the u32 half holding type/ts/x/y inside each 64-bit word. */
  private typeHalf(): number {
    return this.endianness === 'legacy' ? 0 : 1;
  }

  /** Before the first TIME_HIGH: skip words (no time base yet); returns the u32 index after that TIME_HIGH, or nw. */
  private sync(words: Int32Array, nw: number, hi: number): number {
    let j = 0;
    while (j < nw && words[j + hi]! >>> 28 !== 0x8) j += 2;
    this.wordsBeforeTimeBase += j >>> 1;
    if (j === nw) return nw;
    this.synced = true;
    this.base = (words[j + hi]! & 0x0fffffff) * 64;
    return j + 2;
  }

  /**
   * The same loop in WASM (src/wasm/evt21.as.ts): words are copied into the kernel's memory a slice at
   * a time and decoded into the packet buffer (decodeInto: in place, or through the staging area). The
   * kernel stops at a word it does not decode (triggers, OTHERS, unknown) or when its output area is
   * nearly full; the reference loop decodes that one word (read from the kernel's memory), and the
   * kernel resumes after it.
   */
  private decodeWithKernel(k: StagingKernel, bytes: Uint8Array, offset: number, errors: DecodeError[]): void {
    const n32 = bytes.length >>> 2; // u32 halves
    const words = k.input32;
    const hi = this.typeHalf();
    const s = k.state;
    for (let s0 = 0; s0 < n32; s0 += k.inCapacity) {
      const sn = Math.min(k.inCapacity, n32 - s0); // even: inCapacity and n32 are
      k.input.set(bytes.subarray(s0 * 4, (s0 + sn) * 4));
      const at = offset + 4 * s0; // absolute offset of words[0]
      let j = this.synced ? 0 : this.sync(words, sn, hi);
      s[1] = hi === 0 ? 1 : 0;
      while (j < sn) {
        s[0] = this.base;
        decodeInto(k, this.builder, j >>> 1, sn >>> 1);
        this.base = s[0]!;
        j = 2 * k.stoppedAt();
        if (j < sn) {
          const c = decodeEvt21Block(words, j, j + 2, hi, this.base, at, this.side, this.unknown, errors);
          this.base = blockBase;
          emitStaged(this.builder, SX, SY, ST, SP, c);
          j += 2;
        }
      }
    }
  }
}

// Staging arrays and block outputs: see evt2.ts for why the hot loop writes to module-level arrays
// and hands its state back through module variables.
const SX = new Uint16Array(STAGE);
const SY = new Uint16Array(STAGE);
const ST = new Float64Array(STAGE);
const SP = new Uint8Array(STAGE);
/** A vector word yields at most 32 events: stop a block when fewer than that fit. */
const STAGE_LIMIT = STAGE - 32;
let blockBase = 0;
let blockNext = 0;

/** The hot loop from u32 index j (even) until `end` or the staging arrays are nearly full. Returns events staged. */
function decodeEvt21Block(
  words: Int32Array,
  j: number,
  end: number,
  hi: number,
  base: number,
  offset: number,
  side: SideCollector,
  unknown: UnknownWordRuns,
  errors: DecodeError[],
): number {
  const lo = 1 - hi;
  let n = 0;
  for (; j < end && n <= STAGE_LIMIT; j += 2) {
    const h = words[j + hi]!;
    const type = h >>> 28;
    if (type <= 0x1) {
      const x = (h >>> 11) & 0x7ff;
      const y = h & 0x7ff;
      const t = base + ((h >>> 22) & 0x3f);
      let mask = words[j + lo]!;
      while (mask !== 0) {
        const bit = mask & -mask;
        SX[n] = x + 31 - Math.clz32(bit);
        SY[n] = y;
        ST[n] = t;
        SP[n] = type;
        n++;
        mask ^= bit;
      }
    } else if (type === 0x8) {
      base = nextTimeBase(base, (h & 0x0fffffff) * 64, EVT2_LOOP_US, EVT2_LOOP_DROP_US);
    } else if (type !== 0xf) {
      evt21SideWord(h, type, base, offset + 4 * j, side, unknown, errors);
    }
  }
  blockBase = base;
  blockNext = j;
  return n;
}

/** Words other than CD, TIME_HIGH and CONTINUED (rare, so kept out of the hot loop); `h` is the type-bearing half. */
function evt21SideWord(h: number, type: number, base: number, at: number, side: SideCollector, unknown: UnknownWordRuns, errors: DecodeError[]): void {
  const t = base + ((h >>> 22) & 0x3f);
  switch (type) {
    case 0xa:
      side.trigger(t, (h >>> 8) & 0x1f, h & 1);
      break;
    case 0xe:
      side.monitor(t, h & 0xffff);
      break;
    default:
      unknown.note(at, type, errors);
  }
}

export const evt21Format: FormatDescriptor = {
  name: 'evt21',
  description: 'Prophesee RAW EVT 2.1 (64-bit vector words, little or legacy word order; option endianness overrides the header)',
  extensions: ['.raw'],
  sniff: (head) => (sniffRawVersion(head) === '2.1' ? 1 : 0),
  createDecoder: (options = {}): StreamDecoder => new Evt21Decoder(options),
};
