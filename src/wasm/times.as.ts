// AssemblyScript kernel: adds a constant to event times in place, two at a time, over packet buffers
// in the decode kernels' memory (layout.ts ARENA): a replay's later passes shift every time they read
// (src/runtime/file-reader.ts). The same f64 additions as the TypeScript loop, lane by lane.

export { ABI, MEMORY_PAGES, ARENA } from './layout';

/** t[i] += shift for the n f64 times from byte address `at` (8-aligned). */
export function addToTimes(at: usize, n: i32, shift: f64): void {
  const s = f64x2.splat(shift);
  const end = at + (<usize>n << 3);
  let a = at;
  for (; a + 16 <= end; a += 16) v128.store(a, f64x2.add(v128.load(a), s));
  if (a < end) store<f64>(a, load<f64>(a) + shift);
}
