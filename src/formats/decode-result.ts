/**
 * Assembling what a decoder's `push`/`end` returns: the shared NO_RESULT when nothing came out (so
 * idle pushes allocate nothing), else the events, side batches and errors as they are.
 */

import { NO_RESULT, type DecodeError, type DecodeResult } from './types.js';
import type { EventPacket } from '../events/packet.js';
import type { SideBatch } from '../events/side.js';

export function decodeResult(events: EventPacket[], side: SideBatch[], errors: DecodeError[]): DecodeResult {
  if (events.length === 0 && side.length === 0 && errors.length === 0) return NO_RESULT;
  return { events, side, errors };
}
