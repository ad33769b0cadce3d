// PLACEHOLDER until the evt2 decoder lands: replaced by the real module.
import type { FormatDescriptor } from '../types.js';
export const evt2Format: FormatDescriptor = {
  name: 'evt2',
  description: 'placeholder',
  extensions: [],
  sniff: () => 0,
  createDecoder: () => {
    throw new Error('evt2 decoder not written yet');
  },
};
