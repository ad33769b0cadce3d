/**
 * Loading TensorFlow.js on demand. `@tensorflow/tfjs` is an optional peer dependency: nothing in
 * spikeflow imports it statically, so the package works without it. We try, in order,
 *
 *   @tensorflow/tfjs-node-gpu   libtensorflow with CUDA (backend 'tensorflow' on the GPU)
 *   @tensorflow/tfjs-node       libtensorflow on the CPU (backend 'tensorflow')
 *   @tensorflow/tfjs            pure JavaScript (backend 'cpu')
 *
 * and use the first that loads. SPIKEFLOW_TFJS=<package> asks for one package only. A package that
 * is installed but fails to load (tfjs-node-gpu without the CUDA 11.2 / cuDNN 8 libraries it links
 * against, say) is skipped with its reason kept in `skipped`, so the caller can say why it runs on
 * a slower one. When none loads, TfjsUnavailableError says what was tried.
 */
import type * as TfModule from '@tensorflow/tfjs';

export type Tf = typeof TfModule;

export class TfjsUnavailableError extends Error {
  override name = 'TfjsUnavailableError';
}

export const TFJS_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs'] as const;

export interface TfjsContext {
  readonly tf: Tf;
  /** The package it came from, e.g. '@tensorflow/tfjs'. */
  readonly package: string;
  /** The tfjs backend in use: 'tensorflow' (libtensorflow, CPU or CUDA), 'cpu' (pure JavaScript), … */
  readonly backend: string;
  /** Packages tried before this one that are installed but did not load, with why. */
  readonly skipped: readonly string[];
  /** One line for logs: `@tensorflow/tfjs-node-gpu, backend tensorflow`. */
  readonly description: string;
}

export interface LoadTfjsOptions {
  /** Packages to try, in order (default: SPIKEFLOW_TFJS if set, else TFJS_PACKAGES). */
  readonly packages?: readonly string[];
  /** A tfjs backend to switch to (e.g. 'cpu'); default: the package's own ('cpu' for pure @tensorflow/tfjs in Node). */
  readonly backend?: string;
}

const loaded = new Map<string, Promise<Tf>>();

function isNotFound(e: unknown, pkg: string): boolean {
  const err = e as { code?: string; message?: string };
  return (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND') && (err.message ?? '').includes(pkg);
}

async function importTf(pkg: string): Promise<Tf> {
  let p = loaded.get(pkg);
  if (!p) {
    p = import(pkg).then((m: Record<string, unknown>) => {
      // tfjs-node is CommonJS: its namespace may sit on `default`.
      const tf = (typeof m.tidy === 'function' ? m : m.default) as Tf | undefined;
      if (!tf || typeof tf.tidy !== 'function') throw new Error(`${pkg} does not look like TensorFlow.js (no tidy())`);
      return tf;
    });
    loaded.set(pkg, p);
    p.catch(() => loaded.delete(pkg));
  }
  return p;
}

export async function loadTfjs(options: LoadTfjsOptions = {}): Promise<TfjsContext> {
  const fromEnv = process.env.SPIKEFLOW_TFJS?.trim();
  const packages = options.packages ?? (fromEnv ? [fromEnv] : TFJS_PACKAGES);
  const skipped: string[] = [];
  const missing: string[] = [];
  for (const pkg of packages) {
    let tf: Tf;
    try {
      tf = await importTf(pkg);
    } catch (e) {
      if (isNotFound(e, pkg)) missing.push(pkg);
      else skipped.push(`${pkg}: ${firstLine(e)}`);
      continue;
    }
    const wanted = options.backend ?? (pkg === '@tensorflow/tfjs' ? 'cpu' : undefined);
    if (wanted !== undefined && tf.getBackend() !== wanted) {
      let ok = false;
      try {
        ok = await tf.setBackend(wanted);
      } catch (e) {
        skipped.push(`${pkg}: backend '${wanted}' failed (${firstLine(e)})`);
        continue;
      }
      if (!ok) {
        skipped.push(`${pkg}: backend '${wanted}' is not available (registered: ${Object.keys(tf.engine().registryFactory).join(', ')})`);
        continue;
      }
    }
    await tf.ready();
    const backend = tf.getBackend();
    if (backend === 'cpu') quietFirstUse(tf);
    return { tf, package: pkg, backend, skipped, description: `${pkg}, backend ${backend}` };
  }
  const parts = [`no TensorFlow.js package loads here (tried ${packages.join(', ')})`];
  if (missing.length) parts.push(`not installed: ${missing.join(', ')}`);
  if (skipped.length) parts.push(`failed: ${skipped.join('; ')}`);
  parts.push("install the optional peer dependency with `npm install @tensorflow/tfjs` (pure JavaScript), or @tensorflow/tfjs-node / @tensorflow/tfjs-node-gpu for libtensorflow");
  throw new TfjsUnavailableError(parts.join('; '));
}

/**
 * The pure-JavaScript cpu backend prints a banner on its first tensor in Node ("install our node
 * backend"); we report the backend in use ourselves, so spend that first write with console.warn muted.
 */
function quietFirstUse(tf: Tf): void {
  const warn = console.warn;
  console.warn = () => {};
  try {
    tf.tensor1d([0]).dispose();
  } finally {
    console.warn = warn;
  }
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}
