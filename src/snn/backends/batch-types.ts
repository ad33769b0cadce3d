/** What batched backends (WebGPU, tfjs) take and give per chunk of steps. */

/** Input spikes of one step of one instance, by input population name. */
export type InstanceInput = Readonly<Record<string, ArrayLike<number>>>;

/** Output spikes of a chunk: [step within chunk][instance] → sorted neuron indices, per population. */
export type ChunkSpikes = Map<string, Int32Array[][]>;
