/**
 * The event-camera emulator: a seeded scene schedule rendered frame by frame and fed through the
 * DVS pixel model, giving event packets with their ground-truth motion label beside them.
 *
 *   const emu = createEmulator({ width: 64, height: 64, seed: 7 });
 *   for (let s = emu.step(); s; s = emu.step()) use(s.packet, s.label);
 *
 * Time runs from 0 in steps of `stepUs` (default 1000 µs); each step renders the scene at the
 * step's end and the pixel model interpolates log intensity linearly within the step, so event
 * times have µs resolution although images are rendered only once per step. A step never crosses a
 * segment boundary (the last step of a segment may be shorter).
 *
 * The schedule is a sequence of segments, each one scene moving in one direction at one speed:
 * - random (default): classes = directions × speeds; each segment of `segmentUs` takes a class from
 *   the seeded schedule RNG: 'balanced' (every class once per round, shuffled), 'iid', or 'cycle'.
 *   class_index = directionIndex · speeds.length + speedIndex.
 * - list: fixed segments { durationUs, direction_deg, speed_px_s, scene? }; classes are the distinct
 *   (direction, speed) pairs in order of first appearance unless given. `loop` repeats the list.
 * Texture and dot scenes continue where the previous segment left them (the displacement is
 * carried over), so segment changes alter the motion, not the pattern.
 *
 * Randomness: independent streams of the config seed drive the schedule, the pixel model
 * (threshold mismatch, then noise) and — unless the scene sets its own seed — the scene pattern.
 * Same config → identical events.
 */

import { concatPackets, type EventPacket, type Geometry, type SourceInfo, allocatePacket, clonePacket } from '../events/packet.js';
import { PacketBuilder } from '../events/builder.js';
import { PacketPool } from '../events/pool.js';
import { Rng } from './rng.js';
import { createScene, displacementAt, type BarsParams, type DotsParams, type FramesParams, type MotionParams, type Scene, type SceneParams, type TextureParams } from './scenes.js';
import { createDvsState, dvsStep, resolveDvsParameters, type DvsConfig, type DvsParameters, type DvsState } from './dvs-model.js';
import { EmulatorConfigError, checkNumber, describe } from './config-error.js';

/** Ground truth of one segment: what moved, how, and when. */
export interface MotionLabel {
  readonly t_start_us: number;
  /** Scheduled end of the segment (a run cut short may stop earlier). */
  readonly t_end_us: number;
  /** Motion direction: 0° = rightwards, 90° = upwards (see scenes.ts). NaN for frame scenes without one. */
  readonly direction_deg: number;
  readonly speed_px_s: number;
  readonly class_index: number;
  readonly class_count: number;
  /** Segment number, from 0. */
  readonly segment: number;
}

/** A scene without its motion: the pattern part of a segment's scene. */
export type SceneTemplate =
  | Omit<BarsParams, keyof MotionParams>
  | Omit<DotsParams, keyof MotionParams>
  | Omit<TextureParams, keyof MotionParams>
  | FramesParams;

export interface RandomScheduleConfig {
  readonly kind: 'random';
  /** N directions equally spaced from 0°, or an explicit list in degrees. Default 8. */
  readonly directions?: number | readonly number[];
  /** Speeds in px/s. Default [50, 100]. */
  readonly speeds?: readonly number[];
  /** Segment duration (µs). Default 250 000. */
  readonly segmentUs?: number;
  /** How classes follow each other. Default 'balanced'. */
  readonly order?: 'balanced' | 'iid' | 'cycle';
  /** Number of segments before the emulator is done. Default Infinity. */
  readonly segments?: number;
}

export interface SegmentConfig {
  readonly durationUs: number;
  readonly direction_deg: number;
  readonly speed_px_s: number;
  /** Scene for this segment; default the config's scene. */
  readonly scene?: SceneTemplate;
  readonly class_index?: number;
  readonly class_count?: number;
}

