/**
 * Walking the arrivals of a step. A synapse table groups synapses by (presynaptic neuron, delay),
 * so the synapses arriving at step t are the groups (i, d) of every neuron i that spiked at step
 * t − d: `forEachArrivingGroup` visits them in Brian2's order (earlier spikes first, then
 * ascending presynaptic index, then ascending synapse id within a group). Delivery and every rule
 * that acts on arrivals loop over the same groups. Cost: one visit per arriving synapse plus one
 * per (spike, delay slot).
 */
import type { SpikeHistory } from '../spike-history.js';
import type { SynapseTable } from './synapse-table.js';

/** Calls visit(start, end) for the table positions [start, end) of each group arriving at step t, in delivery order. */
export function forEachArrivingGroup(table: SynapseTable, pre: SpikeHistory, t: number, visit: (start: number, end: number) => void): void {
  const D = table.delaySlots;
  const { groupStart } = table;
  const lists = pre.lists;
  for (let d = D - 1; d >= 0; d--) {
    const n = pre.count(t - d);
    if (n === 0) continue;
    const at = pre.offset(t - d);
    for (let k = 0; k < n; k++) {
      const g = lists[at + k]! * D + d;
      visit(groupStart[g]!, groupStart[g + 1]!);
    }
  }
}

/** The reference delivery kernel: each arrival added straight to the target (v += w), so float sums round exactly as Brian2's do. */
export function deliverTable(table: SynapseTable, pre: SpikeHistory, t: number, target: Float64Array): void {
  const { post, weight } = table;
  forEachArrivingGroup(table, pre, t, (start, end) => {
    for (let s = start; s < end; s++) target[post[s]!] = target[post[s]!]! + weight[s]!;
  });
}

/** Calls visit(s) for every synapse (table position) arriving at step t, in delivery order. */
export function forEachArrival(table: SynapseTable, pre: SpikeHistory, t: number, visit: (s: number) => void): void {
  forEachArrivingGroup(table, pre, t, (start, end) => {
    for (let s = start; s < end; s++) visit(s);
  });
}
