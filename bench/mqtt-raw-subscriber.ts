/**
 * The broker's own ceiling for `npm run bench -- mqtt`: a subscriber with no MQTT library and no decoding
 * (plain TCP, MQTT 5 CONNECT and SUBSCRIBE written by hand) that only walks the PUBLISH frames' fixed
 * headers and counts them. What it receives is what mosquitto relays on this machine at this moment; a
 * real subscriber cannot do better.
 */
import type { Socket } from 'node:net';
import { rawConnect } from './mqtt-publisher.js';
import { remainingLength } from '../test/helpers/mqtt.js';

export interface RawCounter {
  count: number;
  first: number;
  last: number;
  close(): void;
}

export async function rawSubscribe(url: string, topic: string): Promise<RawCounter> {
  const socket: Socket = await rawConnect(url, `bench-count-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  const t = Buffer.from(topic);
  // SUBSCRIBE: packet id 1, no properties, the filter, options 0 (QoS 0).
  const body = Buffer.concat([Buffer.from([0, 1, 0, t.length >> 8, t.length & 255]), t, Buffer.from([0])]);
  const counter: RawCounter = { count: 0, first: 0, last: 0, close: () => socket.destroy() };
  let subacked!: () => void;
  const suback = new Promise<void>((r) => (subacked = r));
  // Bytes still to skip of the frame in progress, and a partial fixed header.
  let skip = 0;
  let head: number[] = [];
  socket.on('data', (d: Buffer) => {
    let i = 0;
    const n = d.length;
    while (i < n) {
      if (skip > 0) {
        const k = Math.min(skip, n - i);
        skip -= k;
        i += k;
        continue;
      }
      head.push(d[i++]!);
      if (head.length < 2 || (head[head.length - 1]! & 0x80 && head.length < 5)) continue;
      let len = 0;
      for (let k = head.length - 1; k >= 1; k--) len = len * 128 + (head[k]! & 0x7f);
      const type = head[0]! >> 4;
      if (type === 3) {
        const now = performance.now();
        if (counter.count++ === 0) counter.first = now;
        counter.last = now;
      } else if (type === 9) subacked();
      skip = len;
      head = [];
    }
  });
  socket.write(Buffer.concat([Buffer.from([0x82, ...remainingLength(body.length)]), body]));
  await suback;
  return counter;
}
