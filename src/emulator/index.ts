/**
 * Event-camera emulator (pure, seeded, no I/O): scenes → DVS pixel model → event packets with
 * ground-truth motion labels. The Rx source lives in adapters/emulator-source.ts.
 */

export {
  createEmulator,
  emulateToPackets,
  resolveEmulatorConfig,
  type Emulator,
  type EmulatorConfig,
  type EmulatorStep,
  type ListScheduleConfig,
  type MotionLabel,
  type RandomScheduleConfig,
  type ResolvedEmulatorConfig,
  type ScheduleConfig,
  type SceneTemplate,
  type SegmentConfig,
} from './emulator.js';
export {
  createScene,
  directionVector,
  displacementAt,
  makeLogTexture,
  type BarsParams,
  type DotsParams,
  type FramesParams,
  type MotionParams,
  type MovingSceneParams,
  type Scene,
  type SceneFrame,
  type SceneKind,
  type SceneParams,
  type TextureParams,
} from './scenes.js';
export {
  DEFAULT_DVS_PARAMETERS,
  createDvsState,
  dvsStep,
  resolveDvsParameters,
  type DvsConfig,
  type DvsParameters,
  type DvsState,
} from './dvs-model.js';
export { Rng, logFactorial } from './rng.js';
export { EmulatorConfigError } from './config-error.js';
