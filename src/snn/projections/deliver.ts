/**
 * The reference delivery kernel: step t's arrivals through a synapse table, in Brian2's order
 * (earlier spikes first, then ascending presynaptic index, then ascending synapse id), each added
 * straight to the target (v += w), so float sums round exactly as Brian2's do.
 * Cost: one visit per arriving synapse plus one per (spike, delay slot).
 */
import type { SpikeHistory } from '../spike-history.js';
import type { SynapseTable } from './synapse-table.js';

export function deliverTable(table: SynapseTable, pre: SpikeHistory, t: number, target: Float64Array): void {
  const D = table.delaySlots;
  const { groupStart, post, weight } = table;
  const lists = pre.lists;
  for (let d = D - 1; d >= 0; d--) {
    const n = pre.count(t - d);
    if (n === 0) continue;
    const at = pre.offset(t - d);
    for (let k = 0; k < n; k++) {
      const g = lists[at + k]! * D + d;
      const end = groupStart[g + 1]!;
      for (let s = groupStart[g]!; s < end; s++) target[post[s]!] = target[post[s]!]! + weight[s]!;
    }
  }
}

/** Calls visit(s) for every synapse (table position) arriving at step t, in delivery order. */
export function forEachArrival(table: SynapseTable, pre: SpikeHistory, t: number, visit: (s: number) => void): void {
  const D = table.delaySlots;
  const { groupStart } = table;
  const lists = pre.lists;
  for (let d = D - 1; d >= 0; d--) {
    const n = pre.count(t - d);
    if (n === 0) continue;
    const at = pre.offset(t - d);
    for (let k = 0; k < n; k++) {
      const g = lists[at + k]! * D + d;
      const end = groupStart[g + 1]!;
      for (let s = groupStart[g]!; s < end; s++) visit(s);
    }
  }
}
