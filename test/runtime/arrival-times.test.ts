// Event-to-decision latency counts from when a paced packet was due (a live sensor would have
// delivered it then), not from when a busy pipeline let the replay or the emulator emit it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pausableFile } from '../../src/runtime/file-reader.js';
import { openEmulator } from '../../adapters/emulator-source.js';
import type { EventPacket } from '../../src/events/packet.js';
import { sharedPath } from '../helpers/shared-data.js';

const busy = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

/** The first `n` packets with their emission times, the consumer stalling 30 ms on the first. */
function collect(stream: { subscribe: (o: { next: (p: EventPacket) => void; complete: () => void }) => { unsubscribe(): void } }, n: number): Promise<{ packet: EventPacket; emittedAt: number }[]> {
  return new Promise((resolve) => {
    const got: { packet: EventPacket; emittedAt: number }[] = [];
    const sub = stream.subscribe({
      next: (packet) => {
        got.push({ packet, emittedAt: performance.now() });
        if (got.length === 1) busy(30);
        if (got.length === n) {
          queueMicrotask(() => sub.unsubscribe());
          resolve(got);
        }
      },
      complete: () => resolve(got),
    });
  });
}

test('paced file replay: each slice is due on the replay clock, however late a busy consumer let it out', async () => {
  const f = pausableFile(sharedPath('evt2_sparklers.raw'), { pace: { speed: 1 } });
  const got = await collect(f.stream, 20);
  assert.equal(got.length, 20);
  const t0 = got[0]!.packet.t[0]!;
  const due0 = f.dueAt(got[0]!.packet)!;
  for (const { packet, emittedAt } of got) {
    const due = f.dueAt(packet)!;
    // Due when its last event is, on the wall clock started at the first event.
    assert.ok(Math.abs(due - due0 - (packet.t[packet.length - 1]! - t0) / 1000) < 1.01, `due ${due - due0} ms`);
    assert.ok(emittedAt >= due - 0.01, 'never out before it is due');
  }
  // The 30 ms stall on the first slice: the next ones came out late, and their due times say so.
  const late = got.slice(1, 10).map(({ packet, emittedAt }) => emittedAt - f.dueAt(packet)!);
  assert.ok(Math.max(...late) > 20, `late by ${late.map((x) => x.toFixed(1)).join(', ')} ms`);
  const fast = pausableFile(sharedPath('evt2_sparklers.raw'));
  const [first] = await collect(fast.stream, 1);
  assert.equal(fast.dueAt(first!.packet), undefined, 'as fast as possible: no due time');
});

test('realtime emulator: each step is due at its end on the wall clock, however late it was emitted', async () => {
  const em = openEmulator({ width: 16, height: 16, stepUs: 2000, dvs: { noiseRateHz: 50 } }, { realtime: true, durationUs: 200_000 });
  const got = await collect(em.events, 30);
  assert.ok(got.length >= 20);
  const late = got.slice(1, 10).map(({ packet, emittedAt }) => emittedAt - em.dueAt(packet)!);
  assert.ok(Math.max(...late) > 20, `late by ${late.map((x) => x.toFixed(1)).join(', ')} ms`);
  for (const { packet, emittedAt } of got) assert.ok(emittedAt >= em.dueAt(packet)! - 0.01);
  // Consecutive steps are due 2 ms apart.
  for (let i = 1; i < got.length; i++) assert.ok(Math.abs(em.dueAt(got[i]!.packet)! - em.dueAt(got[i - 1]!.packet)! - 2) < 1e-6);
  const fast = openEmulator({ width: 16, height: 16 }, { durationUs: 10_000 });
  const [first] = await collect(fast.events, 1);
  assert.equal(fast.dueAt(first!.packet), undefined);
});

test('the runtime measures a paced replay latency from when packets were due: a stall of the main thread shows', async () => {
  const { pipeline, startPipeline } = await import('../../src/runtime/index.js');
  const spec = pipeline('stall')
    .source('cam', 'file', { path: sharedPath('evt2_sparklers.raw'), pace: 1 })
    .op('small', 'downsample', 'cam', { factor: 20 })
    .op('bins', 'binSteps', 'small', { dtUs: 1000, width: 32, height: 24 })
    .op('net', 'snn', 'bins', { network: { preset: 'spike-classifier', params: { inputs: 2 * 32 * 24, classes: 4, perClass: 4, p: 0.1, weight: 0.05 } } })
    .op('dec', 'decide', 'net', { population: 'out', classes: 4, mode: 'window', windowSteps: 10 })
    .sink('out', 'log', 'dec', { every: 1e9 })
    .build();
  const run = await startPipeline(spec, { print: () => undefined, announce: () => undefined });
  // 40 ms in which the replay cannot emit: the slices due meanwhile come out late.
  setTimeout(() => busy(40), 30);
  const r = await run.done;
  assert.ok(r.metrics.decisions >= 5);
  assert.ok(r.metrics.latency.maxMs >= 25, `max latency ${r.metrics.latency.maxMs} ms`);
});
