/**
 * Registers the 'motion-direction' network preset with the pipeline runtime on import:
 *   network: { preset: motion-direction, params: { size: 32, directions: 12, speeds: [100, 200, 400] } }
 * Kept apart from motion-direction.ts so the task itself does not pull in the runtime.
 */
import { registerNetworkPreset } from '../runtime/registry.js';
import { motionDirectionPreset } from './motion-direction.js';

export function registerMotionDirectionPreset(): void {
  registerNetworkPreset(
    'motion-direction',
    motionDirectionPreset,
    'DVS [2, size, size] → heterogeneous-delay conv (classes × 2 × delays × K × K) → logistic [classes, OH, OW], readout on signal "label" (params: size, directions, speeds, stepUs, kernelSize, delays, stride, optimizer, learningRate, biasInit, seed, prune, homeostasis)',
  );
}

registerMotionDirectionPreset();
