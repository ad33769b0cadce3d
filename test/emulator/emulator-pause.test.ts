/** Backpressure on the emulator source: pause holds the run, resume continues it, nothing lost or repeated. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openEmulator } from '../../adapters/emulator-source.js';
import { emulateToPackets, type EmulatorConfig } from '../../src/emulator/index.js';
import type { EventPacket } from '../../src/events/packet.js';
import { checksum, eventCount } from './support.js';

const config: EmulatorConfig = { width: 24, height: 24, seed: 5, schedule: { kind: 'random', directions: 4, speeds: [50], segmentUs: 20_000 } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const realtime of [false, true]) {
  test(`pause() stops the run, resume() continues it with the same packets as an unpaused run (${realtime ? 'real time' : 'as fast as possible'})`, async () => {
    const durationUs = realtime ? 120_000 : 400_000;
    const expected = emulateToPackets(config, durationUs);
    const source = openEmulator(config, { durationUs, realtime, sliceMs: 1 });
    const got: EventPacket[] = [];
    let paused = false;
    let whilePaused = 0;
    const done = new Promise<void>((resolve, reject) =>
      source.events.subscribe({
        next: (p) => {
          got.push(p);
          if (paused) whilePaused++;
          // Pause as a full queue would, from inside delivery.
          if (got.length === 10) {
            paused = true;
            source.pause();
          }
        },
        error: reject,
        complete: resolve,
      }),
    );
    await sleep(realtime ? 150 : 60);
    const heldAt = got.length;
    assert.ok(heldAt < expected.packets.length, `paused at ${heldAt} of ${expected.packets.length} packets`);
    await sleep(50);
    assert.equal(got.length, heldAt, 'nothing is emitted while paused');
    paused = false;
    source.resume();
    await done;
    assert.ok(whilePaused <= 1, `at most the step in progress after pause(), got ${whilePaused}`);
    assert.equal(got.length, expected.packets.length);
    assert.equal(eventCount(got), eventCount(expected.packets));
    assert.equal(checksum(got), checksum(expected.packets));
  });
}
