/**
 * `spikeflow emulate`: the emulator renders a moving texture (random directions and speeds,
 * seeded), the events are recorded with a writer, and the recording is inspected back — emulator,
 * writer and decoder end to end, and a recording with ground truth to play with.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createEmulator } from '../../emulator/index.js';
import { createEncoder } from '../../formats/registry.js';
import { RecordingSummary } from '../../formats/summary.js';
import { decodeFile } from '../decode-file.js';
import { numberOption, parseArgs, UsageError } from '../args.js';
import { writeFileAtomic } from '../write-atomic.js';

export const emulateHelp = `spikeflow emulate [--out DIR] [--seconds S] [--format evt3|aedat4|csv] [--seed N] [--size N]
  Emulates an event camera watching a texture move in random directions (ground truth labels in
  DIR/demo.labels.json), records the events (default EVT 3.0, DIR/demo.raw) and inspects the file.`;

const EXT: Record<string, string> = { evt3: '.raw', aedat4: '.aedat4', csv: '.csv' };

export function emulate(argv: string[], print: (s: string) => void): number {
  const args = parseArgs(argv, { values: ['out', 'seconds', 'format', 'seed', 'size'] });
  if (args.positional.length) throw new UsageError(`emulate takes no positional arguments\n${emulateHelp}`);
  const format = (args.options.format as string | undefined) ?? 'evt3';
  if (!EXT[format]) throw new UsageError(`--format must be one of ${Object.keys(EXT).join(', ')}, got '${format}'`);
  const seconds = numberOption(args.options, 'seconds', 2);
  if (!(seconds > 0 && seconds <= 3600)) throw new UsageError(`--seconds must be in (0, 3600], got ${seconds}`);
  const size = numberOption(args.options, 'size', 64);
  const dir = (args.options.out as string | undefined) ?? join(tmpdir(), 'spikeflow-demo');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `demo${EXT[format]}`);

  const emulator = createEmulator({ width: size, height: size, seed: numberOption(args.options, 'seed', 1), schedule: { kind: 'random', directions: 8, speeds: [50, 100], segmentUs: 250_000 } });
  const encoder = createEncoder(format, { geometry: emulator.geometry });
  const parts: Uint8Array[] = [];
  const labels = [];
  const endUs = Math.round(seconds * 1e6);
  let written = 0;
  for (let s = emulator.step(endUs); s; s = emulator.step(endUs)) {
    if (s.startsSegment) labels.push(s.label);
    parts.push(encoder.encode(s.packet));
    written += s.packet.length;
  }
  parts.push(encoder.end());
  writeFileAtomic(file, parts);
  writeFileSync(join(dir, 'demo.labels.json'), JSON.stringify({ labels }, null, 1));

  const summary = new RecordingSummary();
  const decoder = decodeFile(file, format, (r) => summary.add(r));
  const json = summary.toJSON(decoder);
  print(JSON.stringify({ recording: file, labels: join(dir, 'demo.labels.json'), segments: labels.length, events_written: written, inspect: json }, null, 2));
  if (json.events !== written) {
    console.error(`spikeflow emulate: wrote ${written} events but read back ${json.events}`);
    return 1;
  }
  return 0;
}
