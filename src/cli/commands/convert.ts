/** `spikeflow convert IN OUT [--format F] [--to F]`: re-encode a recording into a format with a writer. */
import { createEncoder, writableFormats } from '../../formats/registry.js';
import type { StreamEncoder } from '../../formats/types.js';
import { decodeFile } from '../decode-file.js';
import { parseArgs, UsageError } from '../args.js';
import { decoderOptionsFrom, DECODER_OPTION_NAMES } from '../decoder-options.js';
import { AtomicFile } from '../write-atomic.js';

export const convertHelp = `spikeflow convert IN OUT [--format F] [--to F] [--progress]
  Decodes IN (format detected unless --format) and writes OUT in the format named by --to or by
  OUT's extension (.raw -> evt3, .aedat4 -> aedat4, .csv/.txt -> csv). OUT is written atomically.`;

const BY_EXTENSION: Record<string, string> = { '.raw': 'evt3', '.aedat4': 'aedat4', '.csv': 'csv', '.txt': 'csv' };

export function outputFormat(out: string, to: string | undefined): string {
  if (to) return to;
  const ext = out.slice(out.lastIndexOf('.')).toLowerCase();
  const f = BY_EXTENSION[ext];
  if (!f) throw new UsageError(`cannot tell the output format from '${out}'; pass --to with one of: ${writableFormats().join(', ')}`);
  return f;
}

export function convert(argv: string[], print: (s: string) => void): number {
  const args = parseArgs(argv, { values: ['format', 'to', ...DECODER_OPTION_NAMES], flags: ['progress'] });
  const [input, output] = args.positional;
  if (!input || !output || args.positional.length !== 2) throw new UsageError(`convert takes IN and OUT\n${convertHelp}`);
  const to = outputFormat(output, args.options.to as string | undefined);
  if (!writableFormats().includes(to as never)) throw new UsageError(`format '${to}' has no writer; writers: ${writableFormats().join(', ')}`);

  const file = new AtomicFile(output);
  let encoder: StreamEncoder | undefined;
  let events = 0;
  let sideWritten = 0;
  const write = (b: Uint8Array) => file.write(b);
  const errors: { format: string; offset: number; message: string; fatal: boolean }[] = [];
  try {
    const decoder = decodeFile(
      input,
      args.options.format as string | undefined,
      (r, dec) => {
        for (const e of r.errors) errors.push(e.toJSON());
        if (!encoder && (r.events.length || r.side.length)) encoder = createEncoder(to, { geometry: dec.geometry });
        if (!encoder) return;
        for (const p of r.events) {
          write(encoder.encode(p));
          events += p.length;
        }
        for (const s of r.side) {
          if (encoder.encodeSide) {
            write(encoder.encodeSide(s));
            sideWritten++;
          }
        }
      },
      { ...decoderOptionsFrom(args.options), progress: args.options.progress === true },
    );
    encoder ??= createEncoder(to, { geometry: decoder.geometry });
    write(encoder.end());
    file.commit();
    print(
      JSON.stringify({
        input,
        output,
        from: decoder.format,
        to,
        events,
        side_batches_written: sideWritten,
        side_records_dropped: encoder.droppedSide,
        errors,
      }),
    );
    return decoder.failed && events === 0 ? 1 : 0;
  } finally {
    file.abort();
  }
}
