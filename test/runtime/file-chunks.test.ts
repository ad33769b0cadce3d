// A replay decodes each chunk it reads in one go, holding up every packet behind it: paced replays
// read 64 KiB at a time (replayChunkBytes), fast ones 1 MiB, and an explicit chunkSize wins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { lastValueFrom, map } from 'rxjs';
import { pipeline, startPipeline } from '../../src/runtime/index.js';
import { fromFile } from '../../adapters/file-source.js';
import { sharedPath } from '../helpers/shared-data.js';

const FILE = 'evt2_sparklers.raw';
const EVENTS = 521_252;
const size = statSync(sharedPath(FILE)).size;

async function replay(params: Record<string, unknown>): Promise<{ reads: number; events: number }> {
  const spec = pipeline('chunks').source('cam', 'file', { path: sharedPath(FILE), ...params }).sink('out', 'log', 'cam', { every: 1e9 }).build();
  const r = await (await startPipeline(spec, { print: () => undefined, announce: () => undefined })).done;
  const cam = r.metrics.sources.cam as { reads: number; events: number };
  return { reads: cam.reads, events: cam.events };
}

test('runtime file source: 64 KiB reads when paced, 1 MiB as fast as possible, chunkSize when given', async () => {
  // 96 ms of events at 40× real time: a few ms of wall time.
  assert.deepEqual(await replay({ pace: 40 }), { reads: Math.ceil(size / 65536), events: EVENTS });
  assert.deepEqual(await replay({ pace: 'fast' }), { reads: Math.ceil(size / (1 << 20)), events: EVENTS });
  assert.deepEqual(await replay({ pace: 40, chunkSize: 1 << 20 }), { reads: Math.ceil(size / (1 << 20)), events: EVENTS });
});

test('fromFile: 64 KiB reads when paced, 1 MiB as fast as possible', async () => {
  for (const [pace, chunk] of [[{ speed: 40 }, 65536], ['fast', 1 << 20]] as const) {
    let chunks = 0;
    let events = 0;
    const src = fromFile(sharedPath(FILE), { pace, progress: false, onProgress: () => chunks++ });
    await lastValueFrom(src.pipe(map((p) => (events += p.length))));
    assert.equal(events, EVENTS);
    assert.equal(chunks, Math.ceil(size / chunk), `${JSON.stringify(pace)}: one progress call per chunk`);
  }
});
