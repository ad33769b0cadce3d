// PLACEHOLDER until the aedat4 decoder lands: replaced by the real module.
import type { FormatDescriptor } from '../types.js';
export const aedat4Format: FormatDescriptor = {
  name: 'aedat4',
  description: 'placeholder',
  extensions: [],
  sniff: () => 0,
  createDecoder: () => {
    throw new Error('aedat4 decoder not written yet');
  },
};
