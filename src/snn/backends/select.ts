/** Backend selection by name (CLI --backend, pipeline files). */
import { cpuBackend, type SnnBackend } from '../backend.js';

export const BACKEND_NAMES = ['cpu'] as const;

export async function backendByName(name: string): Promise<SnnBackend> {
  switch (name) {
    case 'cpu':
      return cpuBackend;
    default:
      throw new Error(`unknown SNN backend '${name}' (available: ${BACKEND_NAMES.join(', ')})`);
  }
}
