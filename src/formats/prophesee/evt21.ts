// PLACEHOLDER until the evt21 decoder lands: replaced by the real module.
import type { FormatDescriptor } from '../types.js';
export const evt21Format: FormatDescriptor = {
  name: 'evt21',
  description: 'placeholder',
  extensions: [],
  sniff: () => 0,
  createDecoder: () => {
    throw new Error('evt21 decoder not written yet');
  },
};
