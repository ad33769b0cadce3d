// AssemblyScript: the linear-memory map every decode kernel (src/wasm/*.as.ts) shares. The decode
// kernels import one memory (created by src/formats/wasm-kernels.ts), fixed at MEMORY_PAGES × 64 KiB:
// it never grows, so JS views made once stay valid. Kernels are called synchronously, one at a time,
// with their state handed in before the call, so the areas below are shared by all of them.
//   STATE     1 KiB    8 f64 slots of decoder state carried between calls (meaning per kernel)
//   TABLES    4 KiB    constant tables a kernel builds at instantiation (up to 60 KiB; only EVT 3.0 has one)
//   IN_WORDS  64 KiB   input: up to IN_CAPACITY 32-bit words (1 MiB) copied in by JS
//   SX, SY    u16 ×STAGE staged x, y;  ST f64 ×STAGE staged t (µs);  SP u8 ×STAGE staged polarity
//   ARENA     2 MiB    to the end: packet buffers (src/events/pool.ts SlabArena), which the kernels
//                      write into directly when a decoder's PacketPool takes its buffers from there
// decodeBlock(i, end, ox, oy, ot, op, room) writes events 0.. at the byte addresses ox (u16 x), oy
// (u16 y), ot (f64 t), op (u8 p): the staging area, or a packet buffer in the arena. At most `room`
// events fit there; a kernel may write scratch values up to that limit beyond the events it reports.

/** Version of this memory map and of the kernels' exports; the loader refuses a kernel built with another. */
export const ABI: i32 = 2;
export const STAGE: i32 = 16384;
/** Input capacity in 32-bit words. */
export const IN_CAPACITY: i32 = 262144;
export const STATE: usize = 1024;
export const TABLES: usize = 4096;
export const IN_WORDS: usize = 65536;
export const SX: usize = IN_WORDS + (<usize>IN_CAPACITY << 2);
export const SY: usize = SX + (<usize>STAGE << 1);
export const ST: usize = SY + (<usize>STAGE << 1);
export const SP: usize = ST + (<usize>STAGE << 3);
export const ARENA: usize = 2 << 20;
/** Size of the shared memory in 64 KiB pages (64 MiB; scripts/build-wasm.mjs declares the import with it). */
export const MEMORY_PAGES: i32 = 1024;
