/**
 * The evaluation protocol of the distillation literature: train num_eval fresh networks on a
 * (synthetic) training set with SGD (momentum 0.9, weight decay 5e-4, batch 256, lr = the learned
 * lr), DSA on every batch, through evaluate_synset's schedule (schedule.ts: epochs + 1 epochs, the
 * lr x 0.1 after epoch epochs/2 + 1 with a fresh momentum buffer), then measure top-1 accuracy on
 * the full real test set; report mean +- std (population) over the networks. Soft labels
 * ([N, numClasses] class probabilities) train with the soft cross-entropy, as MCT's code does.
 */
import { z } from 'zod';
import { DEFAULT_DSA_STRATEGY, dsaStrategySchema } from '../augment/dsa';
import { indexSelect, tensor } from '../backend/tensor';
import { parseOptions } from '../config/validate';
import { Dataset } from '../data/dataset';
import { callNative, TrajmatchInputError } from '../errors';
import { convNetInit, convNetLayout, ConvNetSpec } from '../model/convnet';
import { native, Tensor } from '../native';
import { evaluate, trainEpoch } from '../train/sgd';
import { evalSchedule } from './schedule';
import { mixSeed, seededRandom, shuffled } from '../util/random';

export const evalOptionsSchema = z.strictObject({
  /** Fresh networks to train (published: 5 in MTT's distill.py, 3 in MCT's distill_compressed.py). */
  numEval: z.number().int().positive().default(5),
  /** epoch_eval_train (published: 1000); as in evaluate_synset, each network trains epochs + 1 epochs. */
  epochs: z.number().int().positive().default(1000),
  batchSize: z.number().int().positive().default(256),
  momentum: z.number().min(0).lt(1).default(0.9),
  weightDecay: z.number().min(0).default(5e-4),
  dsa: dsaStrategySchema.nullable().default(DEFAULT_DSA_STRATEGY),
  seed: z.number().int().nonnegative().default(0),
});

export type EvalOptions = z.input<typeof evalOptionsSchema>;

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

export function meanStd(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { mean, std };
}

/** Trains num_eval fresh networks on `set` and tests each on the dataset's test split. */
export async function evaluateSet(
  dataset: Dataset,
  set: TrainingSet,
  spec: ConvNetSpec,
  options: EvalOptions = {},
  hooks: { onNetwork?: (index: number, accuracy: number) => void; signal?: AbortSignal } = {},
): Promise<EvalResult> {
  const o = parseOptions(evalOptionsSchema, options, 'eval');
  if (!Number.isFinite(set.lr) || set.lr <= 0) throw new TrajmatchInputError(`Expected a positive number for the evaluation lr but received ${set.lr}`);
  const P = convNetLayout(spec).numParams;
  const began = Date.now();
  const accuracies: number[] = [];
  const schedule = evalSchedule(o.epochs);
  for (let k = 0; k < o.numEval; k++) {
    const params = convNetInit(spec, { seed: mixSeed(o.seed, k, 0xe7a1), device: dataset.device });
    try {
      let epoch = 0;
      for (const phase of schedule) {
        // a fresh momentum buffer per phase: the published code builds a new optimiser at the decay
        const buffer = tensor(new Float32Array(P), [P], { device: dataset.device });
        try {
          for (let e = 0; e < phase.epochs; e++, epoch++) {
            hooks.signal?.throwIfAborted();
            await trainEpoch(spec, {
              params, momentumBuffer: buffer, images: set.images, labels: set.labels, lr: set.lr * phase.lrScale, momentum: o.momentum,
              weightDecay: o.weightDecay, batchSize: o.batchSize, dsa: o.dsa ?? undefined, seed: mixSeed(o.seed, k, epoch),
            });
          }
        } finally {
          buffer.dispose();
        }
      }
      const test = await evaluate(spec, { params, images: dataset.test.images, labels: dataset.test.labels });
      accuracies.push(test.accuracy);
      hooks.onNetwork?.(k, test.accuracy);
    } finally {
      params.dispose();
    }
  }
  return { accuracies, ...meanStd(accuracies), seconds: (Date.now() - began) / 1000 };
}

/** The architectures of cross-architecture evaluation: the ConvNet, and the literature's others for small images. */
export const EVAL_ARCHS = ['convnet', 'alexnet', 'vgg11', 'resnet18'] as const;
export type EvalArch = (typeof EVAL_ARCHS)[number];

/**
 * The protocol on another architecture (AlexNet, VGG11 with instance norm, ResNet18 with batch
 * norm): num_eval fresh networks trained natively, each in one call, and tested. 'convnet' runs
 * evaluateSet with the given ConvNet.
 */
export async function evaluateSetOnArch(
  dataset: Dataset,
  set: TrainingSet,
  arch: EvalArch,
  convnet: ConvNetSpec,
  options: EvalOptions = {},
  hooks: { onNetwork?: (index: number, accuracy: number) => void; signal?: AbortSignal } = {},
): Promise<EvalResult> {
  if (arch === 'convnet') return evaluateSet(dataset, set, convnet, options, hooks);
  if (!(EVAL_ARCHS as readonly string[]).includes(arch)) throw new TrajmatchInputError(`Expected one of ${EVAL_ARCHS.join(', ')} for arch but received ${JSON.stringify(arch)}`);
  const o = parseOptions(evalOptionsSchema, options, 'eval');
  if (!Number.isFinite(set.lr) || set.lr <= 0) throw new TrajmatchInputError(`Expected a positive number for the evaluation lr but received ${set.lr}`);
  const began = Date.now();
  const accuracies: number[] = [];
  for (let k = 0; k < o.numEval; k++) {
    hooks.signal?.throwIfAborted();
    const accuracy = await callNative(`evaluate on ${arch}`, () => native().zooTrainTest(
      { arch, channels: dataset.channels, height: dataset.height, width: dataset.width, numClasses: dataset.numClasses },
      {
        images: set.images, labels: set.labels, testImages: dataset.test.images, testLabels: dataset.test.labels,
        schedule: evalSchedule(o.epochs).map((p) => ({ epochs: p.epochs, lr: set.lr * p.lrScale })),
        momentum: o.momentum, weightDecay: o.weightDecay, batchSize: o.batchSize, dsa: o.dsa ?? undefined,
        seed: mixSeed(o.seed, k, 0xa7c4),
      },
    ));
    accuracies.push(accuracy);
    hooks.onNetwork?.(k, accuracy);
  }
  return { accuracies, ...meanStd(accuracies), seconds: (Date.now() - began) / 1000 };
}

/** ipc random real training images of each class (seeded): the baseline any distilled set must beat. */
export function randomRealSubset(dataset: Dataset, ipc: number, seed: number): { images: Tensor; labels: Tensor; indices: number[] } {
  if (!Number.isSafeInteger(ipc) || ipc < 1) throw new TrajmatchInputError(`ipc must be a positive integer (images per class), received ${ipc}`);
  const rand = seededRandom(mixSeed(seed, 0xba5e));
  const indices: number[] = [];
  dataset.train.classIndices.forEach((members, c) => {
    if (members.length < ipc) {
      throw new TrajmatchInputError(`ipc ${ipc} is larger than class ${c} (${dataset.classNames[c]}), which has ${members.length} training images`);
    }
    indices.push(...shuffled(members, rand).slice(0, ipc));
  });
  return { images: indexSelect(dataset.train.images, indices), labels: indexSelect(dataset.train.labels, indices), indices };
}
