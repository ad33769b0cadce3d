/**
 * Benchmark entry: `npm run bench -- NAME [args]` runs bench/NAME.ts, whose
 * `main(args): Promise<Record<string, unknown>>` prints progress lines and returns its figures.
 * The LAST line printed is one JSON object: {"bench", "machine", "date", ...figures}, so scripts can
 * take `tail -n 1`. An unknown or missing NAME lists the available benches and exits with status 2.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type BenchMain = (args: string[]) => Promise<Record<string, unknown>>;

const here = dirname(fileURLToPath(import.meta.url));

/** Bench modules: the .ts files here (other than this one) that export `main`. */
function availableBenches(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.d.ts'))
    .filter((f) => /export\s+async\s+function\s+main\s*\(/.test(readFileSync(join(here, f), 'utf8')))
    .map((f) => f.slice(0, -3))
    .sort();
}

function machine(): Record<string, unknown> {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
  };
}

const [name, ...args] = process.argv.slice(2);
const benches = availableBenches();
if (!name || !benches.includes(name)) {
  console.error(`${name ? `unknown bench '${name}'` : 'no bench named'}; usage: npm run bench -- NAME [args]`);
  console.error(`available benches: ${benches.join(', ')}`);
  process.exit(2);
}

const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { main: BenchMain };
const date = new Date().toISOString();
const figures = await mod.main(args);
console.log(JSON.stringify({ bench: name, machine: machine(), date, ...figures }));
