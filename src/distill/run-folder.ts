/**
 * A run folder: its files, the checkpoint that resumes a run, and the metrics log.
 *   checkpoint.safetensors   resume state: the pixels, their momentum, the labels (and the soft
 *                            labels of teacherLabel), the loop's state
 *   metrics.jsonl            one line per iteration and per evaluation
 *   synthetic_best.safetensors + grid_best.png   the best evaluation so far
 *   synthetic.safetensors + grid.png             the last set
 *   summary.json
 */
import * as fs from 'fs';
import * as path from 'path';
import { TrajmatchInputError } from '../errors';
import { writeAtomic } from '../io/atomic';
import { classIndices, readSafetensors, requireTensor, writeSafetensors } from '../io/safetensors';

/** A line of metrics.jsonl. */
export type MetricsLine =
  | ({ type: 'iteration'; iteration: number; loss: number; lr: number; seconds: number } &
      // the expert and stretch drawn; with a trajectory batch W > 1, every slot's
      ({ expert: number; start: number; target: number } | { slots: { expert: number; start: number; target: number }[] }))
  | { type: 'eval'; iteration: number; mean: number; std: number; accuracies: number[]; lr: number };

/** The lines of a metrics.jsonl file. */
export function readMetrics(file: string): MetricsLine[] {
  return metricsLines(file).map(parseMetricsLine);
}

function metricsLines(file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

function parseMetricsLine(line: string): MetricsLine {
  return JSON.parse(line) as MetricsLine;
}

export interface EvalRecord {
  iteration: number;
  mean: number;
  std: number;
}

/** The outer loop's state between iterations (the pixels are kept apart, as tensors). */
export interface RunState {
  iteration: number;
  lr: number;
  lrBuffer: number;
  best: EvalRecord | null;
  evals: EvalRecord[];
}

/** The synthetic set on the host, as a checkpoint holds it. */
export interface HostSet {
  images: Float32Array;
  imagesMomentum: Float32Array;
  labels: Int32Array;
  /** teacherLabel: the last iteration's soft labels, [N, numClasses] row by row. */
  softLabels?: Float32Array;
}

export class RunFolder {
  readonly files: { checkpoint: string; metrics: string; synthetic: string; best: string; grid: string; gridBest: string; summary: string };

  /**
   * The folder `dir` of a run whose settings are `identity`: a checkpoint of another run is
   * refused rather than resumed. Created unless `create` is false (the ranks of a data-parallel
   * run other than rank 0, which never write it).
   */
  constructor(
    readonly dir: string,
    private readonly identity: string,
    create = true,
  ) {
    if (create) fs.mkdirSync(dir, { recursive: true });
    this.files = {
      checkpoint: path.join(dir, 'checkpoint.safetensors'),
      metrics: path.join(dir, 'metrics.jsonl'),
      synthetic: path.join(dir, 'synthetic.safetensors'),
      best: path.join(dir, 'synthetic_best.safetensors'),
      grid: path.join(dir, 'grid.png'),
      gridBest: path.join(dir, 'grid_best.png'),
      summary: path.join(dir, 'summary.json'),
    };
  }

  hasCheckpoint(): boolean {
    return fs.existsSync(this.files.checkpoint);
  }

  /** The checkpoint's state and set (labels checked against numClasses); then drops the metrics lines of the iterations after it (they are redone). */
  async resume(numClasses: number): Promise<{ state: RunState; set: HostSet }> {
    const file = this.files.checkpoint;
    const ck = readSafetensors(file);
    if (ck.metadata.run !== this.identity) {
      throw new TrajmatchInputError(
        `${file}: this run folder holds a run with other settings; pass another run folder (distill.runDir), or delete the folder to start over`,
      );
    }
    const state = JSON.parse(ck.metadata.state) as RunState;
    const set: HostSet = {
      images: requireTensor(ck, 'images', file, 'F32', 4).values as Float32Array,
      imagesMomentum: requireTensor(ck, 'images_momentum', file, 'F32', 4).values as Float32Array,
      labels: classIndices(requireTensor(ck, 'labels', file, 'I64', 1).values as BigInt64Array, numClasses, 'labels', file),
      ...(ck.tensors.has('soft_labels') ? { softLabels: requireTensor(ck, 'soft_labels', file, 'F32', 2).values as Float32Array } : {}),
    };
    if (fs.existsSync(this.files.metrics)) {
      const kept = metricsLines(this.files.metrics).filter((line) => {
        const m = parseMetricsLine(line);
        return m.type === 'eval' ? state.evals.some((e) => e.iteration === m.iteration) : m.iteration < state.iteration;
      });
      await writeAtomic(this.files.metrics, kept.map((l) => `${l}\n`).join(''));
    }
    return { state, set };
  }

  /** A fresh start: no metrics of an earlier attempt. */
  startFresh(): void {
    if (fs.existsSync(this.files.metrics)) fs.rmSync(this.files.metrics);
  }

  async writeCheckpoint(state: RunState, set: HostSet, shape: number[]): Promise<void> {
    await writeSafetensors(
      this.files.checkpoint,
      {
        images: { values: set.images, shape },
        images_momentum: { values: set.imagesMomentum, shape },
        labels: { values: BigInt64Array.from(set.labels, BigInt), shape: [set.labels.length] },
        ...(set.softLabels ? { soft_labels: { values: set.softLabels, shape: [set.labels.length, set.softLabels.length / set.labels.length] } } : {}),
      },
      { run: this.identity, state: JSON.stringify(state) },
    );
  }

  /** One line of metrics.jsonl. */
  log(line: MetricsLine): void {
    fs.appendFileSync(this.files.metrics, `${JSON.stringify(line)}\n`);
  }

  async writeSummary(summary: object): Promise<void> {
    await writeAtomic(this.files.summary, `${JSON.stringify(summary, null, 2)}\n`);
  }
}
