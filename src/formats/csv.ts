// PLACEHOLDER until the csv decoder lands: replaced by the real module.
import type { FormatDescriptor } from './types.js';
export const csvFormat: FormatDescriptor = {
  name: 'csv',
  description: 'placeholder',
  extensions: [],
  sniff: () => 0,
  createDecoder: () => {
    throw new Error('csv decoder not written yet');
  },
};
