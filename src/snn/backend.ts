/**
 * Compute backends. A backend supplies the memory the state arena lives in and may replace any hot
 * kernel with a faster one of the same signature; whatever it does not replace runs the TypeScript
 * reference. Fast kernels are tested against the reference (test/snn/wasm-backend.test.ts: every
 * step's spikes and every byte of state identical).
 */
import { deliverTable } from './projections/deliver.js';
import type { stdpOnPost, stdpOnPre } from './plasticity/stdp.js';
import type { lifIntegrate, lifThreshold } from './neurons/lif.js';
import type { logisticPredict, logisticThreshold } from './neurons/logistic.js';
import type { thresholdStep } from './homeostasis/controllers.js';
import type { convDeliver, convGradient } from './projections/conv.js';
import type { logisticErrors, sgdBiasStep, stepTouchedReference } from './plasticity/readout.js';

export interface SnnKernels {
  readonly deliver?: typeof deliverTable;
  readonly convDeliver?: typeof convDeliver;
  readonly convGradient?: typeof convGradient;
  readonly readoutStepTouched?: typeof stepTouchedReference;
  readonly logisticErrors?: typeof logisticErrors;
  readonly sgdBiasStep?: typeof sgdBiasStep;
  readonly stdpOnPre?: typeof stdpOnPre;
  readonly stdpOnPost?: typeof stdpOnPost;
  readonly lifIntegrate?: typeof lifIntegrate;
  readonly lifThreshold?: typeof lifThreshold;
  readonly logisticThreshold?: typeof logisticThreshold;
  readonly logisticPredict?: typeof logisticPredict;
  readonly homeostasisThresholdStep?: typeof thresholdStep;
}

export interface SnnBackend {
  readonly name: string;
  /** Memory for an arena of `bytes` bytes: the buffer and the byte offset the arena starts at. */
  arenaMemory(bytes: number): { buffer: ArrayBuffer; base: number };
  readonly kernels: SnnKernels;
  /**
   * Bytes of scratch (StateArena.scratch) the backend's delivery wants for a table with a compact
   * copy, of `count` synapses in `delaySlots` slots: kept there as the table's `arrivals`; 0 for none.
   */
  arrivalQueueBytes?(count: number, delaySlots: number): number;
}

/** The TypeScript reference: plain ArrayBuffer, every kernel the readable one. */
export const cpuBackend: SnnBackend = {
  name: 'cpu',
  arenaMemory: (bytes) => ({ buffer: new ArrayBuffer(bytes), base: 0 }),
  kernels: {},
};
