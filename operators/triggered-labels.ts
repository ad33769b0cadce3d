/**
 * triggeredLabels: puts a supervised target on each step batch for a conv readout, labelling only
 * the output positions whose central pixels spiked in that step (spike-triggered labels, as in the
 * motion-direction task): 1 on the true class's map, 0 on the other classes' maps, NaN (unlabelled)
 * everywhere else. Labelling every position cannot work for motion: a translating texture gives
 * every direction the same mean patch; conditioned on a spike at the centre now, the patch is the
 * trajectory the edge came along, which differs by direction and speed (src/tasks/motion-direction.ts).
 *
 * The class is the one in force at the step's start time (labels with their start times), and the
 * first `warmupSteps` steps of each label are left unlabelled: the delay line still holds the
 * previous segment's motion then. The `snn` operator gives `batch.signals` to exactly that step.
 * The target array is reused from step to step: it is valid until the next batch. Every batch also
 * carries `triggered`, the positions whose centre spiked (labelled or not), so that `decide` can
 * weigh the class maps where the readout was trained to answer.
 *
 * @example
 *   import { triggeredLabels } from 'spikeflow/operators';
 *   // emu.labels: { classIndex, tStartUs } per segment; 36 class maps of a 7×7, stride-2 conv
 *   steps$.pipe(triggeredLabels({ labels: emuLabels$, classes: 36, kernelSize: 7, stride: 2, warmupSteps: 10 }))
 *     .subscribe((b) => b.signals && console.log(b.step, 'labelled'));
 */
import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import { convCentres } from '../src/snn/projections/conv-centres.js';
import { LabelTimeline, type TruthLabel } from '../src/runtime/label-timeline.js';
import type { StepBatch } from './bin-steps.js';

export interface TriggeredLabelsOptions {
  /** Ground truth: each label holds from its start time (µs of event time). */
  readonly labels: Observable<TruthLabel>;
  /** Class maps in the readout population (class-major: [classes, OH, OW]). */
  readonly classes: number;
  readonly kernelSize: number;
  readonly stride: number;
  /** Steps after each label's start left unlabelled. Default 0. */
  readonly warmupSteps?: number;
  /** Label every n-th eligible step only. Default 1. */
  readonly every?: number;
  /** The signal name the readout rule reads. Default 'label'. */
  readonly signal?: string;
}

export function triggeredLabels(o: TriggeredLabelsOptions): OperatorFunction<StepBatch, StepBatch> {
  if (!Number.isInteger(o.classes) || o.classes < 1) throw new RangeError(`triggeredLabels: classes must be a positive integer, got ${o.classes}`);
  const warmup = o.warmupSteps ?? 0;
  const every = o.every ?? 1;
  const signal = o.signal ?? 'label';
  if (!Number.isInteger(every) || every < 1) throw new RangeError(`triggeredLabels: every must be a positive integer, got ${every}`);
  return (source) =>
    new Observable<StepBatch>((subscriber) => {
      const timeline = new LabelTimeline();
      let positionOf: Int32Array | undefined;
      let plane = 0;
      let pixels = 0;
      let target = new Float64Array(0);
      let triggered = new Int32Array(0);
      let isTriggered = new Uint8Array(0);
      // The positions holding labels in `target` (all others are NaN): labelled[0 … nLabelled).
      let labelled = new Int32Array(0);
      let nLabelled = 0;
      const subs: Subscription[] = [o.labels.subscribe({ next: (l) => timeline.push(l), error: (e) => subscriber.error(e) })];
      subs.push(
        source.subscribe({
          next(b) {
            const [channels, height, width] = b.shape;
            if (!positionOf || pixels !== width * height) {
              if (channels !== 2 || b.size !== 2 * width * height) {
                subscriber.error(new RangeError(`triggeredLabels: needs 'p-y-x' steps of 2 polarity planes, got shape [${b.shape.join(', ')}]`));
                return;
              }
              try {
                const c = convCentres(width, height, o.kernelSize, o.stride);
                positionOf = c.positionOf;
                plane = c.outWidth * c.outHeight;
              } catch (e) {
                subscriber.error(new RangeError(`triggeredLabels: ${(e as Error).message}`));
                return;
              }
              pixels = width * height;
              target = new Float64Array(o.classes * plane).fill(NaN);
              labelled = new Int32Array(plane);
              nLabelled = 0;
              triggered = new Int32Array(plane);
              isTriggered = new Uint8Array(plane);
            }
            let nt = 0;
            const active = b.active;
            for (let k = 0; k < active.length; k++) {
              const q = positionOf[active[k]! % pixels]!;
              if (q >= 0 && !isTriggered[q]) {
                isTriggered[q] = 1;
                triggered[nt++] = q;
              }
            }
            for (let k = 0; k < nt; k++) isTriggered[triggered[k]!] = 0;
            const positions = triggered.slice(0, nt);
            const truth = timeline.at(b.tStartUs);
            const since = truth ? Math.floor((b.tStartUs - truth.tStartUs) / b.dtUs) : -1;
            if (!truth || nt === 0 || since < warmup || (since - warmup) % every !== 0) {
              subscriber.next({ ...b, triggered: positions });
              return;
            }
            // Clear the previous labelled step's positions, then set this step's.
            for (let k = 0; k < nLabelled; k++) for (let c = 0; c < o.classes; c++) target[c * plane + labelled[k]!] = NaN;
            for (let k = 0; k < nt; k++) for (let c = 0; c < o.classes; c++) target[c * plane + positions[k]!] = c === truth.classIndex ? 1 : 0;
            labelled.set(positions);
            nLabelled = nt;
            subscriber.next({ ...b, triggered: positions, signals: { [signal]: target } });
          },
          error: (e) => subscriber.error(e),
          complete: () => subscriber.complete(),
        }),
      );
      return () => subs.forEach((s) => s.unsubscribe());
    });
}
