// PLACEHOLDER until the cochlea decoder lands: replaced by the real module.
import type { FormatDescriptor } from './types.js';
export const cochleaFormat: FormatDescriptor = {
  name: 'cochlea',
  description: 'placeholder',
  extensions: [],
  sniff: () => 0,
  createDecoder: () => {
    throw new Error('cochlea decoder not written yet');
  },
};
