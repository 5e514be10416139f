/**
 * The distillation run (MTT or MCT): the outer loop around the native iteration. It draws an
 * expert and a stretch of its trajectory, runs one iteration (student unroll + gradients), steps
 * the pixels and the learnable lr with SGD (momentum 0.5), evaluates every evalIt iterations with
 * the evaluation protocol and keeps the best set, and checkpoints so that a killed run resumes.
 *
 * Run folder: checkpoint.safetensors (resume state), metrics.jsonl (one line per iteration and per
 * evaluation), synthetic_best.safetensors + grid_best.png (best evaluation so far),
 * synthetic.safetensors + grid.png (the last set) and summary.json.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseOptions } from '../config/validate';
import { Dataset } from '../data/dataset';
import { TrajmatchInputError } from '../errors';
import { evaluateSet, randomRealSubset } from '../eval/protocol';
import { checkSyntheticSetFits } from '../synthetic/size';
import { classIndices, readSafetensors, requireTensor, writeSafetensors } from '../io/safetensors';
import { writeAtomic } from '../io/atomic';
import { convNetForDataset, convNetLayout, ConvNetSpec, NetworkOptions } from '../model/convnet';
import { Tensor } from '../native';
import { tensor } from '../backend/tensor';
import { bufferDir } from '../trajectory/buffer';
import { expertFileName, listExpertFiles, openTrajectory } from '../trajectory/files';
import { waypointPlan } from '../trajectory/waypoints';
import { Trajectory } from '../trajectory/trajectory';
import { writeSyntheticSet } from '../synthetic/file';
import { gaussianValues, mixSeed } from '../util/random';
import { writeGrid } from './grid';
import { matchIteration, sgdStep } from './match';
import { distillOptionsSchema, DistillOptions, ParsedDistillOptions } from './options';
import { expertFor, stretchFor } from './sampling';
import { SoftLabels, teacherLabels } from './teacher';

const MOMENTUM = 0.5; // of both SGD optimisers, as published
const NATIVE = 3;
const INIT = 4;

export class DistillInterrupted extends Error {
  constructor(readonly iteration: number, readonly runDir: string) {
    super(`distillation interrupted at iteration ${iteration}; the checkpoint in ${runDir} resumes it: run the same command again`);
    this.name = 'DistillInterrupted';
  }
}

export type DistillEvent =
  | { type: 'start'; runDir: string; bufferDir: string; experts: number; iterations: number; resumedAt: number; gradMethod: string }
  | { type: 'iteration'; iteration: number; loss: number; lr: number; seconds: number }
  | { type: 'eval'; iteration: number; mean: number; std: number; accuracies: number[]; best: boolean }
  | { type: 'checkpoint'; iteration: number };

export interface EvalRecord {
  iteration: number;
  mean: number;
  std: number;
}

export interface DistillResult {
  runDir: string;
  spec: ConvNetSpec;
  best: EvalRecord;
  evals: EvalRecord[];
  lr: number;
  seconds: number;
  files: { synthetic: string; best: string; grid: string; gridBest: string; metrics: string; summary: string };
}

interface State {
  iteration: number;
  lr: number;
  lrBuffer: number;
  best: EvalRecord | null;
  evals: EvalRecord[];
}

/** The settings a checkpoint belongs to: a resumed run must have the same ones. */
function runIdentity(dataset: Dataset, spec: ConvNetSpec, o: ParsedDistillOptions) {
  const { iterations: _i, evalIt: _e, checkpointEvery: _c, numEval: _n, evalEpochs: _ee, runDir: _r, ...rest } = o;
  return JSON.stringify({ dataset: dataset.name, zca: dataset.zca !== undefined, preprocessing: dataset.preprocessing, spec, ...rest });
}

