// PLACEHOLDER until the nmnist decoder lands: replaced by the real module.
import type { FormatDescriptor } from './types.js';
export const nmnistFormat: FormatDescriptor = {
  name: 'nmnist',
  description: 'placeholder',
  extensions: [],
  sniff: () => 0,
  createDecoder: () => {
    throw new Error('nmnist decoder not written yet');
  },
};
