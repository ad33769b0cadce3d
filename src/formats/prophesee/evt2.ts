/**
 * Prophesee RAW EVT 2.0 decoder (32-bit little-endian words; type in bits 31..28), OpenEB semantics
 * (standalone metavision_evt2_raw_file_decoder + evt2_event_types.h):
 *
 *   0x0/0x1 CD_OFF/CD_ON  y 10..0, x 21..11, ts_low 27..22        → event at t = base + ts_low
 *   0x8 TIME_HIGH         ts bits 33..6 in 27..0                   → base (34-bit loop tracking)
 *   0xA EXT_TRIGGER       value bit0, id 12..8, ts_low 27..22      → trigger side batch
 *   0xD IMU_EVT (+5 CONTINUED)                                    → monitor side, subtype MONITOR_IMU
 *   0xE OTHERS            subtype 15..0, ts_low 27..22             → monitor side (subtype as sent)
 *   0xF CONTINUED                                                  → skipped (belongs to the word before)
 *   anything else                                                  → DecodeError per run, decoding goes on
 *
 * Words before the first TIME_HIGH are skipped (no time base yet). Duplicate CD words are kept.
 *
 * Speed: the word loop is a plain function writing into small module-level staging arrays, copied
 * into packets per block (emitStaged); state goes in and out through arguments and module variables.
 * evt21.ts and evt3.ts use the same layout. Option `kernel` ('auto' | 'wasm' | 'js'): 'auto' runs the
 * same word loop compiled to WebAssembly (src/wasm/evt2.as.ts, SIMD) when it is built, handing it the
 * rare words it leaves to the loop below; the output is the same bit for bit.
 */

import type { SideCollector } from '../../events/side.js';
import type { DecodeError, DecoderOptions, FormatDescriptor, StreamDecoder } from '../types.js';
import { sniffRawVersion } from './raw-header.js';
import { chooseKernel, decodeInto, type StagingKernel } from '../wasm-kernels.js';
import { EVT2_LOOP_DROP_US, EVT2_LOOP_US, emitStaged, EvtStreamDecoder, i32View, MONITOR_IMU, nextTimeBase, STAGE, type UnknownWordRuns } from './timebase.js';

class Evt2Decoder extends EvtStreamDecoder {
  /** Current time base (µs, loops included); valid once `synced`. */
  private base = 0;
  private synced = false;

  /** The WASM word loop, or null for the TypeScript loop below (option `kernel`: 'auto' | 'wasm' | 'js'). */
  private readonly kernel: StagingKernel | null;

  constructor(options: DecoderOptions) {
    super('evt2', '2.0', 4, options);
    this.kernel = chooseKernel('evt2', options.kernel);
    this.acceptsUnalignedWords = this.kernel !== null; // the kernel path copies the words anyway
  }

  protected decodeWords(bytes: Uint8Array, offset: number, errors: DecodeError[]): void {
    if (this.kernel) {
      this.decodeWithKernel(this.kernel, bytes, offset, errors);
      return;
    }
    const words = i32View(bytes);
    const nw = words.length;
    let i = this.synced ? 0 : this.sync(words, nw);
    while (i < nw) {
      // At most one event per word: a block of STAGE words cannot overflow the staging arrays.
      const end = Math.min(nw, i + STAGE);
      const count = decodeEvt2Block(words, i, end, this.base, offset, this.side, this.unknown, errors);
      this.base = blockBase;
      emitStaged(this.builder, SX, SY, ST, SP, count);
      i = end;
    }
  }

  /** Before the first TIME_HIGH: skip words (no time base yet); returns the index after that TIME_HIGH, or nw. */
  private sync(words: Int32Array, nw: number): number {
    let i = 0;
    while (i < nw && words[i]! >>> 28 !== 0x8) i++;
    this.wordsBeforeTimeBase += i;
    if (i === nw) return nw;
    this.synced = true;
    this.base = (words[i]! & 0x0fffffff) * 64;
    return i + 1;
  }

