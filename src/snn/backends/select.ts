/** Backend selection by name (CLI --backend, pipeline files). */
import { cpuBackend, type SnnBackend } from '../backend.js';

export const BACKEND_NAMES = ['cpu', 'wasm'] as const;

export async function backendByName(name: string): Promise<SnnBackend> {
  switch (name) {
    case 'cpu':
      return cpuBackend;
    case 'wasm':
      // Loaded on demand: it reads dist/wasm/snn.wasm, which only this backend needs.
      return (await import('./wasm.js')).wasmBackend();
    default:
      throw new Error(`unknown SNN backend '${name}' (available: ${BACKEND_NAMES.join(', ')})`);
  }
}
