// PLACEHOLDER until the evt3 decoder lands: replaced by the real module.
import type { FormatDescriptor } from '../types.js';
export const evt3Format: FormatDescriptor = {
  name: 'evt3',
  description: 'placeholder',
  extensions: [],
  sniff: () => 0,
  createDecoder: () => {
    throw new Error('evt3 decoder not written yet');
  },
};
