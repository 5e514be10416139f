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
import { z } from 'zod';
import { parseOptions } from '../config/validate';
import { Equals, Expect } from '../config/schema-types';
import { TrajmatchInputError } from '../errors';
import { writeAtomic } from '../io/atomic';
import { checkOutputDir } from '../io/output-path';
import { classIndices, readSafetensors, requireTensor, SafetensorsError, writeSafetensors } from '../io/safetensors';

const slotSchema = z.object({ expert: z.number().int().nonnegative(), start: z.number().nonnegative(), target: z.number().nonnegative() });
const metricsLineSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('iteration'),
    iteration: z.number().int().nonnegative(),
    loss: z.number(),
    lr: z.number(),
    seconds: z.number().nonnegative(),
    expert: z.number().int().nonnegative().optional(),
    start: z.number().nonnegative().optional(),
    target: z.number().nonnegative().optional(),
    slots: z.array(slotSchema).optional(),
  }),
  z.object({
    type: z.literal('eval'),
    iteration: z.number().int().nonnegative(),
    mean: z.number(),
    std: z.number(),
    accuracies: z.array(z.number()),
    lr: z.number(),
  }),
]);

/** A line of metrics.jsonl. */
export type MetricsLine =
  | ({ type: 'iteration'; iteration: number; loss: number; lr: number; seconds: number } &
      // the expert and stretch drawn; with a trajectory batch W > 1, every slot's
      ({ expert: number; start: number; target: number } | { slots: { expert: number; start: number; target: number }[] }))
  | { type: 'eval'; iteration: number; mean: number; std: number; accuracies: number[]; lr: number };

/** The lines of a metrics.jsonl file, each checked (see readMetricsFile). */
export function readMetrics(file: string): MetricsLine[] {
  return readMetricsFile(file).lines.map((l) => l.value);
}

/**
 * The lines of a metrics.jsonl file. Lines are appended whole, each ending in a newline, so a last
 * line without its newline that does not parse was torn by a kill mid-write: it is dropped, and
 * `torn` says so. Any other line that is not a metrics record is an error naming the file and the
 * line: it is not something a kill leaves behind.
 */
export function readMetricsFile(file: string): { lines: { text: string; value: MetricsLine }[]; torn: string | null } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TrajmatchInputError(`${file}: cannot read the metrics log (${(e as Error).message})`);
  }
  const rows = text.split('\n');
  const last = rows.pop()!; // '' when the file ends with its newline
  const lines: { text: string; value: MetricsLine }[] = [];
  rows.forEach((row, i) => {
    if (row.trim() === '') return;
    const value = parseMetricsLine(row);
    if (typeof value === 'string') throw new TrajmatchInputError(`${file}: line ${i + 1} is not a metrics record: ${value}`);
    lines.push({ text: row, value });
  });
  let torn: string | null = null;
  if (last.trim() !== '') {
    const value = parseMetricsLine(last);
    if (typeof value === 'string') torn = `${file}: dropped its last line ${rows.length + 1}, cut short (${value}), as a kill mid-write leaves it`;
    else lines.push({ text: last, value });
  }
  return { lines, torn };
}

/** A line's record, or why it is not one. */
function parseMetricsLine(line: string): MetricsLine | string {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    return `not JSON (${(e as Error).message}): ${line.slice(0, 60)}${line.length > 60 ? '...' : ''}`;
  }
  const parsed = metricsLineSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `${issue.path.join('.') || 'the record'}: ${issue.message}`;
  }
  return raw as MetricsLine;
}

/** One evaluation of the synthetic set: mean and std of the test accuracy over the evaluation's networks. */
export interface EvalRecord {
  iteration: number;
  mean: number;
  std: number;
}

/** The outer loop's state between iterations, as a checkpoint's metadata holds it (the pixels are kept apart, as tensors). */
export interface RunState {
  iteration: number;
  /** The learned student lr. */
  lr: number;
  /** Its SGD momentum buffer. */
  lrBuffer: number;
  best: EvalRecord | null;
  evals: EvalRecord[];
}

