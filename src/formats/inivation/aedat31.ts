// PLACEHOLDER until the aedat31 decoder lands: replaced by the real module.
import type { FormatDescriptor } from '../types.js';
export const aedat31Format: FormatDescriptor = {
  name: 'aedat31',
  description: 'placeholder',
  extensions: [],
  sniff: () => 0,
  createDecoder: () => {
    throw new Error('aedat31 decoder not written yet');
  },
};
