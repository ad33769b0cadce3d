// The runtime's file reader replays a file several times with `passes`, each pass's times shifted
// to start 1 µs after the latest event before it, every other field unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pausableFile } from '../../src/runtime/file-reader.js';
import { concatPackets, type EventPacket } from '../../src/events/packet.js';
import { sharedPath } from '../helpers/shared-data.js';

function readAll(passes: number): Promise<EventPacket> {
  const f = pausableFile(sharedPath('evt3_pedestrians_small.raw'), { pace: 'fast', passes });
  const packets: EventPacket[] = [];
  return new Promise((resolve, reject) =>
    f.stream.subscribe({
      // Copies: the reader recycles its buffers once a packet is given back (never here, but keep it honest).
      next: (p) => packets.push({ ...p, x: p.x.slice(), y: p.y.slice(), t: p.t.slice(), p: p.p.slice() }),
      error: reject,
      complete: () => resolve(concatPackets(packets)),
    }),
  );
}

test('file reader passes: each pass has the same events, its times shifted to keep increasing', async () => {
  const once = await readAll(1);
  const thrice = await readAll(3);
  const n = once.length;
  assert.equal(n, 5000);
  assert.equal(thrice.length, 3 * n);
  let end = -Infinity;
  for (let pass = 0; pass < 3; pass++) {
    const at: number = pass * n;
    const shift: number = thrice.t[at]! - once.t[0]!;
    if (pass === 0) assert.equal(shift, 0);
    else assert.equal(thrice.t[at], end + 1, `pass ${pass} starts 1 µs after the latest event before it`);
    for (let i = 0; i < n; i++) {
      assert.equal(thrice.t[at + i], once.t[i]! + shift);
      assert.equal(thrice.x[at + i], once.x[i]);
      assert.equal(thrice.y[at + i], once.y[i]);
      assert.equal(thrice.p[at + i], once.p[i]);
      end = Math.max(end, thrice.t[at + i]!);
    }
  }
});
