/**
 * The evaluation protocol of the distillation literature: train num_eval fresh networks on a
 * (synthetic) training set with SGD (momentum 0.9, weight decay 5e-4, batch 256, lr = the learned
 * lr), DSA on every batch, through evaluate_synset's schedule (schedule.ts: epochs + 1 epochs, the
 * lr x 0.1 after epoch epochs/2 + 1 with a fresh momentum buffer), then measure top-1 accuracy on
 * the full real test set; report mean +- std (population) over the networks. Soft labels
 * ([N, numClasses] class probabilities) train with the soft cross-entropy, as MCT's code does.
 * One loop for every architecture (ConvNet, AlexNet, VGG11, ResNet18), one native call per epoch
 * on a network handle.
 */
import { z } from 'zod';
import { DEFAULT_DSA_STRATEGY, dsaStrategySchema } from '../augment/dsa';
import { indexSelect } from '../backend/tensor';
import { parseOptions } from '../config/validate';
import { Equals, Expect } from '../config/schema-types';
import { Dataset } from '../data/dataset';
import { throwIfInterrupted, TrajmatchInputError, TrajmatchInterrupted } from '../errors';
import { ConvNetSpec } from '../model/convnet';
import { NETWORK_ARCHS, NetworkArch, NetworkSpec, networkSpecFor } from '../model/network';
import { Tensor } from '../native';
import { Network } from '../train/network';
import { seededRandom, shuffled } from '../util/random';
import { seeds } from '../util/seeds';
import { evalSchedule } from './schedule';

/** The evaluation protocol's settings. */
export interface EvalOptions {
  /** Fresh networks to train (published: 5 in MTT's distill.py, the default; 3 in MCT's distill_compressed.py). */
  numEval?: number;
  /** epoch_eval_train (published: 1000, the default); as in evaluate_synset, each network trains epochs + 1 epochs. */
  epochs?: number;
  /** Default 256. */
  batchSize?: number;
  /** Default 0.9. */
  momentum?: number;
  /** Default 5e-4. */
  weightDecay?: number;
  /** DSA strategy of every batch, or null for none; default all six groups. */
  dsa?: string | null;
  /** Default 0. */
  seed?: number;
}

/** @internal The schema of EvalOptions. */
export const evalOptionsSchema = z.strictObject({
  numEval: z.number().int().positive().default(5),
  epochs: z.number().int().positive().default(1000),
  batchSize: z.number().int().positive().default(256),
  momentum: z.number().min(0).lt(1).default(0.9),
  weightDecay: z.number().min(0).default(5e-4),
  dsa: dsaStrategySchema.nullable().default(DEFAULT_DSA_STRATEGY),
  seed: z.number().int().nonnegative().default(0),
});

// Fails to compile when the interface above and the schema differ (see config/schema-types.ts).
type _SameAsSchema = Expect<Equals<EvalOptions, z.input<typeof evalOptionsSchema>>>;

export interface EvalResult {
  accuracies: number[];
  mean: number;
  std: number;
  /** Seconds of training and testing, all networks together. */
  seconds: number;
}

export interface TrainingSet {
  images: Tensor;
  /** int64 classes [N], or soft labels: float32 class probabilities [N, numClasses]. */
  labels: Tensor;
  lr: number;
}

export interface EvalHooks {
  onNetwork?: (index: number, accuracy: number) => void;
  signal?: AbortSignal;
}

/** What the protocol does in one training epoch of a network. */
export interface EpochPlan {
  lr: number;
  /** Zero the momentum buffers before this epoch (an optimiser restarted with the new lr). */
  restartMomentum: boolean;
}

/**
 * The protocol's epochs for epoch_eval_train = `epochs` and the set's lr: evaluate_synset's phases
 * (schedule.ts, the one place the schedule is written) one epoch at a time; the first epoch of each
 * phase after the first restarts the momentum, as the published code builds a new optimiser there.
 */
export function evalEpochPlan(epochs: number, lr: number): EpochPlan[] {
  return evalSchedule(epochs).flatMap((phase, p) =>
    Array.from({ length: phase.epochs }, (_, e) => ({ lr: lr * phase.lrScale, restartMomentum: p > 0 && e === 0 })),
  );
}

