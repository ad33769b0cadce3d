/** `spikeflow inspect FILE [--format F]`: one JSON object describing a recording. */
import { RecordingSummary } from '../../formats/summary.js';
import { decodeFile } from '../decode-file.js';
import { parseArgs, UsageError } from '../args.js';
import { decoderOptionsFrom, DECODER_OPTION_NAMES } from '../decoder-options.js';

export const inspectHelp = `spikeflow inspect FILE [--format F] [--progress] [decoder options]
  Decodes FILE and prints one JSON object: format, width, height, events, t_first_us, t_last_us,
  on, off, side_streams, errors, and more. Exits 1 when the file cannot be decoded at all.`;

export function inspect(argv: string[], out: (s: string) => void): number {
  const args = parseArgs(argv, { values: ['format', ...DECODER_OPTION_NAMES], flags: ['progress'] });
  const [file] = args.positional;
  if (!file || args.positional.length > 1) throw new UsageError(`inspect takes exactly one FILE\n${inspectHelp}`);
  const summary = new RecordingSummary();
  const decoder = decodeFile(file, args.options.format as string | undefined, (r) => summary.add(r), {
    ...decoderOptionsFrom(args.options),
    progress: args.options.progress === true,
  });
  const json = summary.toJSON(decoder);
  out(JSON.stringify(json, null, 2));
  const unreadable = decoder.failed && summary.events === 0;
  return unreadable ? 1 : 0;
}
