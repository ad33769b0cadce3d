import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPipelineFile, parsePipeline, pipeline, PipelineError, toJson, toYaml, validatePipeline } from '../../src/runtime/index.js';
import { main } from '../../src/cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'spikeflow-pipe-'));
const rec = join(dir, 'rec.raw');
writeFileSync(rec, '');

/** The error lines of parsing `text` (each "where: path: message"). */
function errors(text: string, sets: string[] = [], file = 'p.yaml'): string[] {
  try {
    parsePipeline(text, file, sets, dir);
  } catch (e) {
    assert.ok(e instanceof PipelineError, String(e));
    return e.message.split('\n');
  }
  assert.fail('expected a PipelineError');
}

const GOOD = `name: t
nodes:
  - id: cam
    source: file
    params:
      path: rec.raw
  - id: bins
    op: binSteps
    input: cam
    params:
      dtUs: 1000
      layout: y-x
  - id: out
    sink: log
    input: bins
`;

test('a valid file parses to its spec', () => {
  const { spec } = parsePipeline(GOOD, 'p.yaml', [], dir);
  assert.equal(spec.nodes.length, 3);
  assert.deepEqual(spec.nodes[1], { id: 'bins', op: 'binSteps', input: 'cam', params: { dtUs: 1000, layout: 'y-x' } });
});

test('each schema error names the file, the line and the field', () => {
  const text = GOOD.replace('dtUs: 1000', 'dtUs: 0').replace('layout: y-x', 'layout: sideways').replace('    input: bins\n', '    input: bins\n    params:\n      evry: 2\n');
  const lines = errors(text, [], 'pipelines/x.yaml');
  assert.deepEqual(lines, [
    'pipelines/x.yaml:11: nodes[1].params.dtUs: must be > 0',
    "pipelines/x.yaml:12: nodes[1].params.layout: must be one of p-y-x, y-x-p, y-x; got 'sideways'",
    'pipelines/x.yaml:17: nodes[2].params.evry: unknown parameter (known: every)',
  ]);
});

test('graph errors: unknown type, missing input, wrong kind, duplicate id, cycle, no sink', () => {
  assert.deepEqual(errors(GOOD.replace('op: binSteps', 'op: eval')), ["p.yaml:8: nodes[1].op: unknown op type 'eval' (see 'spikeflow list')"]);
  assert.deepEqual(errors(GOOD.replace('input: cam', 'input: camera')), ["p.yaml:9: nodes[1].input: no node with id 'camera'"]);
  assert.deepEqual(errors(GOOD.replace('id: out', 'id: bins')), ["p.yaml:13: nodes[2].id: 'bins' is already the id of nodes[1]"]);
  const ws = GOOD.replace('sink: log', 'sink: websocket');
  assert.deepEqual(errors(ws), ["p.yaml:15: nodes[2].input: 'bins' gives steps but sink 'websocket' takes events or snn or decisions"]);
  const cyc = `nodes:
  - { id: cam, source: file, params: { path: rec.raw } }
  - { id: a, op: denoise, input: b, params: { windowUs: 1 } }
  - { id: b, op: denoise, input: a, params: { windowUs: 1 } }
  - { id: out, sink: log, input: b }
`;
  const c = errors(cyc);
  assert.ok(c.some((l) => /^p\.yaml:3: nodes\[1\]\.input: cycle: a -> b -> a$/.test(l)), c.join('\n'));
  assert.deepEqual(errors(`nodes:\n  - { id: cam, source: file, params: { path: rec.raw } }\n`), ['p.yaml:1: nodes: has no sink (nothing would leave the pipeline)']);
});

test('missing and unknown keys, missing files, wrong policies', () => {
  const e = errors(`nodes:
  - id: cam
    source: udp
    params: {}
    queue: { policy: pause }
  - id: f
    source: file
    params: { path: nope.raw }
  - id: out
    sink: log
    input: [cam, f]
    colour: red
`);
  assert.deepEqual(e, [
    'p.yaml:4: nodes[0].params.port: is required',
    "p.yaml:5: nodes[0].queue.policy: source 'udp' cannot pause; use drop-oldest or drop-newest",
    `p.yaml:8: nodes[1].params.path: no such file: ${join(dir, 'nope.raw')}`,
    'p.yaml:12: nodes[2].colour: unknown key (known: id, source, op, sink, params, input, queue)',
  ]);
});

