/**
 * MQTT over TLS with username/password, against a real mosquitto with a certificate made here by openssl and a
 * password file made by mosquitto_passwd: the source and sink connect and round-trip; a wrong password is
 * refused, the source gives up after its attempts, and no log line or error carries the password.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromMqtt } from '../../adapters/mqtt-source.js';
import { openMqttSink } from '../../adapters/mqtt-sink.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { collect, decision, waitFor } from '../helpers/mqtt.js';

const PASSWORD = 'hunter2-s3cr3t';
let dir: string;
let broker: Mosquitto;
let ca: Buffer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spikeflow-mqtt-tls-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  // Self-signed, valid for 127.0.0.1: the client verifies it against itself as the CA.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const pw = join(dir, 'passwords');
  execFileSync('mosquitto_passwd', ['-c', '-b', pw, 'sensor', PASSWORD], { stdio: 'ignore' });
  ca = readFileSync(cert);
  broker = await startMosquitto({ anonymous: false, extra: [`certfile ${cert}`, `keyfile ${key}`, `password_file ${pw}`] });
});
after(async () => {
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

test('TLS + username/password: round trip, no-delay on the TLS socket', async () => {
  const url = `mqtts://127.0.0.1:${broker.port}`;
  const auth = { username: 'sensor', password: PASSWORD, tls: { ca } };
  const rx = await collect({ url, ...auth, topics: 'secure/#' });
  const sink = await openMqttSink({ url, ...auth, topic: 'secure/{kind}', qos: 1, log: { sink: () => {} } });
  await sink.ready;
  sink.publish(decision(7));
  sink.publish(decision(8));
  assert.equal(await sink.drain(), true);
  await waitFor(() => rx.got.length === 2, 'two decisions over TLS');
  rx.stop();
  await sink.close();
  assert.deepEqual(
    rx.got.map((g) => [g.topic, g.message.kind, g.message.sequence]),
    [
      ['secure/decision', 'decision', 1],
      ['secure/decision', 'decision', 2],
    ],
  );
  assert.equal(rx.source.stats.noDelay, true);
  assert.equal(sink.stats.noDelay, true);
  assert.deepEqual(rx.logLines, []);
});

test('wrong password: refused, the source errors after its attempts, the password is never logged', async () => {
  const lines: string[] = [];
  const source = fromMqtt({
    url: `mqtts://sensor:${PASSWORD}x@127.0.0.1:${broker.port}`,
    tls: { ca },
    topics: 'secure/#',
    reconnect: { initialDelayMs: 20, maxDelayMs: 50, maxAttempts: 2 },
    log: { sink: (l) => lines.push(l) },
  });
  const failure = await new Promise<Error>((resolve) => source.subscribe({ error: resolve, complete: () => resolve(new Error('completed')) }));
  assert.match(failure.message, /^mqtt mqtts:\/\/127\.0\.0\.1:\d+: gave up after 3 connection failures in a row \(last error: Connection refused: (Bad User Name or Password|Not authorized)\)$/);
  assert.equal(source.stats.connections, 0);
  assert.ok(source.stats.connectionErrors >= 1);
  assert.ok(lines.length >= 1 && lines.every((l) => l.startsWith(`mqtt mqtts://127.0.0.1:${broker.port}: `)), lines.join('\n'));
  assert.ok(lines.some((l) => /Bad User Name or Password|Not authorized/i.test(l)), lines.join('\n'));
  for (const text of [...lines, failure.message]) assert.ok(!text.includes(PASSWORD), `no password in: ${text}`);
});
