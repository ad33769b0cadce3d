/**
 * Prophesee RAW header: the ASCII lines `% <key> <value>\n` in front of EVT 2.0 / 2.1 / 3.0 data.
 *
 * Parsing follows OpenEB GenericHeader::parse_header: a line starts with '%' followed by a space; the
 * key is the first whitespace-separated token, the value the remaining tokens joined by one space.
 * A new-style header ends with the line `% end`; an old-style header simply stops at the first byte
 * that is not '%'+' ' (that byte is the first data byte — even a '%' not followed by a space).
 *
 * Interpretation follows OpenEB PseeRawFileHeader::check_header:
 *   - format:   `format EVT3;height=720;width=1280` wins; else legacy `evt 2.0|2.1|3.0`; else the system id.
 *   - geometry: the format's width/height; else `geometry WxH`; else the system id (old files).
 *   - EVT 2.1 word order: format option `endianness=`, else the `endianness` key, else `legacy` for
 *     Prophesee systems older than EVK2_SAPHIR (0x37), else `little`.
 *
 * RawHeaderReader is incremental: the header may be split over chunks at any byte.
 */

import { UNKNOWN_GEOMETRY, type Geometry } from '../../events/packet.js';
import { ascii } from '../bytes.js';

export type EvtVersion = '2.0' | '2.1' | '3.0';
export type Evt21WordOrder = 'little' | 'legacy';

export interface RawHeaderInfo {
  /** EVT version declared (or inferred from the system id); undefined when the header says nothing. */
  readonly version?: EvtVersion;
  /** Event format name as declared (`EVT3`, `EVT21`, …, or `evt 2.0` style mapped to a name). */
  readonly formatName?: string;
  readonly geometry: Geometry;
  /** EVT 2.1 word order resolved as OpenEB does (meaningful for EVT 2.1 only). */
  readonly endianness: Evt21WordOrder;
  readonly systemId?: number;
  /** Inconsistencies found (reported by decoders as non-fatal errors). */
  readonly problems: readonly string[];
}

const PERCENT = 0x25;
const SPACE = 0x20;
const LF = 0x0a;
/** A header line longer than this is not a header (binary data that happened to start with "% "). */
const MAX_LINE_BYTES = 64 * 1024;
const MAX_HEADER_BYTES = 1024 * 1024;

/** OpenEB system ids with the format and geometry they imply (psee_raw_file_header.cpp system_id_map). */
const SYSTEM_ID_FORMATS: ReadonlyMap<number, { name: string; width: number; height: number }> = new Map([
  [0x15, { name: 'EVT2', width: 640, height: 480 }], // CCAM3_GEN3
  [0x1c, { name: 'EVT2', width: 640, height: 480 }], // CCAM3_GEN31
  [0x1a, { name: 'EVT2', width: 1280, height: 720 }], // CCAM3_GEN4
  [0x17, { name: 'EVT2', width: 640, height: 480 }], // CCAM4_GEN3
  [0x97, { name: 'EVT2', width: 640, height: 480 }], // CCAM4_GEN3_EVK
  [0x19, { name: 'EVT2', width: 640, height: 480 }], // CCAM4_GEN3_REV_B
  [0x99, { name: 'EVT2', width: 640, height: 480 }], // CCAM4_GEN3_REV_B_EVK
  [0x1d, { name: 'EVT2', width: 640, height: 480 }], // CCAM4_GEN3_REV_B_EVK_BRIDGE
  [0x23, { name: 'EVT2', width: 640, height: 480 }], // CCAM5_GEN31
  [0x1e, { name: 'EVT3', width: 1280, height: 720 }], // CCAM5_GEN4
  [0x2e, { name: 'EVT3', width: 1280, height: 720 }], // CCAM5_GEN4_FIXED_FRAME
  [0x21, { name: 'EVT2', width: 640, height: 480 }], // VISIONCAM_GEN3
  [0xa1, { name: 'EVT2', width: 640, height: 480 }], // VISIONCAM_GEN3_EVK
  [0x22, { name: 'EVT2', width: 640, height: 480 }], // VISIONCAM_GEN31
  [0xa2, { name: 'EVT2', width: 640, height: 480 }], // VISIONCAM_GEN31_EVK
  [0x29, { name: 'EVT2', width: 640, height: 480 }], // EVK2_GEN31
  [0x1f, { name: 'EVT2', width: 1280, height: 720 }], // EVK2_GEN4
  [0x27, { name: 'EVT2', width: 1280, height: 720 }], // EVK2_GEN41
  [0x28, { name: 'EVT3', width: 640, height: 480 }], // EVK3_GEN31_EVT3
  [0x30, { name: 'EVT3', width: 1280, height: 720 }], // EVK3_GEN41
  [0x32, { name: 'EVT3', width: 1280, height: 720 }], // EVK2_IMX636
  [0x31, { name: 'EVT3', width: 1280, height: 720 }], // EVK3_IMX636
]);
const SYSTEM_EVK2_SAPHIR = 0x37;

