/** Runs `spikeflow simulate` in this process with the --backend given in argv[2] on a seeded exchange case; prints {code, out, stderr}. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main } from '../../../src/cli/main.js';
import { exchangeCase } from '../exchange-nets.js';

const c = exchangeCase('gpu', { seed: 7, adaptation: true, stdp: true, steps: 400, inputHz: 40 });
const dir = mkdtempSync(join(tmpdir(), 'spikeflow-gpu-cli-'));
writeFileSync(join(dir, 'net.json'), JSON.stringify(c.net));
writeFileSync(join(dir, 'spikes.json'), JSON.stringify(c.spikes));
const errors: string[] = [];
console.error = (...a: unknown[]) => void errors.push(a.join(' '));
const printed: string[] = [];
const code = await main(['simulate', '--net', join(dir, 'net.json'), '--input', join(dir, 'spikes.json'), '--out', join(dir, 'out.json'), '--backend', process.argv[2]!], (s) => printed.push(s));
let out: unknown = null;
try {
  out = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
} catch {}
process.stdout.write(JSON.stringify({ code, out, summary: printed.at(-1) ?? null, stderr: errors.join('\n') }) + '\n');
