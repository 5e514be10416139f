/**
 * The distillation run (MTT or MCT): the outer loop around the native iteration. Each iteration
 * draws an expert and a stretch of its trajectory, runs one native iteration (student unroll +
 * gradients), and steps the pixels and the learnable lr with SGD (momentum 0.5). Every evalIt
 * iterations the set is evaluated with the evaluation protocol and the best one kept; checkpoints
 * let a killed run resume exactly. The parts: the checks that the run fits its experts
 * (experts.ts), the run folder (run-folder.ts), the initial set (initial-set.ts), the W stretches
 * of an iteration (trajectory-batch.ts), the loop (here). With a process group, this process is one
 * rank of a data-parallel run (docs/DISTRIBUTED.md): rank 0 writes the run folder and evaluates.
 */
import * as path from 'path';
import { parseOptions } from '../config/validate';
import { Dataset } from '../data/dataset';
import { evaluateSet } from '../eval/protocol';
import { convNetForDataset, ConvNetSpec, NetworkOptions } from '../model/convnet';
import { checkTrajectoryBatch, eitherSignal, packedAllReduce, shareRunState } from '../distributed/data-parallel';
import { ProcessGroup } from '../distributed/process-group';
import { writeSyntheticSet } from '../synthetic/file';
import { seeds } from '../util/seeds';
import { TrajmatchInterrupted } from '../errors';
import { DistillDiverged, distillInterrupted } from './errors';
import { RunExperts, openRunExperts } from './experts';
import { writeGrid } from './grid';
import { disposeSet, hostSet, initialSet, restoredSet, SyntheticState, syntheticShape } from './initial-set';
import { GradMethod, sgdStep } from './match';
import { distillOptionsSchema, DistillOptions, ParsedDistillOptions } from './options';
import { EvalRecord, RunFolder, RunIdentity, RunState } from './run-folder';
import { describeSlots, matchBatch, slotRange, slotsOf } from './trajectory-batch';

export { DistillDiverged, DistillInterrupted } from './errors';
export type { EvalRecord } from './run-folder';

/** Momentum of both SGD optimisers (pixels and lr), as published. */
const MOMENTUM = 0.5;

export type DistillEvent =
  | {
      type: 'start';
      runDir: string;
      bufferDir: string;
      experts: number;
      iterations: number;
      resumedAt: number;
      gradMethod: string;
      /** What resuming dropped from the run folder (a metrics line torn by a kill). */
      notes?: string[];
      /** The last evaluation of the run so far (a resumed run's, from its checkpoint), else null. */
      lastEval: EvalRecord | null;
    }
  /** An evaluation of the set at this iteration begins (its result is the next 'eval' event). */
  | { type: 'evaluating'; iteration: number }
  | { type: 'iteration'; iteration: number; loss: number; lr: number; seconds: number }
  | { type: 'eval'; iteration: number; mean: number; std: number; accuracies: number[]; best: boolean }
  | { type: 'checkpoint'; iteration: number };

export interface DistillResult {
  runDir: string;
  spec: ConvNetSpec;
  best: EvalRecord;
  evals: EvalRecord[];
  lr: number;
  seconds: number;
  files: { synthetic: string; best: string; grid: string; gridBest: string; metrics: string; summary: string };
}

type Hooks = { onEvent?: (e: DistillEvent) => void; signal?: AbortSignal; group?: ProcessGroup };

/** The gradient method of a run: the given one, else the published one of its method. */
export function gradMethodOf(o: Pick<ParsedDistillOptions, 'method' | 'gradMethod'>): GradMethod {
  return o.gradMethod ?? (o.method === 'mtt' ? 'unroll' : 'tesla');
}

/** The run folder when distill.runDir is not given. */
/** The settings a checkpoint belongs to: a resumed run must have the same ones. */
function runIdentity(dataset: Dataset, spec: ConvNetSpec, o: ParsedDistillOptions, W: number): RunIdentity {
  const { iterations: _i, evalIt: _e, checkpointEvery: _c, numEval: _n, evalEpochs: _ee, runDir: _r, trajectoryBatch: _w, ...rest } = o;
  // W changes the draws; the number of ranks does not (a run resumes on another number of them)
  return {
    dataset: dataset.name,
    zca: dataset.zca !== undefined,
    preprocessing: dataset.preprocessing,
    spec,
    ...rest,
    ...(W !== 1 ? { trajectoryBatch: W } : {}),
  };
}