test('adapter-level params (serial framing, emulator config) are checked at validation, with their line', () => {
  const e = errors(`nodes:
  - id: dev
    source: serial
    params:
      path: /dev/null
      framing: { kind: morse }
  - id: em
    source: emulator
    params:
      width: 16
      stepUs: 1.5
  - id: out
    sink: log
    input: [dev, em]
`);
  assert.equal(e.length, 2, e.join('\n'));
  assert.match(e[0]!, /^p\.yaml:6: nodes\[0\]\.params\.framing: unknown serial framing 'morse'/);
  assert.match(e[1]!, /^p\.yaml:11: nodes\[1\]\.params\.stepUs: /);
});

test('JSON files get lines too', () => {
  const json = JSON.stringify(validatePipeline(parsePipeline(GOOD, 'p.yaml', [], dir).spec, dir), null, 2).replace('"dtUs": 1000', '"dtUs": "fast"');
  const e = errors(json, [], 'p.json');
  assert.equal(e.length, 1);
  const line = json.split('\n').findIndex((l) => l.includes('"dtUs"')) + 1;
  assert.equal(e[0], `p.json:${line}: nodes[1].params.dtUs: must be a number, got 'fast'`);
});

test('syntax errors name their line', () => {
  const e = errors('nodes:\n  - id: a\n    source: [file\n');
  assert.match(e[0]!, /^p\.yaml:\d+: \(syntax\): /);
});

test('network errors inside an inline spec point at the field; preset params and paths are checked', () => {
  const withNet = (net: string) => `nodes:
  - { id: cam, source: file, params: { path: rec.raw } }
  - { id: bins, op: binSteps, input: cam, params: { dtUs: 1000 } }
  - id: net
    op: snn
    input: bins
    params:
      network:
${net}
  - { id: out, sink: log, input: net }
`;
  const inline = withNet(`        spec:
          dt_ms: 1
          populations:
            - { name: in, model: input, size: 4 }
            - name: out
              model: lif
              size: 2
              tau_ms: -3
              v_th: 1
`);
  assert.deepEqual(errors(inline), ['p.yaml:16: nodes[2].params.network.spec.populations[1].tau_ms: must be > 0, got -3']);
  assert.deepEqual(errors(withNet('        preset: spike-classifier\n        params: { inputs: 0 }')), ['p.yaml:10: nodes[2].params.network.params: inputs: must be an integer >= 1, got 0']);
  assert.deepEqual(errors(withNet('        preset: nope')), ["p.yaml:9: nodes[2].params.network.preset: unknown network preset 'nope' (see 'spikeflow list')"]);
  writeFileSync(join(dir, 'net.json'), JSON.stringify({ dt_ms: 1, populations: [{ name: 'in', model: 'inputs', size: 2 }] }));
  assert.deepEqual(errors(withNet('        path: net.json')), [`p.yaml:9: nodes[2].params.network.path: ${join(dir, 'net.json')}: populations[0].model: must be one of 'input', 'lif', 'alif', 'logistic', got 'inputs'`]);
});

test('--set overrides any param by path, creates missing ones, and errors name the override', () => {
  const { spec } = parsePipeline(GOOD, 'p.yaml', ['bins.dtUs=250', 'bins.originUs=5', 'cam.pace=2.5', 'cam.queue.capacity=8', 'name=renamed', 'checkpoint.path=x.ckpt'].slice(0, 5), dir);
  assert.equal(spec.name, 'renamed');
  assert.deepEqual(spec.nodes[1]!.params, { dtUs: 250, layout: 'y-x', originUs: 5 });
  assert.deepEqual(spec.nodes[0], { id: 'cam', source: 'file', params: { path: 'rec.raw', pace: 2.5 }, queue: { capacity: 8 } });
  assert.equal(parsePipeline(GOOD, 'p.yaml', ['cam.pace=fast'], dir).spec.nodes[0]!.params!.pace, 'fast');
  assert.deepEqual(errors(GOOD, ['bins.dtUs=-1']), ['--set bins.dtUs=-1: nodes[1].params.dtUs: must be > 0']);
  assert.deepEqual(errors(GOOD, ['bins.dtUs']), ['--set bins.dtUs: must be KEY=VALUE']);
  assert.deepEqual(errors(GOOD, ['nosuch.x=1']), ['--set nosuch.x=1: nosuch: unknown key (known: name, description, checkpoint, nodes)']);
});

