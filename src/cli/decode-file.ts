/**
 * Decode a whole file chunk by chunk (detecting its format unless given), handing every result to
 * a callback, with a progress line on a terminal. Shared by `inspect` and `convert`.
 */
import { readChunksSync, readHeadSync } from '../../adapters/file-chunks.js';
import { createDecoder, detectFormat } from '../formats/registry.js';
import type { DecodeResult, DecoderOptions, StreamDecoder } from '../formats/types.js';
import { ProgressLine } from '../runtime/progress-line.js';

export function resolveFormat(path: string, format: string | undefined): string {
  if (format && format !== 'auto') return format;
  return detectFormat(readHeadSync(path), path).format;
}

export function decodeFile(
  path: string,
  format: string | undefined,
  onResult: (r: DecodeResult, decoder: StreamDecoder) => void,
  options: DecoderOptions & { progress?: boolean } = {},
): StreamDecoder {
  const decoder = createDecoder(resolveFormat(path, format), { ...options, uri: path });
  const progress = new ProgressLine(`decoding ${path}`, { show: options.progress === true ? true : undefined });
  let events = 0;
  for (const chunk of readChunksSync(path)) {
    const r = decoder.push(chunk.bytes);
    for (const p of r.events) events += p.length;
    onResult(r, decoder);
    progress.update(chunk.offset + chunk.bytes.length, chunk.fileSize, `${events} events, ${(events / 1e6 / progress.elapsedS).toFixed(2)} Mev/s`);
    if (decoder.failed) break;
  }
  onResult(decoder.end(), decoder);
  progress.finish();
  return decoder;
}
