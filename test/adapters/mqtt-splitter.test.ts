/**
 * PublishSplitter (adapters/mqtt-client.ts): plain QoS 0 PUBLISH packets are taken off the socket bytes,
 * everything else reaches mqtt.js byte for byte, in order, however the bytes are chunked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PublishSplitter } from '../../adapters/mqtt-client.js';
import { remainingLength } from '../helpers/mqtt.js';


/** A PUBLISH: v5 with `props` as its property bytes (omit for v4); qos 1 adds a packet id. */
function publish(topic: string, payload: Buffer, o: { qos?: 0 | 1; retain?: boolean; props?: number[]; v5?: boolean } = {}): Buffer {
  const t = Buffer.from(topic);
  const v5 = o.v5 ?? true;
  const props = v5 ? [...remainingLength((o.props ?? []).length), ...(o.props ?? [])] : [];
  const id = o.qos === 1 ? [0, 7] : [];
  const body = Buffer.concat([Buffer.from([t.length >> 8, t.length & 255]), t, Buffer.from(id), Buffer.from(props), payload]);
  return Buffer.concat([Buffer.from([0x30 | ((o.qos ?? 0) << 1) | (o.retain ? 1 : 0), ...remainingLength(body.length)]), body]);
}

class FakeMqttJs {
  readonly received: Buffer[] = [];
  writableLength = 0;
  write(b: Buffer): boolean {
    this.received.push(Buffer.from(b));
    return true;
  }
  once(): void {}
  end(): void {}
  get bytes(): Buffer {
    return Buffer.concat(this.received);
  }
}

const pingresp = Buffer.from([0xd0, 0]);
const big = Buffer.alloc(70_000, 7); // remaining length in 3 bytes, spans chunks

for (const transient of [false, true]) {
  test(`plain QoS 0 publishes are taken, all else passes on in order, for every chunking${transient ? ' (packets spanning chunks joined in a reused buffer)' : ''}`, () => {
    const packets: Array<{ bytes: Buffer; plain?: { topic: string; payload: Buffer; retain: boolean } }> = [
      { bytes: publish('a/b', Buffer.from('one')), plain: { topic: 'a/b', payload: Buffer.from('one'), retain: false } },
      { bytes: publish('a/c', Buffer.from('two'), { retain: true }), plain: { topic: 'a/c', payload: Buffer.from('two'), retain: true } },
      { bytes: publish('big', big), plain: { topic: 'big', payload: big, retain: false } },
      { bytes: publish('a/b', Buffer.alloc(0)), plain: { topic: 'a/b', payload: Buffer.alloc(0), retain: false } },
    ];
    const others = [publish('q/1', Buffer.from('qos1'), { qos: 1 }), publish('p', Buffer.from('props'), { props: [0x01, 0x01] }), pingresp, publish('', Buffer.from('alias'), { props: [0x23, 0, 1] })];
    // Plain ones, then the others, then plain ones again.
    const stream = Buffer.concat([...packets.map((p) => p.bytes), ...others, ...packets.map((p) => p.bytes)]);
    for (const chunk of [1, 2, 3, 5, 64, 1000, 65536, stream.length]) {
      // One log of both sides, in the order things happened: taken packets re-framed, bytes passed to mqtt.js.
      const log: Buffer[] = [];
      const taken: Array<{ topic: string; payload: Buffer; retain: boolean }> = [];
      const s = new PublishSplitter(
        true,
        (topic, payload, retain) => {
          taken.push({ topic, payload: Buffer.from(payload), retain });
          log.push(publish(topic, payload, { retain }));
        },
        () => true,
        transient,
      );
      const dest = new FakeMqttJs();
      const write = dest.write.bind(dest);
      dest.write = (b: Buffer) => (log.push(Buffer.from(b)), write(b));
      for (let i = 0; i < stream.length; i += chunk) s.push(stream.subarray(i, i + chunk), dest);
      assert.ok(Buffer.concat(log).equals(stream), `chunk ${chunk}: every byte once, in order`);
      assert.deepEqual(taken.slice(0, 4), packets.map((p) => p.plain), `chunk ${chunk}`);
      // The others always reach mqtt.js unchanged (plain ones after them in the same chunk go along).
      assert.ok(dest.bytes.subarray(0, Buffer.concat(others).length).equals(Buffer.concat(others)), `chunk ${chunk}`);
      assert.equal(taken.length + s.passed, packets.length * 2 + others.length);
    }
  });
}

test('nothing is taken while mqtt.js still has packets pending, or before it is connected', () => {
  const bytes = Buffer.concat([publish('t', Buffer.from('x')), publish('t', Buffer.from('y'))]);
  const taken: string[] = [];
  let connected = false;
  const s = new PublishSplitter(true, (_t, p) => taken.push(p.toString()), () => connected);
  const dest = new FakeMqttJs();
  s.push(bytes, dest);
  assert.deepEqual(taken, []);
  assert.ok(dest.bytes.equals(bytes));
  connected = true;
  dest.writableLength = 10; // mqtt.js is still working through what it got: keep the order
  s.push(bytes, dest);
  assert.deepEqual(taken, []);
  dest.writableLength = 0;
  s.push(bytes, dest);
  assert.deepEqual(taken, ['x', 'y']);
});

test('MQTT 3.1.1 publishes have no property list', () => {
  const taken: string[] = [];
  const s = new PublishSplitter(false, (t, p) => taken.push(`${t}=${p.toString()}`), () => true);
  const dest = new FakeMqttJs();
  s.push(Buffer.concat([publish('v4/t', Buffer.from('hello'), { v5: false }), pingresp]), dest);
  assert.deepEqual(taken, ['v4/t=hello']);
  assert.ok(dest.bytes.equals(pingresp));
});
