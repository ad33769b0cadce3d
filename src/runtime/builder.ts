/**
 * The TypeScript API for pipelines: the builder makes the same PipelineSpec a file describes, and
 * `toYaml`/`toJson` serialise it, so a file is just a written-down builder (round trip tested).
 *
 *   const spec = pipeline('demo')
 *     .source('cam', 'file', { path: 'rec.raw', pace: 1 })
 *     .op('clean', 'denoise', 'cam', { windowUs: 5000 })
 *     .sink('ws', 'websocket', 'clean')
 *     .build();
 *   const run = await startPipeline(spec);
 */
import { stringify } from 'yaml';
import { validatePipeline, type CheckpointSpec, type NodeSpec, type PipelineSpec, type QueueSpec } from './pipeline.js';

type Params = Readonly<Record<string, unknown>>;

export class PipelineBuilder {
  private readonly nodes: NodeSpec[] = [];
  private ck: CheckpointSpec | undefined;

  constructor(
    private readonly name?: string,
    private readonly description?: string,
  ) {}

  source(id: string, type: string, params?: Params, queue?: QueueSpec): this {
    this.nodes.push({ id, source: type, ...(params ? { params } : {}), ...(queue ? { queue } : {}) });
    return this;
  }

  op(id: string, type: string, input: string, params?: Params): this {
    this.nodes.push({ id, op: type, input, ...(params ? { params } : {}) });
    return this;
  }

  sink(id: string, type: string, input: string | readonly string[], params?: Params): this {
    this.nodes.push({ id, sink: type, input, ...(params ? { params } : {}) });
    return this;
  }

  checkpoint(path: string, node?: string): this {
    this.ck = { path, ...(node ? { node } : {}) };
    return this;
  }

  /** The spec, validated (PipelineError listing every problem by path). */
  build(baseDir = '.'): PipelineSpec {
    const spec: PipelineSpec = {
      ...(this.name !== undefined ? { name: this.name } : {}),
      ...(this.description !== undefined ? { description: this.description } : {}),
      ...(this.ck ? { checkpoint: this.ck } : {}),
      nodes: this.nodes.map((n) => ({ ...n })),
    };
    return validatePipeline(spec, baseDir);
  }
}

export function pipeline(name?: string, description?: string): PipelineBuilder {
  return new PipelineBuilder(name, description);
}

export function toYaml(spec: PipelineSpec): string {
  return stringify(spec, { lineWidth: 0 });
}

export function toJson(spec: PipelineSpec): string {
  return JSON.stringify(spec, null, 2) + '\n';
}