export interface ListScheduleConfig {
  readonly kind: 'list';
  readonly segments: readonly SegmentConfig[];
}

export type ScheduleConfig = RandomScheduleConfig | ListScheduleConfig;

export interface EmulatorConfig {
  /** Sensor size. Default 64 × 64. */
  readonly width?: number;
  readonly height?: number;
  /** Default 1. */
  readonly seed?: number;
  /** Render step (µs, integer). Default 1000. */
  readonly stepUs?: number;
  readonly dvs?: DvsConfig;
  /** Default { kind: 'texture' } (MotionClouds-like noise). */
  readonly scene?: SceneTemplate;
  /** Default { kind: 'random' }. */
  readonly schedule?: ScheduleConfig;
  /** List schedules: start again after the last segment (time keeps running). Default false. */
  readonly loop?: boolean;
  /** Recorded in packets' source.uri. */
  readonly uri?: string;
  /**
   * Build packets on this pool and hand them out as pool views (the consumer may `release` them).
   * Without it each step's packet is an exact-size copy owned by the consumer.
   */
  readonly pool?: PacketPool;
}

/** The config with every default filled in and every field checked. */
export interface ResolvedEmulatorConfig {
  readonly width: number;
  readonly height: number;
  readonly seed: number;
  readonly stepUs: number;
  readonly dvs: DvsParameters;
  readonly scene: SceneTemplate;
  readonly schedule: Required<RandomScheduleConfig> | ListScheduleConfig;
  /** Directions (deg) of a random schedule, resolved from a count if need be. */
  readonly directions: readonly number[];
  readonly loop: boolean;
  readonly uri: string | undefined;
}

export interface EmulatorStep {
  /** Events of (t_start_us, t_end_us], time-sorted (may be empty). */
  readonly packet: EventPacket;
  readonly label: MotionLabel;
  /** True for the first step of a segment: the label is new. */
  readonly startsSegment: boolean;
  readonly t_start_us: number;
  readonly t_end_us: number;
}

export interface Emulator {
  readonly config: ResolvedEmulatorConfig;
  readonly geometry: Geometry;
  readonly source: SourceInfo;
  /** Emulated time reached (µs). */
  readonly timeUs: number;
  /** The schedule is exhausted: `step` returns null. */
  readonly done: boolean;
  /** Label of the segment that contains the next step. */
  readonly label: MotionLabel;
  /** Advance one step (ending no later than `untilUs`, if given). Null when done or untilUs ≤ timeUs. */
  step(untilUs?: number): EmulatorStep | null;
}

const SOURCE_FORMAT = 'emulator';
const DEFAULT_SPEEDS = Object.freeze([50, 100]);

