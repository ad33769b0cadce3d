// AssemblyScript: the linear-memory map every decode kernel (src/wasm/*.as.ts) shares, so one JS loader
// (src/formats/wasm-kernels.ts) serves them all. Memory is fixed at 2 MiB and never grows, so JS views
// made once stay valid.
//   STATE     1 KiB    8 f64 slots of decoder state carried between calls (meaning per kernel)
//   TABLES    4 KiB    constant tables a kernel builds at instantiation (up to 60 KiB)
//   IN_WORDS  64 KiB   input: up to IN_CAPACITY 32-bit words (1 MiB) copied in by JS
//   SX, SY    u16 ×STAGE staged x, y;  ST f64 ×STAGE staged t (µs);  SP u8 ×STAGE staged polarity

/** Version of this memory map and of the kernels' exports; the loader refuses a kernel built with another. */
export const ABI: i32 = 1;
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
