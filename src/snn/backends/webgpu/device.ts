/// <reference types="@webgpu/types" />
/**
 * A WebGPU device from the optional `webgpu` package (Dawn's Node binding: Vulkan on Linux, Metal
 * and D3D12 elsewhere). Every way this can fail becomes a GpuUnavailableError saying why, so the
 * caller can fall back to the CPU or stop with a clear message.
 */

export class GpuUnavailableError extends Error {
  override name = 'GpuUnavailableError';
}

export interface GpuContext {
  readonly device: GPUDevice;
  /** Adapter description, e.g. 'nvidia … NVIDIA H100' or 'mesa … llvmpipe'. */
  readonly adapter: string;
}

let cached: Promise<GpuContext> | undefined;
/**
 * Dawn destroys its instance when the GPU object is garbage-collected, and a device outliving its
 * instance crashes the process (seen as random aborts on lavapipe): keep both for the process's life.
 */
const keepAlive: unknown[] = [];

/** The process-wide device (one is enough; creating many exhausts some drivers). */
export function gpuContext(): Promise<GpuContext> {
  cached ??= open().catch((e) => {
    cached = undefined;
    throw e;
  });
  return cached;
}

async function open(): Promise<GpuContext> {
  let mod: { create(options: string[]): GPU; globals: object };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (e) {
    throw new GpuUnavailableError(`the optional 'webgpu' package is not installed or does not load here (${(e as Error).message.split('\n')[0]})`);
  }
  // Dawn's GPUBufferUsage etc. constants are globals in browsers; provide them in Node.
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const gpu = mod.create([]);
  keepAlive.push(gpu);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  keepAlive.push(adapter);
  if (!adapter) {
    throw new GpuUnavailableError(
      'no usable WebGPU adapter (no Vulkan driver, or only ones Dawn rejects, such as Debian 12\'s Mesa 22 lavapipe). For a software adapter run scripts/setup-lavapipe.sh and `source .vulkan/env`; for a GPU, install its Vulkan driver and libvulkan1',
    );
  }
  const info = adapter.info;
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
    },
  });
  return { device, adapter: [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') };
}