/** The run folder of a run: distill.runDir, else runs/<dataset>_<method>_ipc<ipc>. */
export function defaultRunDir(datasetName: string, o: Pick<ParsedDistillOptions, 'runDir' | 'method' | 'ipc'>): string {
  return o.runDir ?? path.join('runs', `${datasetName}_${o.method}_ipc${o.ipc}`);
}

/**
 * Distils a synthetic set from the experts of the buffer that matches the dataset and network.
 * With `hooks.group`, this process is one rank of a data-parallel run: every rank calls it with
 * the same options; rank 0 writes the run folder and evaluates.
 */
export async function distillDataset(dataset: Dataset, options: DistillOptions & { network?: NetworkOptions } = {}, hooks: Hooks = {}): Promise<DistillResult> {
  const { network, ...rest } = options;
  const o = parseOptions(distillOptionsSchema, rest, 'distill');
  const spec = convNetForDataset(dataset, network);
  const experts = openRunExperts(dataset, spec, o);
  const shape = syntheticShape(dataset, o);
  const group = hooks.group;
  const W = o.trajectoryBatch ?? group?.worldSize ?? 1;
  checkTrajectoryBatch(W, group?.worldSize ?? 1);
  const lead = !group || group.rank === 0; // writes the run folder and evaluates
  const folder = new RunFolder(defaultRunDir(dataset.name, o), runIdentity(dataset, spec, o, W), lead);

  let state: RunState;
  let set: SyntheticState;
  let notes: string[] = [];
  if (lead && folder.hasCheckpoint()) {
    const ck = await folder.resume(dataset.numClasses, shape, o.iterations);
    notes = ck.notes;
    state = ck.state;
    set = restoredSet(dataset, ck.set, shape);
  } else {
    state = { iteration: 0, lr: o.lrTeacher, lrBuffer: 0, best: null, evals: [] };
    set = initialSet(dataset, o, shape);
    if (lead) folder.startFresh();
  }
  if (group) {
    // every rank continues rank 0's run: its checkpoint, or its fresh start
    ({ state, soft: set.soft } = await shareRunState(
      group,
      state,
      { images: set.images, imagesBuffer: set.imagesMomentum, labels: set.labels },
      set.soft,
      dataset.numClasses,
    ));
    set.labelValues = Int32Array.from(set.labels.toArray() as BigInt64Array, Number);
  }

  const run = new DistillLoop(dataset, spec, o, experts, folder, state, set, { ...hooks, signal: eitherSignal(hooks.signal, group?.signal) }, W, lead);
  const began = Date.now();
  hooks.onEvent?.({
    type: 'start',
    runDir: folder.dir,
    bufferDir: experts.dir,
    experts: experts.files.length,
    iterations: o.iterations,
    resumedAt: state.iteration,
    gradMethod: run.gradMethod,
    ...(notes.length > 0 ? { notes } : {}),
    lastEval: state.evals.at(-1) ?? null,
  });
  try {
    while (state.iteration < o.iterations) {
      // with ranks, a stop is agreed through the iteration's all-reduce instead, so all stop together
      if (!group && hooks.signal?.aborted) {
        await run.checkpoint();
        throw distillInterrupted(state.iteration, folder.dir, hooks.signal.reason);
      }
      if (state.iteration % o.evalIt === 0) {
        await run.evaluate();
        await group?.join(`evaluated-${state.iteration}`); // rank 0's evaluation has no deadline
      }
      const stop = await run.iterate(Boolean(group && hooks.signal?.aborted));
      if (stop) {
        // a rank was asked to stop: all stop here, after the same update
        await run.checkpoint();
        throw distillInterrupted(state.iteration, folder.dir, hooks.signal?.reason);
      }
      if (state.iteration % o.checkpointEvery === 0) await run.checkpoint();
    }
    await run.evaluate();
    if (lead) await run.snapshot(folder.files.synthetic, folder.files.grid);
    if (group) {
      // every rank returns rank 0's evaluations
      const mine = lead ? JSON.stringify({ best: state.best, evals: state.evals }) : '';
      Object.assign(state, JSON.parse((await group.allGather('distill-result', mine))[0]));
    }
  } catch (e) {
    if ((e instanceof TrajmatchInterrupted && e.operation === 'distill') || !hooks.signal?.aborted || group?.signal.aborted) throw e;
    // aborted inside an evaluation: the state is between iterations, so it can be kept
    await run.checkpoint();
    throw distillInterrupted(state.iteration, folder.dir, hooks.signal.reason);
  } finally {
    disposeSet(set);
  }
  const f = folder.files;
  const result: DistillResult = {
    runDir: folder.dir,
    spec,
    best: state.best!,
    evals: state.evals,
    lr: state.lr,
    seconds: (Date.now() - began) / 1000,
    files: { synthetic: f.synthetic, best: f.best, grid: f.grid, gridBest: f.gridBest, metrics: f.metrics, summary: f.summary },
  };
  if (lead)
    await folder.writeSummary({
      dataset: dataset.name,
      method: o.method,
      gradMethod: run.gradMethod,
      ipc: o.ipc,
      iterations: o.iterations,
      device: dataset.device,
      experts: experts.files.length,
      bufferDir: experts.dir,
      best: result.best,
      evals: result.evals,
      lr: result.lr,
      secondsThisSession: result.seconds,
      options: o,
      network: spec,
    });
  return result;
}

