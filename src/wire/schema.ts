/**
 * The protobuf schema (proto/spikeflow.proto), parsed once by protobufjs. The .proto file is the
 * single source of truth; it ships with the package, and is found by walking up from this module
 * (src/wire in a checkout, dist/src/wire when built).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

function findProto(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let k = 0; k < 5; k++) {
    const p = join(dir, 'proto', 'spikeflow.proto');
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new Error('spikeflow: proto/spikeflow.proto not found beside the package');
}

const root = protobuf.parse(readFileSync(findProto(), 'utf8'), { keepCase: true }).root;

export const EnvelopeType = root.lookupType('spikeflow.v1.Envelope');