/** Fill in defaults and check every field; throws EmulatorConfigError naming the field. */
export function resolveEmulatorConfig(config: EmulatorConfig = {}): ResolvedEmulatorConfig {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new EmulatorConfigError('config', `must be an object, got ${describe(config)}`);
  const width = checkNumber(config.width, 64, 'width', { integer: true, min: 1, max: 4096 });
  const height = checkNumber(config.height, 64, 'height', { integer: true, min: 1, max: 4096 });
  const seed = checkNumber(config.seed, 1, 'seed');
  const stepUs = checkNumber(config.stepUs, 1000, 'stepUs', { integer: true, min: 1, max: 1_000_000 });
  const dvs = resolveDvsParameters(config.dvs ?? {}, 'dvs');
  const scene = config.scene ?? { kind: 'texture' };
  if (config.loop !== undefined && typeof config.loop !== 'boolean') throw new EmulatorConfigError('loop', `must be a boolean, got ${describe(config.loop)}`);
  if (config.uri !== undefined && typeof config.uri !== 'string') throw new EmulatorConfigError('uri', `must be a string, got ${describe(config.uri)}`);
  if (config.pool !== undefined && !(config.pool instanceof PacketPool)) throw new EmulatorConfigError('pool', 'must be a PacketPool');
  const geometry = { width, height };
  const textures = new Map<string, Float32Array>();
  // Validate the scene template by building it once (motion parameters do not affect validity).
  createScene(withMotion(scene, 0, 0, 0, 0, seed), geometry, 'scene', textures);

  const sched = config.schedule ?? { kind: 'random' };
  if (sched === null || typeof sched !== 'object') throw new EmulatorConfigError('schedule', `must be an object, got ${describe(sched)}`);
  if (sched.kind === 'random') {
    const dirs = sched.directions ?? 8;
    let directions: number[];
    if (typeof dirs === 'number') {
      const count = checkNumber(dirs, 8, 'schedule.directions', { integer: true, min: 1, max: 3600 });
      directions = Array.from({ length: count }, (_, k) => (360 * k) / count);
    } else if (Array.isArray(dirs) && dirs.length > 0) {
      directions = dirs.map((d, k) => checkNumber(d, NaN, `schedule.directions[${k}]`));
    } else {
      throw new EmulatorConfigError('schedule.directions', `must be a positive integer or a non-empty array of degrees, got ${describe(dirs)}`);
    }
    const speedList = sched.speeds ?? DEFAULT_SPEEDS;
    if (!Array.isArray(speedList) || speedList.length === 0) throw new EmulatorConfigError('schedule.speeds', `must be a non-empty array of px/s, got ${describe(speedList)}`);
    const speeds = speedList.map((v, k) => checkNumber(v, NaN, `schedule.speeds[${k}]`, { min: 0 }));
    const segmentUs = checkNumber(sched.segmentUs, 250_000, 'schedule.segmentUs', { integer: true, min: 1 });
    const order = sched.order ?? 'balanced';
    if (order !== 'balanced' && order !== 'iid' && order !== 'cycle') throw new EmulatorConfigError('schedule.order', `must be 'balanced', 'iid' or 'cycle', got ${describe(order)}`);
    const segments = checkNumber(sched.segments, Infinity, 'schedule.segments', { integer: true, min: 1, allowInfinity: true });
    return Object.freeze({
      width,
      height,
      seed,
      stepUs,
      dvs,
      scene,
      schedule: Object.freeze({ kind: 'random' as const, directions, speeds, segmentUs, order, segments }),
      directions,
      loop: config.loop ?? false,
      uri: config.uri,
    });
  }
  if (sched.kind === 'list') {
    const list = sched.segments;
    if (!Array.isArray(list) || list.length === 0) throw new EmulatorConfigError('schedule.segments', `must be a non-empty array of segments, got ${describe(list)}`);
    list.forEach((s: SegmentConfig, k: number) => {
      const f = `schedule.segments[${k}]`;
      if (s === null || typeof s !== 'object') throw new EmulatorConfigError(f, `must be an object, got ${describe(s)}`);
      for (const name of ['durationUs', 'direction_deg', 'speed_px_s'] as const) {
        if (s[name] === undefined) throw new EmulatorConfigError(`${f}.${name}`, 'is required');
      }
      checkNumber(s.durationUs, NaN, `${f}.durationUs`, { integer: true, min: 1 });
      checkNumber(s.direction_deg, NaN, `${f}.direction_deg`);
      checkNumber(s.speed_px_s, NaN, `${f}.speed_px_s`, { min: 0 });
      const count = checkNumber(s.class_count, 1, `${f}.class_count`, { integer: true, min: 1 });
      checkNumber(s.class_index, 0, `${f}.class_index`, { integer: true, min: 0, max: s.class_count === undefined ? Infinity : count - 1 });
      if (s.scene !== undefined) createScene(withMotion(s.scene, s.direction_deg, s.speed_px_s, 0, 0, seed), geometry, `${f}.scene`, textures);
    });
    return Object.freeze({ width, height, seed, stepUs, dvs, scene, schedule: sched, directions: [], loop: config.loop ?? false, uri: config.uri });
  }
  throw new EmulatorConfigError('schedule.kind', `must be 'random' or 'list', got ${describe((sched as { kind?: unknown }).kind)}`);
}

