/**
 * spikeflow operators: RxJS operators over event-packet streams. Filters (denoise, refractory,
 * hotPixels, polarity), geometry (roi, downsample, flip, rotate, transpose), time (binSteps,
 * countWindows, mergeByTime), analog encoding (encode), measurement (tapMetrics), and the network
 * side (snn, decide).
 */
export { denoise, type DenoiseOptions } from './denoise.js';
export { refractory, type RefractoryOptions } from './refractory.js';
export { hotPixels, type HotPixel, type HotPixelsOptions } from './hot-pixels.js';
export { roi, type RoiOptions } from './roi.js';
export { downsample, type DownsampleOptions } from './downsample.js';
export { polarity, type PolarityChoice } from './polarity.js';
export { flip, type FlipAxis } from './flip.js';
export { rotate, type RotationDeg } from './rotate.js';
export { transpose } from './transpose.js';
export { binSteps, isStepBatch, type BinStepsOptions, type ChannelLayout, type StepBatch } from './bin-steps.js';
export { countWindows } from './count-windows.js';
export { mergeByTime, type MergeByTimeOptions, type MergeByTimeStats, type MergedStream } from './merge-by-time.js';
export { encode, type ValueSample } from './encode.js';
export { tapMetrics, type LatencySummary, type MetricsReport, type TapMetricsOptions } from './tap-metrics.js';
export { triggeredLabels, type TriggeredLabelsOptions } from './triggered-labels.js';
export { snn, type SignalMode, type SnnOptions, type SnnStep } from './snn.js';
export { decide, ConfidenceCalibrator, maxSoftmax, type DecideOptions } from './decide.js';
