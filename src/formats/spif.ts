/**
 * SPIF / AEStream UDP event words: a pure codec between event packets and UDP datagrams (no sockets here;
 * adapters/udp-source.ts and adapters/udp-sender.ts do the I/O).
 *
 * Word layout (SpiNNakerManchester/spif README; aestream dvs_to_udp.cpp), one u32 per event, host order
 * = little-endian on every platform spikeflow runs on:
 *   bit 31      timestamp flag: 0 = a u32 timestamp word follows the event word, 1 = no timestamp
 *   bits 30..16 x (15 bits)
 *   bit 15      polarity (1 = ON)
 *   bits 14..0  y (15 bits)
 * so a datagram holds 4-byte events (no timestamps) or 8-byte event+timestamp pairs. The timestamp word is
 * the event time in µs modulo 2^32; the decoder unwraps it (a drop of more than 2^31 counts as one wrap) and
 * adds `timeBase`. Without timestamps the receiver stamps every event of a datagram with the datagram's
 * arrival time (µs, supplied by the caller). aestream sends at most 512 bytes per datagram (128 events).
 *
 * Loss detection. SPIF carries no sequence number, so on plain SPIF only malformed datagrams (a length
 * that is not a whole number of words, or an event flagged "timestamp follows" as the last word) can be
 * detected. spikeflow defines an OPTIONAL extension the sender may enable: the first word of every
 * datagram is a sequence word
 *   bits 31..16 = SEQUENCE_MARKER (0xFFFF by default, configurable), bits 15..0 = sequence number mod 2^16.
 * As an event word it would read "no timestamp, x = 32767" — a column no sensor has (SPIF allows 15-bit
 * x, the largest sensors are 1280 wide), so the marker's x value is reserved: the encoder refuses events at
 * x = marker & 0x7FFF (counted in `outOfRange`). The decoder counts gaps as `lost` datagrams; a datagram
 * that arrives after its successors is counted `late` (its gap was already counted lost), and a jump back
 * of more than LATE_WINDOW numbers is taken as a restarted sender (`resyncs`). More than 32,767 datagrams
 * lost in a row cannot be told from a late one (16-bit numbers).
 */

import { UNKNOWN_GEOMETRY, packetOf, type EventPacket, type Geometry, type SourceInfo } from '../events/packet.js';
import { u32View } from './bytes.js';
import { DecodeError } from './types.js';

export const SPIF_FORMAT = 'udp-spif';
/** aestream's UDP_max_bytesize. */
export const DEFAULT_MAX_DATAGRAM_BYTES = 512;
export const DEFAULT_SEQUENCE_MARKER = 0xffff;
const TIMESTAMP_ABSENT = 0x80000000;
const FIELD_MASK = 0x7fff;
const POLARITY_BIT = 0x8000;
const WRAP = 4294967296;
const HALF_WRAP = 2147483648;
/** A sequence number at most this far behind the newest one is a late datagram, further back a restart. */
const LATE_WINDOW = 1024;

export interface SpifEncoderOptions {
  /** Follow every event word with a u32 timestamp word (8 B/event). Default false (4 B/event). */
  readonly timestamps?: boolean;
  /** Largest datagram in bytes (default 512 like aestream; at most 65,507 for IPv4 UDP). */
  readonly maxDatagramBytes?: number;
  /** Prefix every datagram with a spikeflow sequence word (see the file comment). Default false. */
  readonly sequence?: boolean;
  /** Upper 16 bits of the sequence word; must have bit 15 set (it reads as "no timestamp"). */
  readonly sequenceMarker?: number;
  /** Subtracted from event times before they are cut to 32 bits (e.g. the first time of an AEDAT4 file). */
  readonly timeBase?: number;
}

export interface SpifEncoderStats {
  datagrams: number;
  events: number;
  /** Events not sent: x or y above 15 bits, or x on the reserved sequence-marker column. */
  outOfRange: number;
}

/** Packets → datagrams. Keeps the sequence counter across calls. */
export class SpifEncoder {
  readonly timestamps: boolean;
  readonly sequence: boolean;
  readonly maxDatagramBytes: number;
  /** Events that fit in one datagram. */
  readonly eventsPerDatagram: number;
  readonly stats: SpifEncoderStats = { datagrams: 0, events: 0, outOfRange: 0 };
  private readonly markerWord: number;
  private readonly reservedX: number;
  private readonly timeBase: number;
  private nextSequence = 0;