/** The loop's steps over one run's state: an iteration, an evaluation, a checkpoint, a snapshot of the set. */
class DistillLoop {
  readonly gradMethod: GradMethod;

  constructor(
    private readonly dataset: Dataset,
    private readonly spec: ConvNetSpec,
    private readonly o: ParsedDistillOptions,
    private readonly experts: RunExperts,
    private readonly folder: RunFolder,
    private readonly state: RunState,
    private readonly set: SyntheticState,
    private readonly hooks: Hooks,
    /** The trajectory batch: stretches matched per iteration, over all ranks. */
    private readonly W: number,
    /** Whether this process writes the run folder and evaluates (rank 0, or the only process). */
    private readonly lead: boolean,
  ) {
    this.gradMethod = gradMethodOf(o);
  }

  /**
   * Iteration state.iteration: draw the W slots (expert and stretch each), match this rank's share,
   * average over the batch, step the pixels and the lr. `stopping`: this process wants to stop,
   * which the ranks learn from each other here; returns whether any rank does.
   */
  async iterate(stopping = false): Promise<boolean> {
    const { o, state, set } = this;
    const group = this.hooks.group;
    const i = state.iteration;
    const t0 = Date.now();
    const slots = slotsOf(i, this.W, this.experts.files.length, this.experts.epochs, {
      method: o.method,
      maxStartEpoch: o.maxStartEpoch,
      expertEpochs: o.expertEpochs,
      seed: o.seed,
    });
    const mine = slotRange(this.W, group?.worldSize ?? 1, group?.rank ?? 0);
    // MCT's --teacher_label: each slot's expert at max_start_epoch labels the current images
    const r = await matchBatch({
      spec: this.spec,
      images: set.images,
      labels: set.labels,
      lr: state.lr,
      synSteps: o.synSteps,
      batchSyn: o.batchSyn,
      dsa: o.dsa ?? undefined,
      method: this.gradMethod,
      teacherEpoch: o.teacherLabel ? o.maxStartEpoch : null,
      trajectory: (k) => this.experts.trajectory(k),
      slots: slots.slice(mine.from, mine.to),
      batch: this.W,
      allReduceMean: group ? packedAllReduce(group) : undefined,
      stopping,
    });
    if (r.soft) {
      set.soft?.tensor.dispose();
      set.soft = r.soft;
    }
    if (!Number.isFinite(r.loss) || !Number.isFinite(r.gradLr)) {
      r.gradImages.dispose();
      throw new DistillDiverged(i, this.folder.dir, `the matching loss became ${r.loss} at iteration ${i} (${describeSlots(slots, this.experts.files)})`, [
        'distill.lrImg',
        'distill.lrLr',
      ]);
    }
    sgdStep(set.images, r.gradImages, set.imagesMomentum, o.lrImg, MOMENTUM);
    r.gradImages.dispose();
    state.lrBuffer = MOMENTUM * state.lrBuffer + r.gradLr;
    state.lr -= o.lrLr * state.lrBuffer;
    if (!(state.lr > 0)) {
      throw new DistillDiverged(i, this.folder.dir, `the learned student lr became ${state.lr} at iteration ${i}`, ['distill.lrLr', 'distill.lrImg']);
    }
    state.iteration = i + 1;
    const seconds = (Date.now() - t0) / 1000;
    const drawn =
      this.W === 1
        ? { expert: slots[0].expert, start: slots[0].start, target: slots[0].target }
        : { slots: slots.map(({ expert, start, target }) => ({ expert, start, target })) };
    if (this.lead) this.folder.log({ type: 'iteration', iteration: i, loss: r.loss, lr: state.lr, ...drawn, seconds });
    this.hooks.onEvent?.({ type: 'iteration', iteration: i, loss: r.loss, lr: state.lr, seconds });
    return r.stop;
  }