  /**
   * The same loop in WASM (src/wasm/evt2.as.ts): words are copied into the kernel's memory a slice at
   * a time and decoded into the packet buffer (decodeInto: in place, or through the staging area); the
   * kernel decodes CD, TIME_HIGH and CONTINUED words and stops at any other word, which
   * the reference loop below decodes (that one word, read from the kernel's memory), then the kernel
   * resumes after it.
   */
  private decodeWithKernel(k: StagingKernel, bytes: Uint8Array, offset: number, errors: DecodeError[]): void {
    const nw = bytes.length >>> 2;
    const words = k.input32;
    const state = k.state;
    for (let s0 = 0; s0 < nw; s0 += k.inCapacity) {
      const sn = Math.min(k.inCapacity, nw - s0);
      k.input.set(bytes.subarray(s0 * 4, (s0 + sn) * 4));
      const at = offset + 4 * s0; // absolute offset of words[0]
      let i = this.synced ? 0 : this.sync(words, sn);
      while (i < sn) {
        state[0] = this.base;
        const end = decodeInto(k, this.builder, i, sn);
        this.base = state[0]!;
        i = k.stoppedAt();
        if (i < end) {
          const c = decodeEvt2Block(words, i, i + 1, this.base, at, this.side, this.unknown, errors);
          this.base = blockBase;
          emitStaged(this.builder, SX, SY, ST, SP, c);
          i++;
        }
      }
    }
  }
}

// Staging arrays: the hot loop writes here, then whole blocks are copied into packets. Small fixed
// arrays that V8 sees as constants (and that stay in cache) make the loop about twice as fast as
// writing into each packet's arrays passed as arguments.
const SX = new Uint16Array(STAGE);
const SY = new Uint16Array(STAGE);
const ST = new Float64Array(STAGE);
const SP = new Uint8Array(STAGE);
/**
 * Time base at the end of the last decodeEvt2Block call. A module variable rather than a property:
 * V8 reuses the on-stack-replaced code of a hot loop, and a property store after the loop that had no
 * type feedback when that code was compiled would deoptimise it on every call.
 */
let blockBase = 0;

/** The hot loop over words [i, end) (at most STAGE): stages their events and returns how many. */
function decodeEvt2Block(
  words: Int32Array,
  i: number,
  end: number,
  base: number,
  offset: number,
  side: SideCollector,
  unknown: UnknownWordRuns,
  errors: DecodeError[],
): number {
  let n = 0;
  for (; i < end; i++) {
    const w = words[i]!;
    const type = w >>> 28;
    if (type <= 0x1) {
      SX[n] = (w >>> 11) & 0x7ff;
      SY[n] = w & 0x7ff;
      ST[n] = base + ((w >>> 22) & 0x3f);
      SP[n] = type;
      n++;
    } else if (type === 0x8) {
      base = nextTimeBase(base, (w & 0x0fffffff) * 64, EVT2_LOOP_US, EVT2_LOOP_DROP_US);
    } else if (type !== 0xf) {
      evt2SideWord(w, type, base, offset + 4 * i, side, unknown, errors);
    }
  }
  blockBase = base;
  return n;
}

/** Words other than CD, TIME_HIGH and CONTINUED (rare, so kept out of the hot loop). */
function evt2SideWord(w: number, type: number, base: number, at: number, side: SideCollector, unknown: UnknownWordRuns, errors: DecodeError[]): void {
  const t = base + ((w >>> 22) & 0x3f);
  switch (type) {
    case 0xa:
      side.trigger(t, (w >>> 8) & 0x1f, w & 1);
      break;
    case 0xe:
      side.monitor(t, w & 0xffff);
      break;
    case 0xd:
      side.monitor(t, MONITOR_IMU);
      break;
    default:
      unknown.note(at, type, errors);
  }
}

export const evt2Format: FormatDescriptor = {
  name: 'evt2',
  description: 'Prophesee RAW EVT 2.0 (32-bit words: CD events, 34-bit time base, triggers, monitoring)',
  extensions: ['.raw'],
  sniff: (head) => (sniffRawVersion(head) === '2.0' ? 1 : 0),
  createDecoder: (options = {}): StreamDecoder => new Evt2Decoder(options),
};
