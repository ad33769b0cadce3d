/**
 * decide: turns output spikes (snn steps) into Decisions for one region or sensor.
 *
 * Spike counts are accumulated per class (neurons map to classes) from the first step that had
 * input events, and a decision is taken:
 *   - 'confidence' (Dynamic Confidence, Li, Jones & Furber 2023): at the first step where
 *     c = max softmax(β·counts) exceeds the threshold; the threshold is fixed, or calibrated on the
 *     stream from a label stream: the smallest c whose decisions so far were right at least
 *     `targetAccuracy` of the time (histogram of (confidence, correct) per step);
 *   - 'window': argmax every `windowSteps` steps (from the first active step, or `aligned` on the
 *     step clock's periods);
 *   - 'count': when a class reaches `minSpikes`.
 * After a decision (or after `maxSteps` without one) the counts start again. Each Decision reports
 * its latency in steps and in µs of event time from the first contributing step.
 *
 * @example
 *   import { decide } from 'spikeflow/operators';
 *   // 36 direction×speed classes, 4 neurons each; decide when 90 % confident
 *   steps$.pipe(decide({ population: 'readout', classes: 36, confidence: 0.9, region: 'cam0' }))
 *     .subscribe((d) => console.log(d.label, d.confidence.toFixed(2), d.latencySteps));
 */
import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import type { Decision } from '../src/wire/messages.js';
import type { SnnStep } from './snn.js';

export interface DecideOptions {
  readonly population: string;
  /** Number of classes (the population split into equal contiguous blocks) or each neuron's class. */
  readonly classes: number | readonly number[];
  /** Class names (default: the class index as text). */
  readonly labels?: readonly string[];
  readonly mode?: 'confidence' | 'window' | 'count';
  /** 'confidence': fixed threshold in (1/classes, 1) (default 0.9), or the starting one when calibrating. */
  readonly confidence?: number;
  /** 'confidence': softmax inverse temperature on spike counts (default 1). */
  readonly beta?: number;
  /** 'confidence': calibrate the threshold on the stream against true class indices. */
  readonly calibrate?: { readonly labels: Observable<number>; readonly targetAccuracy: number; readonly minSamples?: number };
  /** 'window': decide every this many steps. */
  readonly windowSteps?: number;
  /**
   * 'window': windows are the clock's periods — steps [k·windowSteps, (k+1)·windowSteps) — instead of
   * starting at the first active step, so they line up with a source whose segments do (the emulator's).
   */
  readonly aligned?: boolean;
  /** 'count': decide when a class has this many spikes. */
  readonly minSpikes?: number;
  /**
   * What is accumulated per class: output spikes (default), or the population's state snapshot
   * ('state': e.g. a logistic readout's probabilities; the snn operator must snapshot the population).
   * When steps carry `triggered` positions (a conv readout of `classes` maps, see triggeredLabels),
   * only those positions count: where the readout was trained to answer.
   */
  readonly evidence?: 'spikes' | 'state';
  /** 'window': steps at the start of each window that do not count (the delay line still holds the previous input). */
  readonly settleSteps?: number;
  /** Give up and start again after this many steps without a decision (default: never). */
  readonly maxSteps?: number;
  readonly region?: string;
  readonly pipeline?: string;
  /** Wall clock for emittedUnixMs (default Date.now). */
  readonly now?: () => number;
}

/** The confidence threshold, calibrated from (confidence, correct) pairs in 100 bins. */
export class ConfidenceCalibrator {
  private readonly total = new Float64Array(100);
  private readonly right = new Float64Array(100);
  samples = 0;

  constructor(
    readonly targetAccuracy: number,
    readonly minSamples = 200,
  ) {}

  add(confidence: number, correct: boolean): void {
    const b = Math.min(99, Math.floor(confidence * 100));
    this.total[b]!++;
    if (correct) this.right[b]!++;
    this.samples++;
  }

  /** The lowest bin edge whose decisions at or above it reach the target accuracy; undefined if none yet. */
  threshold(): number | undefined {
    if (this.samples < this.minSamples) return undefined;
    let total = 0;
    let right = 0;
    let best: number | undefined;
    for (let b = 99; b >= 0; b--) {
      total += this.total[b]!;
      right += this.right[b]!;
      if (total > 0 && right / total >= this.targetAccuracy) best = b / 100;
    }
    return best;
  }
}

/** max softmax(β·x) and its argmax, computed stably. */
export function maxSoftmax(x: Float64Array, beta: number): { index: number; confidence: number } {
  let index = 0;
  for (let k = 1; k < x.length; k++) if (x[k]! > x[index]!) index = k;
  let z = 0;
  for (let k = 0; k < x.length; k++) z += Math.exp(beta * (x[k]! - x[index]!));
  return { index, confidence: 1 / z };
}