/** A scene's full parameters: the template plus motion (ignored by frame scenes) and default seed. */
function withMotion(template: SceneTemplate, direction_deg: number, speed_px_s: number, offset_x_px: number, offset_y_px: number, seed: number): SceneParams {
  if (template === null || typeof template !== 'object') return template as SceneParams; // createScene reports it
  if (template.kind === 'frames') return template;
  const withSeed = 'seed' in template && template.seed !== undefined ? template : { ...template, seed };
  return { ...withSeed, direction_deg, speed_px_s, offset_x_px, offset_y_px } as SceneParams;
}

/** One segment as planned: its label and the template it shows. */
interface PlannedSegment {
  readonly label: MotionLabel;
  readonly template: SceneTemplate;
}

/** The segment being emulated. */
interface ActiveSegment {
  readonly label: MotionLabel;
  readonly scene: Scene;
  /** Its first step has been taken. */
  started: boolean;
}

/** Yields the schedule's segments lazily (random schedules may be endless). */
function* planSegments(cfg: ResolvedEmulatorConfig): Generator<PlannedSegment> {
  const sched = cfg.schedule;
  let t = 0;
  if (sched.kind === 'random') {
    const rng = new Rng(cfg.seed, 1);
    const speeds = sched.speeds;
    const classCount = cfg.directions.length * speeds.length;
    let round: number[] = [];
    for (let segment = 0; segment < sched.segments; segment++) {
      let cls: number;
      if (sched.order === 'cycle') cls = segment % classCount;
      else if (sched.order === 'iid') cls = rng.int(classCount);
      else {
        if (round.length === 0) round = shuffled(classCount, rng);
        cls = round.pop()!;
      }
      const label: MotionLabel = Object.freeze({
        t_start_us: t,
        t_end_us: t + sched.segmentUs,
        direction_deg: cfg.directions[Math.floor(cls / speeds.length)]!,
        speed_px_s: speeds[cls % speeds.length]!,
        class_index: cls,
        class_count: classCount,
        segment,
      });
      yield { label, template: cfg.scene };
      t += sched.segmentUs;
    }
    return;
  }
  const list = sched.segments;
  // Classes: the distinct (direction, speed) pairs in order of first appearance.
  const classKeys: string[] = [];
  for (const s of list) {
    const key = `${s.direction_deg}/${s.speed_px_s}`;
    if (!classKeys.includes(key)) classKeys.push(key);
  }
  for (let segment = 0; cfg.loop || segment < list.length; segment++) {
    const s = list[segment % list.length]!;
    const label: MotionLabel = Object.freeze({
      t_start_us: t,
      t_end_us: t + s.durationUs,
      direction_deg: s.direction_deg,
      speed_px_s: s.speed_px_s,
      class_index: s.class_index ?? classKeys.indexOf(`${s.direction_deg}/${s.speed_px_s}`),
      class_count: s.class_count ?? classKeys.length,
      segment,
    });
    yield { label, template: s.scene ?? cfg.scene };
    t += s.durationUs;
  }
}

/** A uniformly random permutation of 0..n−1 (Fisher–Yates). */
function shuffled(n: number, rng: Rng): number[] {
  const a = Array.from({ length: n }, (_, k) => k);
  for (let k = n - 1; k > 0; k--) {
    const j = rng.int(k + 1);
    [a[k], a[j]] = [a[j]!, a[k]!];
  }
  return a;
}