  /** The evaluation protocol on the set at state.iteration (once per iteration); keeps the best set. */
  async evaluate(): Promise<void> {
    const { o, state, set } = this;
    if (!this.lead || state.evals.some((e) => e.iteration === state.iteration)) return;
    this.hooks.onEvent?.({ type: 'evaluating', iteration: state.iteration });
    const r = await evaluateSet(
      this.dataset,
      { images: set.images, labels: set.soft?.tensor ?? set.labels, lr: state.lr },
      this.spec,
      {
        numEval: o.numEval,
        epochs: o.evalEpochs,
        dsa: o.dsa,
        seed: seeds.evaluation(o.seed, state.iteration),
      },
      { signal: this.hooks.signal },
    );
    const record = { iteration: state.iteration, mean: r.mean, std: r.std };
    const isBest = state.best === null || r.mean > state.best.mean;
    state.evals.push(record);
    if (isBest) {
      state.best = record;
      await this.snapshot(this.folder.files.best, this.folder.files.gridBest);
    }
    this.folder.log({ type: 'eval', ...record, accuracies: r.accuracies, lr: state.lr });
    this.hooks.onEvent?.({ type: 'eval', ...record, accuracies: r.accuracies, best: isBest });
    await this.checkpoint();
  }

  /** Writes the resume state; refuses (and keeps the last checkpoint) when the pixels are no longer finite. */
  async checkpoint(): Promise<void> {
    if (!this.lead) return;
    const host = hostSet(this.set);
    if (host.images.some((v) => !Number.isFinite(v))) {
      throw new DistillDiverged(this.state.iteration, this.folder.dir, `the synthetic images became non-finite before iteration ${this.state.iteration}`, [
        'distill.lrImg',
      ]);
    }
    await this.folder.writeCheckpoint(this.state, host, this.set.shape);
    this.hooks.onEvent?.({ type: 'checkpoint', iteration: this.state.iteration });
  }

  /** The synthetic set file and its picture (ZCA undone). */
  async snapshot(setFile: string, gridFile: string): Promise<void> {
    const { dataset, set } = this;
    const pixels = set.images.toArray() as Float32Array;
    await writeSyntheticSet(setFile, {
      images: pixels,
      labels: set.labelValues,
      softLabels: set.soft?.values,
      lr: this.state.lr,
      info: {
        dataset: dataset.name,
        ipc: this.o.ipc,
        classNames: dataset.classNames,
        channels: dataset.channels,
        height: dataset.height,
        width: dataset.width,
        zca: dataset.zca !== undefined,
        preprocessing: dataset.preprocessing,
        method: this.o.method,
        convnet: this.spec,
        iteration: this.state.iteration,
      },
    });
    let picture = pixels;
    if (dataset.zca) {
      const un = await dataset.zca.invert(set.images);
      picture = un.toArray() as Float32Array;
      un.dispose();
    }
    await writeGrid(gridFile, {
      images: picture,
      labels: set.labelValues,
      channels: dataset.channels,
      height: dataset.height,
      width: dataset.width,
      numClasses: dataset.numClasses,
      mean: dataset.stats.mean,
      std: dataset.stats.std,
    });
  }
}