export function meanStd(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { mean, std };
}

/** Trains num_eval fresh networks of `network`'s architecture on `set` and tests each on the dataset's test split. */
export async function evaluateNetworks(
  dataset: Dataset,
  set: TrainingSet,
  network: NetworkSpec,
  options: EvalOptions = {},
  hooks: EvalHooks = {},
): Promise<EvalResult> {
  const o = parseOptions(evalOptionsSchema, options, 'eval');
  if (!Number.isFinite(set.lr) || set.lr <= 0) throw new TrajmatchInputError(`Expected a positive number for the evaluation lr but received ${set.lr}`);
  const schedule = evalEpochPlan(o.epochs, set.lr);
  const began = Date.now();
  const accuracies: number[] = [];
  const interrupted = (k: number) => (cause: unknown) => new TrajmatchInterrupted('evaluate', k, null, { cause });
  throwIfInterrupted(hooks.signal, interrupted(0));
  for (let k = 0; k < o.numEval; k++) {
    throwIfInterrupted(hooks.signal, interrupted(k));
    const net = await Network.create(network, { seed: seeds.evalNetworkInit(o.seed, k), device: dataset.device });
    try {
      for (const [epoch, plan] of schedule.entries()) {
        throwIfInterrupted(hooks.signal, interrupted(k));
        if (plan.restartMomentum) net.resetMomentum();
        await net.trainEpoch({
          images: set.images,
          labels: set.labels,
          lr: plan.lr,
          momentum: o.momentum,
          weightDecay: o.weightDecay,
          batchSize: o.batchSize,
          dsa: o.dsa ?? undefined,
          seed: seeds.evalEpoch(o.seed, k, epoch),
        });
      }
      const test = await net.evaluate({ images: dataset.test.images, labels: dataset.test.labels });
      accuracies.push(test.accuracy);
      hooks.onNetwork?.(k, test.accuracy);
    } finally {
      net.dispose();
    }
  }
  return { accuracies, ...meanStd(accuracies), seconds: (Date.now() - began) / 1000 };
}

/** The protocol on the ConvNet `spec`. */
export function evaluateSet(dataset: Dataset, set: TrainingSet, spec: ConvNetSpec, options: EvalOptions = {}, hooks: EvalHooks = {}): Promise<EvalResult> {
  return evaluateNetworks(dataset, set, { arch: 'convnet', ...spec }, options, hooks);
}

/** The architectures of cross-architecture evaluation: the ConvNet, and the literature's others for small images. */
export const EVAL_ARCHS = NETWORK_ARCHS;
export type EvalArch = NetworkArch;

/**
 * The protocol on an architecture (AlexNet, VGG11 with instance norm, ResNet18 with batch norm, or
 * 'convnet': the given ConvNet) for the dataset's input shape.
 */
export async function evaluateSetOnArch(
  dataset: Dataset,
  set: TrainingSet,
  arch: EvalArch,
  convnet: ConvNetSpec,
  options: EvalOptions = {},
  hooks: EvalHooks = {},
): Promise<EvalResult> {
  return evaluateNetworks(dataset, set, networkSpecFor(arch, dataset, convnet), options, hooks);
}

/** The lr of the random-real baseline: that of the experts that trained on real data (published lr_teacher). */
export const BASELINE_LR = 0.01;

/** ipc random real training images of each class (seeded): the baseline any distilled set must beat. */
export function randomRealSubset(dataset: Dataset, ipc: number, seed: number): { images: Tensor; labels: Tensor; indices: number[] } {
  if (!Number.isSafeInteger(ipc) || ipc < 1) throw new TrajmatchInputError(`ipc must be a positive integer (images per class), received ${ipc}`);
  const rand = seededRandom(seeds.realSubset(seed));
  const indices: number[] = [];
  dataset.train.classIndices.forEach((members, c) => {
    if (members.length < ipc) {
      throw new TrajmatchInputError(`ipc ${ipc} is larger than class ${c} (${dataset.classNames[c]}), which has ${members.length} training images`);
    }
    indices.push(...shuffled(members, rand).slice(0, ipc));
  });
  return { images: indexSelect(dataset.train.images, indices), labels: indexSelect(dataset.train.labels, indices), indices };
}