  constructor(options: SpifEncoderOptions = {}) {
    this.timestamps = options.timestamps ?? false;
    this.sequence = options.sequence ?? false;
    this.maxDatagramBytes = options.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM_BYTES;
    this.timeBase = options.timeBase ?? 0;
    const marker = checkMarker(options.sequenceMarker ?? DEFAULT_SEQUENCE_MARKER);
    this.markerWord = (marker << 16) >>> 0;
    this.reservedX = this.sequence ? marker & FIELD_MASK : -1;
    const words = Math.floor(this.maxDatagramBytes / 4) - (this.sequence ? 1 : 0);
    this.eventsPerDatagram = this.timestamps ? words >>> 1 : words;
    if (!(this.eventsPerDatagram >= 1) || this.maxDatagramBytes > 65507) {
      throw new RangeError(`spif: maxDatagramBytes ${this.maxDatagramBytes} cannot hold one event (timestamps ${this.timestamps}, sequence ${this.sequence}) or exceeds 65507`);
    }
  }

  /**
   * The datagrams for one packet, as views into one fresh buffer (safe to keep). Events that do not fit
   * the 15-bit fields are skipped and counted. An empty packet gives no datagram.
   */
  encode(packet: EventPacket): Uint8Array[] {
    const n = packet.length;
    if (n === 0) return [];
    const perEvent = this.timestamps ? 2 : 1;
    const head = this.sequence ? 1 : 0;
    const maxWords = n * perEvent + Math.ceil(n / this.eventsPerDatagram) * head;
    const words = new Uint32Array(maxWords);
    const { x: X, y: Y, t: T, p: P } = packet;
    const per = this.eventsPerDatagram;
    const ts = this.timestamps;
    const reservedX = this.reservedX;
    const bounds: number[] = [0];
    let w = 0;
    let inDatagram = 0;
    let skipped = 0;
    for (let i = 0; i < n; i++) {
      const x = X[i]!;
      const y = Y[i]!;
      if (x > FIELD_MASK || y > FIELD_MASK || x === reservedX) {
        skipped++;
        continue;
      }
      if (inDatagram === 0 && head) {
        words[w++] = (this.markerWord | (this.nextSequence & 0xffff)) >>> 0;
        this.nextSequence = (this.nextSequence + 1) & 0xffff;
      }
      const word = (x << 16) | (P[i]! ? POLARITY_BIT : 0) | y;
      if (ts) {
        words[w++] = word;
        const rel = T[i]! - this.timeBase;
        words[w++] = rel - Math.floor(rel / WRAP) * WRAP;
      } else {
        words[w++] = (word | TIMESTAMP_ABSENT) >>> 0;
      }
      if (++inDatagram === per) {
        bounds.push(w);
        inDatagram = 0;
      }
    }
    if (inDatagram > 0) bounds.push(w);
    const bytes = new Uint8Array(words.buffer);
    const out: Uint8Array[] = [];
    for (let k = 1; k < bounds.length; k++) out.push(bytes.subarray(bounds[k - 1]! * 4, bounds[k]! * 4));
    this.stats.datagrams += out.length;
    this.stats.events += n - skipped;
    this.stats.outOfRange += skipped;
    return out;
  }
}

export interface SpifDecoderOptions {
  /**
   * 'auto' (default): honour bit 31 of every event word. true: every event is followed by a timestamp
   * word whatever its flag. false: every word is an event, the flag is ignored (aestream's receiver).
   */
  readonly timestamps?: boolean | 'auto';
  /** 'auto' (default): a first word carrying the marker is a sequence word. true: always; false: never. */
  readonly sequence?: boolean | 'auto';
  readonly sequenceMarker?: number;
  /** Added to the unwrapped 32-bit timestamps. */
  readonly timeBase?: number;
  readonly geometry?: Geometry;
  readonly uri?: string;
}

export interface SpifDecoderStats {
  datagrams: number;
  bytes: number;
  events: number;
  /** Datagrams missing from the sequence (extension only). */
  lost: number;
  /** Datagrams that arrived after a later one (extension only). */
  late: number;
  /** Sequence restarts (a jump back beyond the late window). */
  resyncs: number;
  /** Datagrams that carried the sequence word. */
  sequenced: number;
  /** Datagrams whose length is not whole words or whose last event lacks its timestamp word. */
  malformed: number;
}

export interface SpifDecodeResult {
  readonly packet: EventPacket;
  readonly errors: DecodeError[];
}

