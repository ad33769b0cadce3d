// PLACEHOLDER until the aedat2 decoder lands: replaced by the real module.
import type { FormatDescriptor } from '../types.js';
export const aedat2Format: FormatDescriptor = {
  name: 'aedat2',
  description: 'placeholder',
  extensions: [],
  sniff: () => 0,
  createDecoder: () => {
    throw new Error('aedat2 decoder not written yet');
  },
};