const FORMAT_VERSIONS: Readonly<Record<string, EvtVersion>> = {
  EVT2: '2.0',
  'EVT2.0': '2.0',
  EVT21: '2.1',
  'EVT2.1': '2.1',
  EVT3: '3.0',
  'EVT3.0': '3.0',
};
const LEGACY_NAMES: Readonly<Record<string, string>> = { '2.0': 'EVT2', '2.1': 'EVT21', '3.0': 'EVT3' };

/**
 * Reads the header from a stream of chunks. `feed` returns how many bytes of the chunk belonged to
 * the header; once `done`, the data starts with `replay` (a '%' that turned out not to start a
 * header line, carried from an earlier chunk) followed by the rest of the chunk.
 */
export class RawHeaderReader {
  readonly keys: Record<string, string> = {};
  /** True once the header is over (data may follow). */
  done = false;
  /** True when the header ended with `% end`. */
  endMarker = false;
  /** Header bytes (complete lines) = absolute offset of the first data byte once `done`. */
  length = 0;
  /** Data bytes the reader consumed before knowing they were data (0 or 1 byte). */
  replay: Uint8Array = new Uint8Array(0);
  /** Set when the bytes cannot be a header (a line too long): nothing readable follows. */
  fault: string | undefined;

  /** 0: at a line start; 1: after '%'; 2: inside a line. */
  private state: 0 | 1 | 2 = 0;
  private line = '';
  private fed = 0;

  feed(chunk: Uint8Array): number {
    if (this.done) return 0;
    const n = chunk.length;
    let i = 0;
    let consumed = -1;
    while (i < n && consumed < 0) {
      if (this.state === 0) {
        if (chunk[i] === PERCENT) {
          this.state = 1;
          i++;
        } else {
          consumed = i;
        }
      } else if (this.state === 1) {
        if (chunk[i] === SPACE) {
          this.state = 2;
          i++;
        } else if (i === 0) {
          // The '%' ended the previous chunk: it is the first data byte.
          this.replay = Uint8Array.of(PERCENT);
          consumed = 0;
        } else {
          consumed = i - 1;
        }
      } else {
        const j = chunk.indexOf(LF, i);
        const stop = j < 0 ? n : j;
        if (this.line.length + (stop - i) > MAX_LINE_BYTES) {
          this.fault = `header line longer than ${MAX_LINE_BYTES} bytes (not a RAW header)`;
          this.done = true;
          return n;
        }
        this.line += ascii(chunk.subarray(i, stop));
        if (j < 0) {
          i = n;
        } else {
          i = j + 1;
          this.length = this.fed + i;
          this.state = 0;
          if (this.takeLine()) consumed = i;
        }
      }
    }
    this.fed += n;
    if (consumed >= 0) {
      this.done = true;
      return consumed;
    }
    if (this.fed > MAX_HEADER_BYTES) {
      this.fault = `header longer than ${MAX_HEADER_BYTES} bytes (not a RAW header)`;
      this.done = true;
    }
    return n;
  }

  /**
   * End of stream while still in the header. Returns a problem description when the stream ended
   * inside a header line (the partial line is still parsed, as OpenEB's getline would).
   */
  finish(): string | undefined {
    if (this.done) return undefined;
    this.done = true;
    if (this.state === 1) {
      this.replay = Uint8Array.of(PERCENT);
      return undefined;
    }
    if (this.state === 2) {
      const start = this.length;
      this.takeLine();
      this.length = this.fed;
      return `stream ends inside the header line starting at byte ${start}`;
    }
    return undefined;
  }

  /** Parse the collected line; true when it is `% end`. */
  private takeLine(): boolean {
    const tokens = this.line.trim().split(/\s+/);
    this.line = '';
    const key = tokens[0];
    if (!key) return false;
    if (key === 'end') {
      this.endMarker = true;
      return true;
    }
    this.keys[key] = tokens.slice(1).join(' ');
    return false;
  }