test('a file is data: YAML code tags and unknown node types are refused, never executed', () => {
  const e = errors(GOOD.replace('path: rec.raw', 'path: !!js/function "function(){ globalThis.pwned = 1 }"'));
  assert.equal((globalThis as { pwned?: number }).pwned, undefined);
  assert.ok(e.length >= 1);
  assert.deepEqual(errors(GOOD.replace('sink: log', 'sink: ../../evil.js')), ["p.yaml:14: nodes[2].sink: unknown sink type '../../evil.js' (see 'spikeflow list')"]);
});

test('the builder API makes the same graph; YAML and JSON serialisations round-trip', () => {
  const built = pipeline('rt', 'round trip')
    .source('cam', 'file', { path: 'rec.raw', pace: 'fast' }, { capacity: 16, policy: 'pause' })
    .op('clean', 'denoise', 'cam', { windowUs: 5000, radius: 1 })
    .op('bins', 'binSteps', 'clean', { dtUs: 1000, layout: 'y-x', width: 8, height: 1 })
    .op('net', 'snn', 'bins', { network: { preset: 'spike-classifier', params: { inputs: 8, classes: 2 } } })
    .op('dec', 'decide', 'net', { population: 'out', classes: 2, mode: 'window', windowSteps: 10 })
    .sink('ws', 'websocket', ['clean', 'dec'], { port: 0 })
    .checkpoint('state.ckpt')
    .build(dir);
  const fromYaml = parsePipeline(toYaml(built), 'rt.yaml', [], dir).spec;
  const fromJson = parsePipeline(toJson(built), 'rt.json', [], dir).spec;
  assert.deepEqual(fromYaml, built);
  assert.deepEqual(fromJson, built);
  assert.deepEqual(parsePipeline(toYaml(fromYaml), 'again.yaml', [], dir).spec, built);
  assert.throws(() => pipeline().source('cam', 'file', { path: 'rec.raw' }).build(dir), (e: unknown) => e instanceof PipelineError && /has no sink/.test(e.message));
});

test('spikeflow validate: exit 0 with a summary, 1 with file:line errors; list shows the catalogue', async () => {
  const good = join(dir, 'good.yaml');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(good, GOOD);
  writeFileSync(bad, GOOD.replace('dtUs: 1000', 'dtUs: -2'));
  const out: string[] = [];
  assert.equal(await main(['validate', good], (s) => out.push(s)), 0);
  assert.match(out.pop()!, /good\.yaml: ok \(3 nodes: 1 source\(s\), 1 operator\(s\), 1 sink\(s\)\)/);
  assert.equal(await main(['validate', bad], (s) => out.push(s)), 1);
  assert.equal(out.pop(), `${bad}:11: nodes[1].params.dtUs: must be > 0`);
  assert.equal(await main(['validate', bad, '--set', 'bins.dtUs=3'], (s) => out.push(s)), 0);
  assert.equal(loadPipelineFile(bad, ['bins.dtUs=3']).spec.nodes[1]!.params!.dtUs, 3);
  const listed: string[] = [];
  assert.equal(await main(['list'], (s) => listed.push(s)), 0);
  const text = listed.join('\n');
  for (const want of ['sources:', '  file ', '  serial ', '  mqtt ', 'operators:', '  binSteps ', '  snn ', '  decide ', 'sinks:', '  websocket ', 'neuron models: input, lif, alif, logistic', 'learning rules: stdp', 'backends: cpu, wasm', '  spike-classifier ', '  motion-direction ']) {
    assert.ok(text.includes(want), `list shows ${want}`);
  }
  assert.match(text, /dtUs\*\s+number > 0\s+step length/);
});