/** Distils a synthetic set from the experts of the buffer that matches the dataset and network. */
export async function distillDataset(
  dataset: Dataset,
  options: DistillOptions & { network?: NetworkOptions } = {},
  hooks: { onEvent?: (e: DistillEvent) => void; signal?: AbortSignal } = {},
): Promise<DistillResult> {
  const { network, ...rest } = options;
  const o = parseOptions(distillOptionsSchema, rest, 'distill');
  const spec = convNetForDataset(dataset, network);
  const P = convNetLayout(spec).numParams;
  const gradMethod = o.gradMethod ?? (o.method === 'mtt' ? 'unroll' : 'tesla');
  const runDir = o.runDir ?? path.join('runs', `${dataset.name}_${o.method}_ipc${o.ipc}`);
  const nSyn = o.ipc * dataset.numClasses;

  // Experts: the files of the chosen form, checked against the dataset, network and stretch.
  const dir = bufferDir(o.bufferPath, dataset.name, spec, dataset.zca !== undefined);
  const plan = waypointPlan(o.waypoints, o.waypointEpochs);
  let files = listExpertFiles(dir, o.method, plan);
  if (o.maxExperts !== undefined) files = files.slice(0, o.maxExperts);
  if (files.length === 0) {
    throw new TrajmatchInputError(`no ${o.method.toUpperCase()} experts in ${dir} (expected ${o.method === 'mtt' ? 'expert_NNN.mtt.safetensors' : expertFileName(0, 'mct', plan).replace('000', 'NNN')}): train them with npm run buffer (same dataset, network, ZCA setting and waypoints)`);
  }
  const expected = { dataset: dataset.name, convnet: spec, zca: dataset.zca !== undefined, preprocessing: dataset.preprocessing, ...(o.method === 'mct' ? { waypoints: plan } : {}) };
  const first = openTrajectory(files[0], expected);
  const T = first.epochs;
  if (o.method === 'mtt' && (!Number.isInteger(o.maxStartEpoch) || !Number.isInteger(o.expertEpochs))) {
    throw new TrajmatchInputError(`MTT matches checkpoints at integer epochs: maxStartEpoch (${o.maxStartEpoch}) and expertEpochs (${o.expertEpochs}) must be integers`);
  }
  // MTT's last target is (maxStartEpoch - 1) + M and must be a checkpoint; MCT caps targets at T.
  const reach = o.maxStartEpoch - 1 + o.expertEpochs;
  if (o.method === 'mtt' && reach > T) {
    throw new TrajmatchInputError(`maxStartEpoch (${o.maxStartEpoch}) + expertEpochs (${o.expertEpochs}) reaches epoch ${reach}, beyond the ${T} epochs of the trajectories in ${dir}`);
  }
  if (o.method === 'mct' && o.maxStartEpoch >= T) {
    throw new TrajmatchInputError(`maxStartEpoch (${o.maxStartEpoch}) must lie below the ${T} epochs of the trajectories in ${dir}`);
  }
  if (o.batchSyn !== undefined && o.batchSyn > nSyn) {
    throw new TrajmatchInputError(`batchSyn (${o.batchSyn}) is larger than the synthetic set (${o.ipc} per class x ${dataset.numClasses} classes = ${nSyn})`);
  }
  const smallest = Math.min(...dataset.train.classIndices.map((c) => c.length));
  if (o.pixInit === 'real' && o.ipc > smallest) {
    throw new TrajmatchInputError(`ipc (${o.ipc}) is larger than the smallest class of ${dataset.name} (${smallest} training images)`);
  }
  checkSyntheticSetFits(o.ipc, dataset.numClasses, [nSyn, dataset.channels, dataset.height, dataset.width]);

  fs.mkdirSync(runDir, { recursive: true });
  const out = {
    checkpoint: path.join(runDir, 'checkpoint.safetensors'),
    metrics: path.join(runDir, 'metrics.jsonl'),
    synthetic: path.join(runDir, 'synthetic.safetensors'),
    best: path.join(runDir, 'synthetic_best.safetensors'),
    grid: path.join(runDir, 'grid.png'),
    gridBest: path.join(runDir, 'grid_best.png'),
    summary: path.join(runDir, 'summary.json'),
  };
  const identity = runIdentity(dataset, spec, o);
  const shape = [nSyn, dataset.channels, dataset.height, dataset.width];
  const device = dataset.device;

  // Fresh state, or the checkpoint's.
  let images: Tensor;
  let imagesBuffer: Tensor;
  let labels: Tensor;
  let labelValues: Int32Array;
  // teacherLabel: the soft labels of the last iteration (the evaluations train on them, as published)
  let soft: SoftLabels | null = null;
  let state: State;
  if (fs.existsSync(out.checkpoint)) {
    const ck = readSafetensors(out.checkpoint);
    if (ck.metadata.run !== identity) {
      throw new TrajmatchInputError(`${out.checkpoint}: this run folder holds a run with other settings; pass another --run-dir, or delete the folder to start over`);
    }
    state = JSON.parse(ck.metadata.state) as State;
    images = tensor(requireTensor(ck, 'images', out.checkpoint, 'F32', 4).values as Float32Array, shape, { device });
    imagesBuffer = tensor(requireTensor(ck, 'images_momentum', out.checkpoint, 'F32', 4).values as Float32Array, shape, { device });
    labelValues = classIndices(requireTensor(ck, 'labels', out.checkpoint, 'I64', 1).values as BigInt64Array, dataset.numClasses, 'labels', out.checkpoint);
    labels = tensor(labelValues, [nSyn], { dtype: 'int64', device });
    if (ck.tensors.has('soft_labels')) {
      const values = requireTensor(ck, 'soft_labels', out.checkpoint, 'F32', 2).values as Float32Array;
      soft = { values, tensor: tensor(values, [nSyn, dataset.numClasses], { device }) };
    }
    // iterations after the checkpoint are redone: drop their lines
    if (fs.existsSync(out.metrics)) {
      const kept = fs.readFileSync(out.metrics, 'utf8').split('\n').filter(Boolean).filter((line) => {
        const m = JSON.parse(line) as { iteration: number; type: string };
        return m.type === 'eval' ? state.evals.some((e) => e.iteration === m.iteration) : m.iteration < state.iteration;
      });
      await writeAtomic(out.metrics, kept.map((l) => `${l}\n`).join(''));
    }
  } else {
    state = { iteration: 0, lr: o.lrTeacher, lrBuffer: 0, best: null, evals: [] };
    if (o.pixInit === 'real') {
      const subset = randomRealSubset(dataset, o.ipc, mixSeed(o.seed, INIT));
      images = subset.images;
      labels = subset.labels;
    } else {
      images = tensor(gaussianValues(shape.reduce((a, b) => a * b, 1), mixSeed(o.seed, INIT)), shape, { device });
      labels = tensor(Int32Array.from({ length: nSyn }, (_, i) => Math.floor(i / o.ipc)), [nSyn], { dtype: 'int64', device });
    }
    labelValues = Int32Array.from(labels.toArray() as BigInt64Array, Number);
    imagesBuffer = tensor(new Float32Array(images.numel), shape, { device });
    if (fs.existsSync(out.metrics)) fs.rmSync(out.metrics);
  }

  const trajectories = new Map<number, Trajectory>();
  const trajectory = (k: number) => {
    let t = trajectories.get(k);
    if (!t) {
      if (trajectories.size >= 8) trajectories.delete(trajectories.keys().next().value as number); // MTT files are large
      t = k === 0 ? first : openTrajectory(files[k], expected);
      if (t.epochs !== T) throw new TrajmatchInputError(`${files[k]}: has ${t.epochs} epochs, but ${files[0]} has ${T}`);
      trajectories.set(k, t);
    }
    return t;
  };

  const began = Date.now();
  const log = (line: object) => fs.appendFileSync(out.metrics, `${JSON.stringify(line)}\n`);
  const info = (iteration: number) => ({
    dataset: dataset.name, ipc: o.ipc, classNames: dataset.classNames, channels: dataset.channels, height: dataset.height,
    width: dataset.width, zca: dataset.zca !== undefined, preprocessing: dataset.preprocessing, method: o.method, convnet: spec, iteration,
  });
  /** The synthetic set on the host, and its picture (ZCA undone). */
  const snapshot = async (iteration: number, setFile: string, gridFile: string) => {
    const pixels = images.toArray() as Float32Array;
    await writeSyntheticSet(setFile, { images: pixels, labels: labelValues, softLabels: soft?.values, lr: state.lr, info: info(iteration) });
    let picture = pixels;
    if (dataset.zca) {
      const un = await dataset.zca.invert(images);
      picture = un.toArray() as Float32Array;
      un.dispose();
    }
    await writeGrid(gridFile, {
      images: picture, labels: labelValues, channels: dataset.channels, height: dataset.height, width: dataset.width,
      numClasses: dataset.numClasses, mean: dataset.stats.mean, std: dataset.stats.std,
    });
  };
  const checkpoint = async () => {
    const pixels = images.toArray() as Float32Array;
    const bad = pixels.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new TrajmatchInputError(`the synthetic images became non-finite before iteration ${state.iteration}; the last checkpoint in ${runDir} is kept: lower --lr-img`);
    }
    await writeSafetensors(out.checkpoint, {
      images: { values: pixels, shape },
      images_momentum: { values: imagesBuffer.toArray() as Float32Array, shape },
      labels: { values: BigInt64Array.from(labelValues, BigInt), shape: [nSyn] },
      ...(soft ? { soft_labels: { values: soft.values, shape: [nSyn, dataset.numClasses] } } : {}),
    }, { run: identity, state: JSON.stringify(state) });
    hooks.onEvent?.({ type: 'checkpoint', iteration: state.iteration });
  };
  const evaluateNow = async () => {
    if (state.evals.some((e) => e.iteration === state.iteration)) return;
    const r = await evaluateSet(dataset, { images, labels: soft?.tensor ?? labels, lr: state.lr }, spec, {
      numEval: o.numEval, epochs: o.evalEpochs, dsa: o.dsa, seed: mixSeed(o.seed, 5, state.iteration),
    }, { signal: hooks.signal });
    const record = { iteration: state.iteration, mean: r.mean, std: r.std };
    const isBest = state.best === null || r.mean > state.best.mean;
    state.evals.push(record);
    if (isBest) {
      state.best = record;
      await snapshot(state.iteration, out.best, out.gridBest);
    }
    log({ type: 'eval', ...record, accuracies: r.accuracies, lr: state.lr });
    hooks.onEvent?.({ type: 'eval', ...record, accuracies: r.accuracies, best: isBest });
    await checkpoint();
  };

  hooks.onEvent?.({ type: 'start', runDir, bufferDir: dir, experts: files.length, iterations: o.iterations, resumedAt: state.iteration, gradMethod });
  try {
    while (state.iteration < o.iterations) {
      if (hooks.signal?.aborted) {
        await checkpoint();
        throw new DistillInterrupted(state.iteration, runDir);
      }
      if (state.iteration % o.evalIt === 0) await evaluateNow();
      const i = state.iteration;
      const t0 = Date.now();
      const k = expertFor(i, files.length, o.seed);
      const traj = trajectory(k);
      const stretch = stretchFor(i, o.method, o.maxStartEpoch, o.expertEpochs, T, o.seed);
      // MCT's --teacher_label: this iteration's expert at max_start_epoch labels the current images
      const teacher = o.teacherLabel ? await teacherLabels(spec, images, traj.paramsAt(o.maxStartEpoch)) : null;
      const start = tensor(traj.paramsAt(stretch.start), [P], { device });
      const target = tensor(traj.paramsAt(stretch.target), [P], { device });
      let r;
      try {
        r = await matchIteration(spec, {
          images, labels: teacher?.tensor ?? labels, start, target, lr: state.lr, synSteps: o.synSteps, batchSyn: o.batchSyn,
          dsa: o.dsa ?? undefined, seed: mixSeed(o.seed, NATIVE, i), method: gradMethod,
        });
      } catch (e) {
        teacher?.tensor.dispose();
        throw e;
      } finally {
        start.dispose();
        target.dispose();
      }
      if (teacher) {
        soft?.tensor.dispose();
        soft = teacher;
      }
      if (!Number.isFinite(r.loss) || !Number.isFinite(r.gradLr)) {
        r.gradImages.dispose();
        throw new TrajmatchInputError(`the matching loss became ${r.loss} at iteration ${i} (${files[k]}, epochs ${stretch.start} to ${stretch.target}); the last checkpoint in ${runDir} is kept: lower --lr-img or --lr-lr`);
      }
      sgdStep(images, r.gradImages, imagesBuffer, o.lrImg, MOMENTUM);
      r.gradImages.dispose();
      state.lrBuffer = MOMENTUM * state.lrBuffer + r.gradLr;
      state.lr -= o.lrLr * state.lrBuffer;
      if (!(state.lr > 0)) {
        throw new TrajmatchInputError(`the learned student lr became ${state.lr} at iteration ${i}; the last checkpoint in ${runDir} is kept: lower --lr-lr or --lr-img`);
      }
      state.iteration = i + 1;
      const seconds = (Date.now() - t0) / 1000;
      log({ type: 'iteration', iteration: i, loss: r.loss, lr: state.lr, expert: k, start: stretch.start, target: stretch.target, seconds });
      hooks.onEvent?.({ type: 'iteration', iteration: i, loss: r.loss, lr: state.lr, seconds });
      if (state.iteration % o.checkpointEvery === 0) await checkpoint();
    }
    await evaluateNow();
    await snapshot(state.iteration, out.synthetic, out.grid);
  } catch (e) {
    if (e instanceof DistillInterrupted || !(hooks.signal?.aborted)) throw e;
    // aborted inside an evaluation: the state is between iterations, so it can be kept
    await checkpoint();
    throw new DistillInterrupted(state.iteration, runDir);
  } finally {
    images.dispose();
    imagesBuffer.dispose();
    labels.dispose();
    soft?.tensor.dispose();
  }
  const result: DistillResult = {
    runDir, spec, best: state.best!, evals: state.evals, lr: state.lr, seconds: (Date.now() - began) / 1000,
    files: { synthetic: out.synthetic, best: out.best, grid: out.grid, gridBest: out.gridBest, metrics: out.metrics, summary: out.summary },
  };
  await writeAtomic(out.summary, `${JSON.stringify({
    dataset: dataset.name, method: o.method, gradMethod, ipc: o.ipc, iterations: o.iterations, device, experts: files.length,
    bufferDir: dir, best: result.best, evals: result.evals, lr: result.lr, secondsThisSession: result.seconds, options: o, network: spec,
  }, null, 2)}\n`);
  return result;
}
