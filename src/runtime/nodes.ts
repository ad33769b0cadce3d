/**
 * The built-in node types: their parameter schemas (registered in registry.ts, so validation and
 * `spikeflow list` see them) and their builders (sources opened, operators made, sinks opened).
 * Builders get already-validated params; what only the adapters can judge (a serial framing, an
 * emulator scene) they check themselves, and the runtime names the node in the error. Loading this
 * module registers them all; a source's worker thread loads only the sources and event operators.
 */
import './nodes/sources.js';
import './nodes/event-ops.js';
import './nodes/stream-ops.js';
import './nodes/sinks.js';
export * from './node-types.js';
export { packetOfMessage } from './nodes/sources.js';
export { resolveNetwork } from './nodes/stream-ops.js';
export { spikeBatches } from './nodes/sinks.js';