const evalRecordSchema = z.strictObject({ iteration: z.number().int().nonnegative(), mean: z.number(), std: z.number().nonnegative() });

const runStateSchema = z.strictObject({
  iteration: z.number().int().nonnegative(),
  lr: z.number().positive(),
  lrBuffer: z.number(),
  best: evalRecordSchema.nullable(),
  evals: z.array(evalRecordSchema),
});

// Fails to compile when the interfaces above and the schemas differ (see config/schema-types.ts).
type _SameAsSchema = [Expect<Equals<EvalRecord, z.output<typeof evalRecordSchema>>>, Expect<Equals<RunState, z.output<typeof runStateSchema>>>];

/** The synthetic set on the host, as a checkpoint holds it. */
export interface HostSet {
  images: Float32Array;
  imagesMomentum: Float32Array;
  labels: Int32Array;
  /** teacherLabel: the last iteration's soft labels, [N, numClasses] row by row. */
  softLabels?: Float32Array;
}

/**
 * The settings a checkpoint belongs to, by name: a resumed run must have the same ones. Keys are
 * distill's option names, except these.
 */
export type RunIdentity = Record<string, unknown>;
const IDENTITY_NAMES: Record<string, string> = {
  dataset: 'data.dataset',
  zca: 'data.zca',
  preprocessing: 'the preprocessing (data.zca, data.zcaEps)',
  spec: 'network',
};
/** Settings that are paths: the same folder however it is spelled. */
const PATH_SETTINGS = new Set(['bufferPath']);

/**
 * A path as a run's identity holds it: absolute, with symlinks resolved (as far as it exists), so
 * that `buf`, `./buf`, `/abs/buf` and a link to it are one folder.
 */
export function canonicalPath(p: string): string {
  const abs = path.resolve(p);
  let head = abs;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync.native(head), ...rest);
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return abs;
      rest.unshift(path.basename(head));
      head = parent;
    }
  }
}

const isRecord = (v: unknown): v is RunIdentity => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every setting in which the checkpoint's run and this one differ, named, the checkpoint's value first. */
function identityDifferences(stored: RunIdentity, current: RunIdentity): string[] {
  const show = (v: unknown) => (v === undefined ? 'not set' : JSON.stringify(v));
  const same = (key: string, a: unknown, b: unknown) =>
    PATH_SETTINGS.has(key) && typeof a === 'string' && typeof b === 'string' ? canonicalPath(a) === canonicalPath(b) : JSON.stringify(a) === JSON.stringify(b);
  const differ = (a: RunIdentity, b: RunIdentity, name: (key: string) => string): string[] =>
    [...new Set([...Object.keys(a), ...Object.keys(b)])]
      .filter((key) => !same(key, a[key], b[key]))
      .flatMap((key) =>
        // the network by its options (network.netWidth), as the user sets them
        key === 'spec' && isRecord(a[key]) && isRecord(b[key])
          ? differ(a[key], b[key], (k) => `network.${k}`)
          : [`${name(key)}: expected ${show(a[key])} (the checkpoint's run), received ${show(b[key])}`],
      );
  return differ(stored, current, (key) => IDENTITY_NAMES[key] ?? `distill.${key}`);
}

export class RunFolder {
  readonly files: { checkpoint: string; metrics: string; synthetic: string; best: string; grid: string; gridBest: string; summary: string };
  private readonly identity: RunIdentity;

