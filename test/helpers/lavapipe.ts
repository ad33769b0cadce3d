/** Running WebGPU test cases on the project-local software Vulkan adapter (scripts/setup-lavapipe.sh). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './shared-data.js';

const ENV_FILE = join(REPO_ROOT, '.vulkan', 'env');

/** The variables .vulkan/env exports. */
export function lavapipeEnv(): Record<string, string> {
  assert.ok(existsSync(ENV_FILE), `${ENV_FILE} is missing: run scripts/setup-lavapipe.sh (as root) first`);
  const env: Record<string, string> = {};
  for (const m of readFileSync(ENV_FILE, 'utf8').matchAll(/^export (\w+)=(\S+?)(\$\{.*)?$/gm)) env[m[1]!] = m[2]!;
  if (process.env.LD_LIBRARY_PATH) env.LD_LIBRARY_PATH += `:${process.env.LD_LIBRARY_PATH}`;
  return env;
}

/**
 * Runs test/snn/webgpu/SCRIPT in its own process on the software adapter (lavapipe crashes after
 * ~1,000–2,000 dispatches in one process) and returns the JSON of its last output line. `env`
 * replaces the adapter's variables (e.g. to point at no adapter).
 */
export function gpuChild(script: string, args: string[], env: Record<string, string> = lavapipeEnv()): any {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test', 'snn', 'webgpu', script), ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 240_000 });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  assert.ok(line.startsWith('{'), `${script} ${args.join(' ')} exited ${r.status} without a result:\n${r.stderr.slice(-3000)}`);
  return JSON.parse(line);
}