export function decide(o: DecideOptions): OperatorFunction<SnnStep, Decision> {
  const mode = o.mode ?? 'confidence';
  const beta = o.beta ?? 1;
  let threshold = o.confidence ?? 0.9;
  if (mode === 'window' && !(o.windowSteps! >= 1)) throw new RangeError("decide: mode 'window' needs windowSteps >= 1");
  if (mode === 'count' && !(o.minSpikes! >= 1)) throw new RangeError("decide: mode 'count' needs minSpikes >= 1");
  const now = o.now ?? Date.now;
  const aligned = mode === 'window' && (o.aligned ?? false);
  const byState = o.evidence === 'state';
  const settle = o.settleSteps ?? 0;
  return (source) =>
    new Observable<Decision>((subscriber) => {
      let classOf: Int32Array | undefined;
      let nClasses = 0;
      let counts = new Float64Array(0);
      let startStep = -1;
      let startUs = 0;
      let sequence = 0;
      let label: number | undefined;
      const calibrator = o.calibrate ? new ConfidenceCalibrator(o.calibrate.targetAccuracy, o.calibrate.minSamples) : undefined;
      const subs: Subscription[] = [];
      if (o.calibrate) subs.push(o.calibrate.labels.subscribe({ next: (l) => (label = l), error: (e) => subscriber.error(e) }));
      const setup = (size: number) => {
        if (typeof o.classes === 'number') {
          if (size % o.classes !== 0) throw new RangeError(`decide: population '${o.population}' has ${size} neurons, not a multiple of ${o.classes} classes`);
          nClasses = o.classes;
          const per = size / o.classes;
          classOf = Int32Array.from({ length: size }, (_, j) => Math.floor(j / per));
        } else {
          if (o.classes.length !== size) throw new RangeError(`decide: classes lists ${o.classes.length} neurons, population '${o.population}' has ${size}`);
          classOf = Int32Array.from(o.classes);
          nClasses = Math.max(...o.classes) + 1;
        }
        counts = new Float64Array(nClasses);
      };
      const restart = () => {
        counts.fill(0);
        startStep = -1;
      };
      /** Opens a window at step s (aligned: at the start of the clock period holding s). */
      const open = (s: SnnStep) => {
        startStep = aligned ? s.step - (s.step % o.windowSteps!) : s.step;
        startUs = s.tStartUs - (s.step - startStep) * s.dtUs;
      };
      subs.push(
        source.subscribe({
          next(s) {
            const spikes = s.spikes[o.population];
            if (!spikes) {
              subscriber.error(new RangeError(`decide: steps carry no spikes of population '${o.population}'`));
              return;
            }
            try {
              if (!classOf) setup(s.sizes[o.population] ?? 0);
            } catch (e) {
              subscriber.error(e);
              return;
            }
            if (startStep < 0 && (s.events > 0 || spikes.length > 0)) open(s);
            else if (aligned && startStep >= 0 && s.step - startStep >= o.windowSteps!) {
              // Steps were skipped (none emitted): this step opens its own period.
              open(s);
              counts.fill(0);
            }
            if (startStep < 0) return;
            const elapsed = s.step - startStep + 1;
            if (byState) {
              const v = s.state?.[o.population];
              if (!v) {
                subscriber.error(new RangeError(`decide: evidence 'state' needs the snn operator to snapshot population '${o.population}'`));
                return;
              }
              if (elapsed > settle) {
                if (s.triggered && typeof o.classes === 'number') {
                  const plane = v.length / o.classes;
                  for (let c = 0; c < o.classes; c++) for (const q of s.triggered) counts[c] += v[c * plane + q]!;
                } else for (let j = 0; j < v.length && j < classOf!.length; j++) counts[classOf![j]!] += v[j]!;
              }
            } else if (elapsed > settle) for (const j of spikes) if (j < classOf!.length) counts[classOf![j]!]!++;
            const { index, confidence } = maxSoftmax(counts, beta);
            const any = counts.some((c) => c > 0);
            if (calibrator && label !== undefined && any) {
              calibrator.add(confidence, index === label);
              const t = calibrator.threshold();
              if (t !== undefined) threshold = t;
            }
            let decided = false;
            if (mode === 'confidence') decided = any && confidence > threshold;
            else if (mode === 'window') decided = elapsed >= o.windowSteps!;
            else decided = counts[index]! >= o.minSpikes!;
            if (decided) {
              const timeUs = s.tStartUs + s.dtUs;
              subscriber.next({
                sequence: sequence++,
                pipeline: o.pipeline ?? '',
                region: o.region ?? '',
                label: o.labels?.[index] ?? String(index),
                classIndex: index,
                confidence,
                timeUs,
                latencySteps: elapsed,
                latencyUs: timeUs - startUs,
                emittedUnixMs: now(),
              });
              restart();
            } else if (o.maxSteps !== undefined && elapsed >= o.maxSteps) {
              restart();
            }
          },
          error: (e) => subscriber.error(e),
          complete: () => subscriber.complete(),
        }),
      );
      return () => subs.forEach((x) => x.unsubscribe());
    });
}
