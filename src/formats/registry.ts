/**
 * The format registry: every known format's descriptor, detection by header and extension, and
 * factories for decoders and encoders by name.
 */

import { DecodeError, type DecoderOptions, type EncoderOptions, type FormatDescriptor, type FormatName, type StreamDecoder, type StreamEncoder } from './types.js';
import { evt2Format } from './prophesee/evt2.js';
import { evt21Format } from './prophesee/evt21.js';
import { evt3Format } from './prophesee/evt3.js';
import { datFormat } from './prophesee/dat.js';
import { aedat2Format } from './inivation/aedat2.js';
import { aedat31Format } from './inivation/aedat31.js';
import { aedat4Format } from './inivation/aedat4.js';
import { nmnistFormat } from './nmnist.js';
import { cochleaFormat } from './cochlea.js';
import { csvFormat } from './csv.js';

export const FORMATS: readonly FormatDescriptor[] = [
  evt2Format,
  evt21Format,
  evt3Format,
  datFormat,
  aedat2Format,
  aedat31Format,
  aedat4Format,
  nmnistFormat,
  cochleaFormat,
  csvFormat,
];

export function isFormatName(name: string): name is FormatName {
  return FORMATS.some((f) => f.name === name);
}

export function getFormat(name: string): FormatDescriptor {
  const f = FORMATS.find((d) => d.name === name);
  if (!f) throw new Error(`unknown format '${name}'; known formats: ${FORMATS.map((d) => d.name).join(', ')}`);
  return f;
}

export interface Detection {
  readonly format: FormatName;
  readonly confidence: number;
  readonly reason: string;
}

function extensionOf(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

/**
 * Pick the format of a stream from its first bytes (a header match wins) and, failing that, from
 * the file name's extension combined with each headerless format's plausibility check.
 * Throws when nothing fits, naming what was tried.
 */
export function detectFormat(head: Uint8Array, fileName = ''): Detection {
  const ext = extensionOf(fileName);
  let best: Detection | undefined;
  for (const f of FORMATS) {
    let score = f.sniff(head);
    const extMatch = ext !== '' && f.extensions.includes(ext);
    if (score > 0 && extMatch) score += 0.25;
    if (score > 0 && (!best || score > best.confidence)) {
      best = { format: f.name, confidence: score, reason: score >= 1 ? 'header' : extMatch ? `content and extension ${ext}` : 'content' };
    }
  }
  if (!best || best.confidence < 0.3) {
    throw new Error(
      `cannot detect the event format of ${fileName || 'the stream'} (${head.length} bytes examined, extension '${ext || 'none'}'); ` +
        `pass --format with one of: ${FORMATS.map((d) => d.name).join(', ')}`,
    );
  }
  return best;
}

export function createDecoder(format: string, options?: DecoderOptions): StreamDecoder {
  return getFormat(format).createDecoder(options);
}

export function createEncoder(format: string, options?: EncoderOptions): StreamEncoder {
  const f = getFormat(format);
  if (!f.createEncoder) {
    const writable = FORMATS.filter((d) => d.createEncoder).map((d) => d.name);
    throw new Error(`format '${format}' has no writer; formats with writers: ${writable.join(', ')}`);
  }
  return f.createEncoder(options);
}

export function writableFormats(): FormatName[] {
  return FORMATS.filter((d) => d.createEncoder).map((d) => d.name);
}

export { DecodeError };