  /**
   * The folder `dir` of a run whose settings are `identity`: a checkpoint of another run is
   * refused rather than resumed, naming the settings that differ. Created unless `create` is false
   * (the ranks of a data-parallel run other than rank 0, which never write it).
   */
  constructor(
    readonly dir: string,
    identity: RunIdentity,
    create = true,
  ) {
    this.identity = Object.fromEntries(Object.entries(identity).map(([k, v]) => [k, PATH_SETTINGS.has(k) && typeof v === 'string' ? canonicalPath(v) : v]));
    if (create) {
      checkOutputDir(dir, 'distill.runDir');
      fs.mkdirSync(dir, { recursive: true });
    }
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

  /**
   * The checkpoint's state and set, checked against the run: its settings, a state within
   * `iterations`, the set's `shape` [N, C, H, W], labels in [0, numClasses). Then drops the metrics
   * lines of the iterations after it (they are redone); `notes` says what else was dropped.
   */
  async resume(numClasses: number, shape: number[], iterations: number): Promise<{ state: RunState; set: HostSet; notes: string[] }> {
    const file = this.files.checkpoint;
    const ck = readSafetensors(file);
    let stored: unknown;
    try {
      stored = JSON.parse(ck.metadata.run ?? 'null');
    } catch {
      stored = null;
    }
    if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) {
      throw new SafetensorsError(`${file}: not a trajmatch checkpoint (its metadata has no valid "run" entry: the settings of its run)`);
    }
    const differences = identityDifferences(stored as RunIdentity, this.identity);
    if (differences.length > 0) {
      throw new TrajmatchInputError(
        `${file}: this run folder holds a run with other settings:\n  ${differences.join('\n  ')}\npass another run folder (distill.runDir), the same settings, or delete the folder to start over`,
      );
    }
    const state = this.checkState(ck.metadata.state, file, iterations);
    const [n] = shape;
    const images = requireTensor(ck, 'images', file, 'F32', 4);
    const momentum = requireTensor(ck, 'images_momentum', file, 'F32', 4);
    const labels = requireTensor(ck, 'labels', file, 'I64', 1);
    const soft = ck.tensors.has('soft_labels') ? requireTensor(ck, 'soft_labels', file, 'F32', 2) : undefined;
    const wrongShape = (name: string, got: number[], want: number[]) => {
      if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
        throw new SafetensorsError(`${file}: tensor ${name} has shape [${got.join(',')}], expected [${want.join(',')}] for this run's synthetic set`);
      }
    };
    wrongShape('images', images.shape, shape);
    wrongShape('images_momentum', momentum.shape, shape);
    wrongShape('labels', labels.shape, [n]);
    if (soft) wrongShape('soft_labels', soft.shape, [n, numClasses]);
    const set: HostSet = {
      images: images.values as Float32Array,
      imagesMomentum: momentum.values as Float32Array,
      labels: classIndices(labels.values as BigInt64Array, numClasses, 'labels', file),
      ...(soft ? { softLabels: soft.values as Float32Array } : {}),
    };
    const notes: string[] = [];
    if (fs.existsSync(this.files.metrics)) {
      const { lines, torn } = readMetricsFile(this.files.metrics);
      if (torn) notes.push(torn);
      const kept = lines.filter(({ value: m }) => (m.type === 'eval' ? state.evals.some((e) => e.iteration === m.iteration) : m.iteration < state.iteration));
      await writeAtomic(this.files.metrics, kept.map((l) => `${l.text}\n`).join(''));
    }
    return { state, set, notes };
  }

  /** The loop's state of a checkpoint, checked: a SafetensorsError naming the file and what is wrong. */
  private checkState(json: string | undefined, file: string, iterations: number): RunState {
    if (json === undefined) throw new SafetensorsError(`${file}: not a trajmatch checkpoint (its metadata has no "state" entry)`);
    let raw: unknown;
    try {
      raw = JSON.parse(json);
    } catch (e) {
      throw new SafetensorsError(`${file}: its "state" metadata is not JSON (${(e as Error).message})`);
    }
    let state: RunState;
    try {
      state = parseOptions(runStateSchema, raw, 'state', `loop state in the checkpoint ${file}`);
    } catch (e) {
      throw new SafetensorsError((e as Error).message);
    }
    const late = [state.best, ...state.evals].find((r) => r !== null && r.iteration > state.iteration);
    if (state.iteration > iterations) {
      throw new SafetensorsError(`${file}: its state is at iteration ${state.iteration}, beyond this run's ${iterations} iterations (distill.iterations)`);
    }
    if (late) throw new SafetensorsError(`${file}: its state holds an evaluation at iteration ${late.iteration}, after its own iteration ${state.iteration}`);
    return state;
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
      { run: JSON.stringify(this.identity), state: JSON.stringify(state) },
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
