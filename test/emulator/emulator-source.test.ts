/** The Rx emulator source: same events as the synchronous core, labels before their packets, pacing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { openEmulator } from '../../adapters/emulator-source.js';
import { emulateToPackets, EmulatorConfigError, type EmulatorConfig, type MotionLabel } from '../../src/emulator/index.js';
import type { EventPacket } from '../../src/events/packet.js';
import { checksum, eventCount } from './support.js';

const config: EmulatorConfig = {
  width: 40,
  height: 30,
  seed: 8,
  dvs: { noiseRateHz: 3 },
  schedule: { kind: 'random', directions: 8, speeds: [30, 60], segmentUs: 40_000 },
};

test('the Rx source emits the same packets and labels as the synchronous core', async () => {
  const durationUs = 300_000;
  const expected = emulateToPackets(config, durationUs);
  const source = openEmulator(config, { durationUs });
  const labels = lastValueFrom(source.labels.pipe(toArray()));
  const packets = await lastValueFrom(source.events.pipe(toArray()));
  assert.equal(packets.length, expected.packets.length);
  assert.equal(eventCount(packets), eventCount(expected.packets));
  assert.equal(checksum(packets), checksum(expected.packets));
  assert.deepEqual(await labels, expected.labels);
  assert.equal(expected.labels.length, 8);
  assert.deepEqual(source.geometry, { width: 40, height: 30 });
});

test('labels come before the packets they describe, whichever is subscribed first', async () => {
  const durationUs = 130_000;
  // Reference order from the core: a label at each segment's first step, then that step's packet.
  const reference: string[] = [];
  {
    const r = emulateToPackets(config, durationUs);
    let seg = 0;
    r.packets.forEach((_, k) => {
      if (seg < r.labels.length && k * 1000 === r.labels[seg]!.t_start_us) reference.push(`L${seg++}`);
      reference.push('P');
    });
  }
  for (const labelsFirst of [true, false]) {
    const source = openEmulator(config, { durationUs });
    const log: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const onLabel = (l: MotionLabel): void => void log.push(`L${l.segment}`);
      if (labelsFirst) source.labels.subscribe(onLabel);
      source.events.subscribe({ next: () => log.push('P'), complete: resolve, error: reject });
      if (!labelsFirst) source.labels.subscribe(onLabel);
    });
    await done;
    assert.deepEqual(log, reference, labelsFirst ? 'labels subscribed first' : 'events subscribed first');
  }
});

test('several events subscribers share one run; unsubscribing ends it and completes labels', async () => {
  const source = openEmulator(config);
  const a: EventPacket[] = [];
  const b: EventPacket[] = [];
  const labels = lastValueFrom(source.labels.pipe(toArray()));
  const subA = source.events.subscribe((p) => a.push(p));
  const subB = source.events.subscribe((p) => b.push(p));
  await new Promise((r) => setTimeout(r, 50));
  subA.unsubscribe();
  subB.unsubscribe();
  assert.ok(a.length > 0, 'packets arrived');
  assert.equal(b.length, a.length);
  a.forEach((p, k) => assert.equal(p, b[k], 'the very same packet objects'));
  const got = await labels; // completes although the random schedule is endless
  assert.ok(got.length >= 1 && got[0]!.segment === 0, `${got.length} labels`);
  // take(n) on an endless run stops it.
  const few = await lastValueFrom(openEmulator(config).events.pipe(take(5), toArray()));
  assert.equal(few.length, 5);
  // A fresh subscription after the end runs again from t = 0 with identical events.
  const first = await firstValueFrom(source.events.pipe(take(20), toArray()));
  assert.equal(checksum(first), checksum(emulateToPackets(config, 20_000).packets));
});

test('paced at real time × speed (loose bounds); event times stay the emulator’s', async () => {
  const t0 = performance.now();
  const packets = await lastValueFrom(openEmulator(config, { realtime: true, durationUs: 200_000 }).events.pipe(toArray()));
  const elapsed = performance.now() - t0;
  assert.ok(elapsed >= 150, `200 ms emulated at speed 1 took ${elapsed.toFixed(0)} ms`);
  assert.ok(elapsed < 5000, `took ${elapsed.toFixed(0)} ms`);
  assert.equal(checksum(packets), checksum(emulateToPackets(config, 200_000).packets));
  const t1 = performance.now();
  await lastValueFrom(openEmulator(config, { realtime: true, speed: 4, durationUs: 200_000 }).events.pipe(toArray()));
  const fast = performance.now() - t1;
  assert.ok(fast >= 35, `200 ms emulated at speed 4 took ${fast.toFixed(0)} ms`);
  assert.ok(fast < elapsed, `speed 4 (${fast.toFixed(0)} ms) is quicker than speed 1 (${elapsed.toFixed(0)} ms)`);
});

test('bad options and config are reported at open, naming the field', () => {
  assert.throws(() => openEmulator(config, { speed: 0 }), (e: unknown) => e instanceof EmulatorConfigError && e.field === 'options.speed');
  assert.throws(() => openEmulator(config, { durationUs: -5 }), (e: unknown) => e instanceof EmulatorConfigError && e.field === 'options.durationUs');
  assert.throws(() => openEmulator({ width: 70000 }), (e: unknown) => e instanceof EmulatorConfigError && e.field === 'width');
});

test('loop option repeats a list schedule', async () => {
  const list: EmulatorConfig = { width: 16, height: 16, schedule: { kind: 'list', segments: [{ durationUs: 5000, direction_deg: 45, speed_px_s: 30 }] } };
  const source = openEmulator(list, { loop: true, durationUs: 20_000 });
  const labels = lastValueFrom(source.labels.pipe(toArray()));
  const packets = await lastValueFrom(source.events.pipe(toArray()));
  assert.equal(packets.length, 20);
  assert.deepEqual((await labels).map((l) => l.t_start_us), [0, 5000, 10_000, 15_000]);
  const single = openEmulator(list);
  const singleLabels = lastValueFrom(single.labels.pipe(toArray()));
  assert.equal((await lastValueFrom(single.events.pipe(toArray()))).length, 5);
  assert.equal((await singleLabels).length, 1);
});