/** Datagrams → packets. Keeps the timestamp unwrapping and the sequence state across calls. */
export class SpifDecoder {
  readonly stats: SpifDecoderStats = { datagrams: 0, bytes: 0, events: 0, lost: 0, late: 0, resyncs: 0, sequenced: 0, malformed: 0 };
  readonly geometry: Geometry;
  readonly source: SourceInfo;
  private readonly timestampMode: boolean | 'auto';
  private readonly sequenceMode: boolean | 'auto';
  private readonly marker: number;
  private readonly timeBase: number;
  private wraps = 0;
  private lastStamp = -1;
  private lastSequence = -1;

  constructor(options: SpifDecoderOptions = {}) {
    this.timestampMode = options.timestamps ?? 'auto';
    this.sequenceMode = options.sequence ?? 'auto';
    this.marker = checkMarker(options.sequenceMarker ?? DEFAULT_SEQUENCE_MARKER);
    this.timeBase = options.timeBase ?? 0;
    this.geometry = options.geometry ?? UNKNOWN_GEOMETRY;
    this.source = { format: SPIF_FORMAT, uri: options.uri };
  }

  /**
   * Decode a batch of datagrams into one packet (one allocation sized to the batch).
   * `arrivalUs[k]` stamps the events of datagram k that carry no timestamp word.
   */
  decode(datagrams: readonly Uint8Array[], arrivalUs: ArrayLike<number>): SpifDecodeResult {
    let maxEvents = 0;
    for (const d of datagrams) maxEvents += d.length >>> 2;
    const X = new Uint16Array(maxEvents);
    const Y = new Uint16Array(maxEvents);
    const T = new Float64Array(maxEvents);
    const P = new Uint8Array(maxEvents);
    const errors: DecodeError[] = [];
    let n = 0;
    for (let k = 0; k < datagrams.length; k++) {
      const d = datagrams[k]!;
      const at = this.stats.bytes;
      this.stats.datagrams++;
      this.stats.bytes += d.length;
      const words = u32View(d);
      let first = 0;
      if (words.length > 0 && this.isSequenceWord(words[0]!)) {
        this.noteSequence(words[0]! & 0xffff);
        first = 1;
      }
      const stamp = arrivalUs[k]!;
      let bad = d.length & 3 ? `length ${d.length} is not a multiple of 4` : '';
      const m = words.length;
      let i = first;
      while (i < m) {
        const word = words[i]!;
        const hasStamp = this.timestampMode === 'auto' ? word < TIMESTAMP_ABSENT : this.timestampMode;
        let t = stamp;
        if (hasStamp) {
          if (i + 1 >= m) {
            bad ||= `last event word at byte ${4 * i} lacks its timestamp word`;
            break;
          }
          t = this.unwrap(words[i + 1]!);
          i += 2;
        } else {
          i += 1;
        }
        X[n] = (word >>> 16) & FIELD_MASK;
        Y[n] = word & FIELD_MASK;
        P[n] = (word >>> 15) & 1;
        T[n] = t;
        n++;
      }
      if (bad) {
        this.stats.malformed++;
        errors.push(new DecodeError(SPIF_FORMAT, at, `malformed datagram #${this.stats.datagrams}: ${bad}`));
      }
    }
    this.stats.events += n;
    const packet = packetOf(X.subarray(0, n), Y.subarray(0, n), T.subarray(0, n), P.subarray(0, n), this.geometry, this.source);
    return { packet, errors };
  }

  private isSequenceWord(word: number): boolean {
    if (this.sequenceMode === 'auto') return word >>> 16 === this.marker;
    return this.sequenceMode;
  }

  private noteSequence(sequence: number): void {
    this.stats.sequenced++;
    const last = this.lastSequence;
    if (last < 0) {
      this.lastSequence = sequence;
      return;
    }
    const ahead = (sequence - last) & 0xffff;
    if (ahead === 0) {
      this.stats.late++; // a duplicate
    } else if (ahead < 0x8000) {
      this.stats.lost += ahead - 1;
      this.lastSequence = sequence;
    } else if (0x10000 - ahead <= LATE_WINDOW) {
      this.stats.late++;
    } else {
      this.stats.resyncs++;
      this.lastSequence = sequence;
    }
  }

  private unwrap(stamp: number): number {
    if (stamp < this.lastStamp && this.lastStamp - stamp > HALF_WRAP) this.wraps++;
    this.lastStamp = stamp;
    return this.timeBase + this.wraps * WRAP + stamp;
  }
}

function checkMarker(marker: number): number {
  if (!Number.isInteger(marker) || marker < 0x8000 || marker > 0xffff) {
    throw new RangeError(`spif: sequenceMarker must be a 16-bit value with bit 15 set (it must read as "no timestamp"), got ${marker}`);
  }
  return marker;
}
