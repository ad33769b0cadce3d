/** The pipeline runtime: pipeline files, the node registry, the builder API and the runner. */
import './nodes.js';
import './presets.js';
export { startPipeline, packetsRecyclable, type RunOptions, type RunningPipeline, type RunResult, type PipelineMetrics, type LatencyFigures } from './runtime.js';
export { pipeline, PipelineBuilder, toYaml, toJson } from './builder.js';
export { loadPipelineFile, parsePipeline, type LoadedPipeline } from './pipeline-file.js';
export { validatePipeline, pipelineIssues, PipelineError, type PipelineSpec, type NodeSpec, type QueueSpec, type CheckpointSpec } from './pipeline.js';
export { registerNetworkPreset, networkPreset, networkPresets, nodeTypes, nodeType, type NetworkPreset, type StreamKind, type NodeTypeInfo } from './registry.js';
export { defineSource, defineOp, defineSink, type BuildContext, type BuiltSource, type BuiltOp, type BuiltSink } from './nodes.js';
export { EdgeQueue, type QueuePolicy, type EdgeQueueStats } from './edge-queue.js';
export { statusLine, StatusReporter } from './status.js';
