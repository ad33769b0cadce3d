/**
 * spikeflow's side of `npm run bench -- node-red`, in its own process as Node-RED is in its own:
 * `node --import tsx bench/mqtt-to-ws.ts MQTT_URL TOPIC` subscribes with fromMqtt, and publishes every
 * Decision on the WebSocket server's `decisions` stream (JSON to clients that do not ask for protobuf),
 * the same path as Node-RED's MQTT-in → function → websocket-out. Prints {"url": …} when listening.
 */
import { startWsServer } from '../adapters/ws-server.js';
import { fromMqtt } from '../adapters/mqtt-source.js';

const [url, topic] = process.argv.slice(2) as [string, string];
const server = await startWsServer({ log: { sink: () => undefined }, sendBufferBytes: 8 << 20, queueBytes: 8 << 20 });
const source = fromMqtt({ url, topics: topic, qos: 0 });
source.subscribe((m) => {
  if (m.message.kind === 'decision') server.publish('decisions', m.message);
});
while (source.stats.subscribes === 0) await new Promise((r) => setTimeout(r, 10));
process.stdout.write(JSON.stringify({ url: new URL('decisions', server.url).href }) + '\n');
process.on('SIGTERM', () => process.exit(0));
