import { readFileSync } from 'node:fs';
import { createDecoder } from './dist/src/formats/registry.js';
const bytes = new Uint8Array(readFileSync('/work/shared/data/' + (process.argv[3] ?? 'evt2_sparklers.raw')));
const d = createDecoder(process.argv[4] ?? 'evt2');
const pk = [...d.push(bytes).events, ...d.end().events].filter(p => p.length);
const n = pk.reduce((a, p) => a + p.length, 0);
const W = +(process.argv[5] ?? 640), H = +(process.argv[6] ?? 480);
const compact = process.argv[2] === '32';
const mod = new WebAssembly.Module(readFileSync(compact ? '/tmp/exp/exp32.wasm' : 'dist/wasm/pixels.wasm'));
const B = 16384, PAGE = 65536;
const xs = PAGE, ys = xs + 2 * B, ts = ys + 2 * B, ps = ts + 8 * B, state = ps + B + 64;
const memory = new WebAssembly.Memory({ initial: Math.ceil((state + 8 * W * H) / PAGE) + 1 });
const ex = new WebAssembly.Instance(mod, { env: { memory, abort() {} } }).exports;
const buf = memory.buffer;
const X = new Uint16Array(buf, xs, B), Y = new Uint16Array(buf, ys, B), T = new Float64Array(buf, ts, B), P = new Uint8Array(buf, ps, B);
if (!compact) new Float64Array(buf, state, W * H).fill(-Infinity);
let tk = 0, kept = 0;
const base = pk[0].t[0];
for (let pass = 0; pass < 10; pass++) for (const p of pk) for (let i0 = 0; i0 < p.length; i0 += B) {
  const i1 = Math.min(p.length, i0 + B);
  X.set(p.x.subarray(i0, i1)); Y.set(p.y.subarray(i0, i1)); T.set(p.t.subarray(i0, i1)); P.set(p.p.subarray(i0, i1));
  for (let i = 0; i < i1 - i0; i++) T[i] += pass * 1000000;
  let t1 = performance.now();
  kept += compact ? ex.refractory32(i1 - i0, xs, ys, ts, ps, state, W, H, 0, 1000, base) : ex.refractory(i1 - i0, xs, ys, ts, ps, state, W, H, 0, 1000);
  tk += performance.now() - t1;
}
console.log(compact ? 'u32' : 'f64', 'kernel', (tk * 1e6 / n / 10).toFixed(2), 'ns/ev kept', (kept / n / 10).toFixed(4));
