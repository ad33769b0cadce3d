/** The online SNN engine: network specs, flat typed-array state, Brian2-ordered steps, learning rules, backends. */
export * from './spec.js';
export { SpecError } from './spec-error.js';
export { validateSpec, MAX_DELAY_STEPS } from './validate.js';
export { buildNetwork, Network, type StepInput, type BuildOptions } from './network.js';
export { StateArena, type ArraySlot, type ArrayKind, type StateArray } from './arena.js';
export { cpuBackend, type SnnBackend, type SnnKernels } from './backend.js';
export { backendByName, BACKEND_NAMES } from './backends/select.js';
export { SynapseTable } from './projections/synapse-table.js';
export { SpikeHistory } from './spike-history.js';
export { lifIntegrate, lifThreshold, lifReset, type LifState } from './neurons/lif.js';
export type { LifPopulationRuntime } from './neurons/populations.js';
export { stdpUpdate } from './plasticity/stdp.js';
export { specFromExchange, jobFrom, runJob, type SimulationJob } from './exchange.js';
export type { StepSignals, PopulationRuntime, ProjectionRuntime, RuleRuntime, ControllerRuntime } from './runtime-types.js';
export { GpuNetwork, type InstanceInput, type ChunkSpikes } from './backends/webgpu/gpu-network.js';
export { GpuUnavailableError, gpuContext, type GpuContext } from './backends/webgpu/device.js';
export { GpuUnsupportedError, planGpu, type GpuBatchOptions } from './backends/webgpu/gpu-plan.js';