export function createEmulator(config: EmulatorConfig = {}): Emulator {
  const cfg = resolveEmulatorConfig(config);
  const geometry: Geometry = Object.freeze({ width: cfg.width, height: cfg.height });
  const source: SourceInfo = Object.freeze(cfg.uri === undefined ? { format: SOURCE_FORMAT } : { format: SOURCE_FORMAT, uri: cfg.uri });
  const userPool = config.pool;
  const pool = userPool ?? new PacketPool(16384, 4);
  const builder = new PacketBuilder(geometry, source, pool);
  const emptyPacket = allocatePacket(0, geometry, source);
  const textures = new Map<string, Float32Array>();
  const segments = planSegments(cfg);
  const dvsRng = new Rng(cfg.seed, 2);
  const logImage = new Float32Array(cfg.width * cfg.height);

  // Pattern displacement carried from segment to segment (pixels).
  let carriedX = 0;
  let carriedY = 0;
  const enter = (planned: PlannedSegment): ActiveSegment => {
    const { label } = planned;
    const params = withMotion(planned.template, label.direction_deg, label.speed_px_s, carriedX, carriedY, cfg.seed);
    const scene = createScene(params, geometry, 'scene', textures);
    if (params.kind !== 'frames') {
      const d = displacementAt(params, label.t_end_us - label.t_start_us);
      carriedX = d.x;
      carriedY = d.y;
    }
    return { label, scene, started: false };
  };
  // The next planned segment is fetched one ahead so that `done` is known without stepping.
  const plan = (): PlannedSegment | null => {
    const r = segments.next();
    return r.done ? null : r.value;
  };
  let current = enter(plan()!); // every schedule has at least one segment
  let upcoming = plan();
  current.scene.renderLog(0, logImage);
  const dvs: DvsState = createDvsState(cfg.dvs, geometry, logImage, 0, dvsRng);
  const isDone = (): boolean => upcoming === null && dvs.tUs >= current.label.t_end_us;

  const collect = (): EventPacket => {
    const taken = builder.take();
    if (taken.length === 0) return emptyPacket;
    if (userPool) return taken.length === 1 ? taken[0]! : concatPackets(taken);
    // Exact-size copy for the consumer; the full-capacity buffers go back to our pool.
    const packet = taken.length === 1 ? clonePacket(taken[0]!) : concatPackets(taken);
    for (const t of taken) pool.release(t);
    return packet;
  };

  const emulator: Emulator = {
    config: cfg,
    geometry,
    source,
    get timeUs() {
      return dvs.tUs;
    },
    get done() {
      return isDone();
    },
    get label() {
      return dvs.tUs >= current.label.t_end_us && upcoming ? upcoming.label : current.label;
    },
    step(untilUs?: number): EmulatorStep | null {
      if (isDone()) return null;
      const t0 = dvs.tUs;
      if (untilUs !== undefined && !(untilUs > t0)) return null;
      if (t0 >= current.label.t_end_us) {
        current = enter(upcoming!);
        upcoming = plan();
      }
      const seg = current;
      let t1 = Math.min(t0 + cfg.stepUs, seg.label.t_end_us);
      if (untilUs !== undefined) t1 = Math.min(t1, Math.ceil(untilUs));
      seg.scene.renderLog(t1 - seg.label.t_start_us, logImage);
      dvsStep(cfg.dvs, dvs, logImage, t1, dvsRng, builder);
      const startsSegment = !seg.started;
      seg.started = true;
      return { packet: collect(), label: seg.label, startsSegment, t_start_us: t0, t_end_us: t1 };
    },
  };
  return emulator;
}

/**
 * Run an emulator for `durationUs` synchronously: every step's packet (empty ones included, in
 * order) and every segment's label (in order, each once). For the CLI and tests.
 */
export function emulateToPackets(config: EmulatorConfig, durationUs: number): { packets: EventPacket[]; labels: MotionLabel[] } {
  if (durationUs === undefined) throw new EmulatorConfigError('durationUs', 'is required');
  checkNumber(durationUs, NaN, 'durationUs', { min: 0, exclusiveMin: true });
  const emu = createEmulator(config);
  const packets: EventPacket[] = [];
  const labels: MotionLabel[] = [];
  for (let s = emu.step(durationUs); s; s = emu.step(durationUs)) {
    if (s.startsSegment) labels.push(s.label);
    packets.push(s.packet);
  }
  return { packets, labels };
}