  info(): RawHeaderInfo {
    return interpretRawHeader(this.keys);
  }
}

/** Parse a format string `NAME;key=value;key=value` (OpenEB StreamFormat). */
export function parseFormatString(format: string): { name: string; options: Record<string, string> } {
  const parts = format.split(';');
  const options: Record<string, string> = {};
  for (const part of parts.slice(1)) {
    const eq = part.indexOf('=');
    if (eq > 0) options[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return { name: (parts[0] ?? '').trim(), options };
}

function parseUnsigned(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const s = text.trim();
  const v = /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : /^[0-9]+$/.test(s) ? parseInt(s, 10) : NaN;
  return Number.isFinite(v) ? v : undefined;
}

function parseGeometryKey(text: string): Geometry | undefined {
  const m = /^\s*(\d+)\s*x\s*(\d+)\s*$/i.exec(text);
  if (!m) return undefined;
  const width = Number(m[1]);
  const height = Number(m[2]);
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/** What the header keys say about version, geometry and EVT 2.1 word order. */
export function interpretRawHeader(keys: Readonly<Record<string, string>>): RawHeaderInfo {
  const problems: string[] = [];
  const systemId = parseUnsigned(keys['system_ID']);
  // OpenEB interprets system ids only for Prophesee-integrated headers (none given = Prophesee).
  const camera = keys['camera_integrator_name'];
  const plugin = keys['plugin_integrator_name'];
  const integrators = camera === undefined && plugin === undefined ? [keys['integrator_name'] ?? 'Prophesee'] : [camera ?? '', plugin ?? ''];
  const isProphesee = integrators.every((n) => n === 'Prophesee');
  const system = isProphesee && systemId !== undefined ? SYSTEM_ID_FORMATS.get(systemId) : undefined;

  let formatName: string | undefined;
  let formatOptions: Record<string, string> = {};
  if (keys['format']) {
    const f = parseFormatString(keys['format']);
    formatName = f.name;
    formatOptions = f.options;
  } else if (keys['evt'] !== undefined) {
    formatName = LEGACY_NAMES[keys['evt'].trim()];
    if (!formatName) problems.push(`unknown legacy event type 'evt ${keys['evt']}'`);
  } else if (system) {
    formatName = system.name;
  }
  const version = formatName ? FORMAT_VERSIONS[formatName.toUpperCase()] : undefined;

  let geometry: Geometry = UNKNOWN_GEOMETRY;
  const fw = parseUnsigned(formatOptions['width']);
  const fh = parseUnsigned(formatOptions['height']);
  const keyGeometry = keys['geometry'] !== undefined ? parseGeometryKey(keys['geometry']) : undefined;
  if (keys['geometry'] !== undefined && !keyGeometry) problems.push(`unreadable geometry '${keys['geometry']}'`);
  if (fw && fh) {
    geometry = { width: fw, height: fh };
    if (keyGeometry && (keyGeometry.width !== fw || keyGeometry.height !== fh)) {
      problems.push(`geometry ${keys['geometry']} disagrees with format ${keys['format']}`);
    }
  } else if (keyGeometry) {
    geometry = keyGeometry;
  } else if (system) {
    geometry = { width: system.width, height: system.height };
  }

  let endianness: Evt21WordOrder = 'little';
  const declared = formatOptions['endianness'] ?? keys['endianness'];
  if (declared !== undefined) {
    if (declared === 'legacy' || declared === 'little') endianness = declared;
    else problems.push(`unknown EVT 2.1 endianness '${declared}' (expected little or legacy)`);
  } else if (isProphesee && systemId && systemId < SYSTEM_EVK2_SAPHIR) {
    endianness = 'legacy';
  }

  return { version, formatName, geometry, endianness, systemId, problems };
}

/** Header of a buffer that starts a RAW file (for sniffing): keys found in `head`, even if the header continues. */
export function readRawHeader(head: Uint8Array): { info: RawHeaderInfo; reader: RawHeaderReader } {
  const reader = new RawHeaderReader();
  reader.feed(head);
  return { info: reader.info(), reader };
}

/** The EVT version a RAW file head declares, or undefined (no "% " header, or no version in it). */
export function sniffRawVersion(head: Uint8Array): EvtVersion | undefined {
  if (head.length < 2 || head[0] !== PERCENT || head[1] !== SPACE) return undefined;
  const { info, reader } = readRawHeader(head);
  return reader.fault ? undefined : info.version;
}
