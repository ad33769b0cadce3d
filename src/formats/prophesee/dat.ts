// PLACEHOLDER until the dat decoder lands: replaced by the real module.
import type { FormatDescriptor } from '../types.js';
export const datFormat: FormatDescriptor = {
  name: 'dat',
  description: 'placeholder',
  extensions: [],
  sniff: () => 0,
  createDecoder: () => {
    throw new Error('dat decoder not written yet');
  },
};
