/** The built-in event operators (events in, events out): filters and geometry transforms. */
import type { OperatorFunction } from 'rxjs';
import { denoise } from '../../../operators/denoise.js';
import { downsample } from '../../../operators/downsample.js';
import { flip, type FlipAxis } from '../../../operators/flip.js';
import { hotPixels } from '../../../operators/hot-pixels.js';
import { polarity, type PolarityChoice } from '../../../operators/polarity.js';
import { refractory } from '../../../operators/refractory.js';
import { roi } from '../../../operators/roi.js';
import { rotate, type RotationDeg } from '../../../operators/rotate.js';
import { transpose } from '../../../operators/transpose.js';
import type { EventPacket } from '../../events/packet.js';
import type { PacketPool } from '../../events/pool.js';
import { bool, field, int, num, str, type FieldSchema } from '../schema.js';
import { type Params, defineOp } from '../node-types.js';

// ------------------------------------------------------------------------------------ operators

// Each of these maps a packet to a new one (or passes it on) during the call and keeps nothing of it
// (releasesInput), except hotPixels, which holds packets while it calibrates.
const eventOp = (name: string, doc: string, params: Record<string, FieldSchema>, build: (p: Params, pool: PacketPool | undefined) => OperatorFunction<EventPacket, EventPacket>, releasesInput = true): void =>
  defineOp({ name, doc, params, accepts: ['events'], produces: 'events', releasesInput, threadable: true }, (p, ctx) => ({ operator: build(p, ctx.outputPool) as OperatorFunction<unknown, unknown> }));

eventOp('denoise', 'Drops events without a recent neighbour (background activity filter).', { windowUs: field(num({ gt: 0 }), 'support window (µs)', true), radius: field(int({ ge: 1 }), 'neighbourhood radius (default 1)') }, (p, pool) =>
  denoise({ windowUs: p.windowUs as number, radius: p.radius as number | undefined, pool }),
);
eventOp('refractory', 'Drops events of a pixel within its refractory period.', { refractoryUs: field(num({ gt: 0 }), 'period (µs)', true), perPolarity: field(bool, 'separate periods per polarity') }, (p, pool) =>
  refractory({ refractoryUs: p.refractoryUs as number, perPolarity: p.perPolarity as boolean | undefined, pool }),
);
eventOp(
  'hotPixels',
  'Removes hot pixels (given, or found in a calibration window).',
  {
    pixels: field({ type: 'array', items: { type: 'object', fields: { x: field(int({ ge: 0 }), 'x', true), y: field(int({ ge: 0 }), 'y', true) } } }, 'known hot pixels'),
    calibrationUs: field(num({ gt: 0 }), 'calibration window (µs)'),
    thresholdHz: field(num({ gt: 0 }), 'rate above which a pixel is hot'),
  },
  (p) => hotPixels({ pixels: p.pixels as { x: number; y: number }[] | undefined, calibrationUs: p.calibrationUs as number | undefined, thresholdHz: p.thresholdHz as number | undefined }),
  false,
);
eventOp(
  'roi',
  'Keeps a rectangle (coordinates shifted to it).',
  { x: field(int({ ge: 0 }), 'left', true), y: field(int({ ge: 0 }), 'top', true), width: field(int({ ge: 1 }), 'width', true), height: field(int({ ge: 1 }), 'height', true) },
  (p) => roi({ x: p.x as number, y: p.y as number, width: p.width as number, height: p.height as number }),
);
eventOp('downsample', 'Divides coordinates by a factor.', { factor: field(int({ ge: 1 }), 'both axes'), factorX: field(int({ ge: 1 }), 'x'), factorY: field(int({ ge: 1 }), 'y') }, (p, pool) =>
  downsample({ factor: p.factor as number | undefined, factorX: p.factorX as number | undefined, factorY: p.factorY as number | undefined, pool }),
);
eventOp('polarity', 'Keeps one polarity.', { keep: field(str(['on', 'off']), 'on or off', true) }, (p) => polarity(p.keep as PolarityChoice));
eventOp('flip', 'Mirrors x, y or both.', { axis: field(str(['x', 'y', 'xy']), 'axis', true) }, (p) => flip(p.axis as FlipAxis));
eventOp('rotate', 'Rotates by 90, 180 or 270 degrees.', { degrees: field({ type: 'oneOf', options: [90, 180, 270].map((d) => num({ ge: d, le: d })), describe: '90, 180 or 270' }, 'angle', true) }, (p) =>
  rotate(p.degrees as RotationDeg),
);
eventOp('transpose', 'Swaps x and y.', {}, () => transpose());
