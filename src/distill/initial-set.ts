/**
 * The synthetic set a run starts from: ipc random real images of each class (the published
 * default), or Gaussian noise with ipc images labelled per class; with a zero momentum buffer for
 * the pixels' SGD.
 */
import { tensor } from '../backend/tensor';
import { Dataset } from '../data/dataset';
import { TrajmatchInputError } from '../errors';
import { checkSyntheticSetFits } from '../synthetic/size';
import { randomRealSubset } from '../eval/protocol';
import { Tensor } from '../native';
import { gaussianValues } from '../util/random';
import { seeds } from '../util/seeds';
import { HostSet } from './run-folder';
import { ParsedDistillOptions } from './options';
import { SoftLabels } from './teacher';

/** The synthetic set on the device: pixels (updated in place), their momentum, labels. */
export interface SyntheticState {
  images: Tensor;
  imagesMomentum: Tensor;
  labels: Tensor;
  /** The labels on the host (they never change). */
  labelValues: Int32Array;
  /** teacherLabel: the soft labels of the last iteration (the evaluations train on them, as published). */
  soft: SoftLabels | null;
  /** [N, C, H, W] */
  shape: number[];
}

/** The shape [ipc x classes, C, H, W] of the run's synthetic set; throws when the set cannot be made or walked. */
export function syntheticShape(dataset: Dataset, o: ParsedDistillOptions): number[] {
  const nSyn = o.ipc * dataset.numClasses;
  if (o.batchSyn !== undefined && o.batchSyn > nSyn) {
    throw new TrajmatchInputError(`batchSyn (${o.batchSyn}) is larger than the synthetic set (${o.ipc} per class x ${dataset.numClasses} classes = ${nSyn})`);
  }
  const smallest = Math.min(...dataset.train.classIndices.map((c) => c.length));
  if (o.pixInit === 'real' && o.ipc > smallest) {
    throw new TrajmatchInputError(`ipc (${o.ipc}) is larger than the smallest class of ${dataset.name} (${smallest} training images)`);
  }
  const shape = [nSyn, dataset.channels, dataset.height, dataset.width];
  checkSyntheticSetFits(o.ipc, dataset.numClasses, shape);
  return shape;
}

/** A fresh synthetic set, drawn from the run's seed. */
export function initialSet(dataset: Dataset, o: ParsedDistillOptions, shape: number[]): SyntheticState {
  const device = dataset.device;
  const nSyn = shape[0];
  let images: Tensor;
  let labels: Tensor;
  if (o.pixInit === 'real') {
    ({ images, labels } = randomRealSubset(dataset, o.ipc, seeds.initialSet(o.seed)));
  } else {
    images = tensor(
      gaussianValues(
        shape.reduce((a, b) => a * b, 1),
        seeds.initialSet(o.seed),
      ),
      shape,
      { device },
    );
    labels = tensor(
      Int32Array.from({ length: nSyn }, (_, i) => Math.floor(i / o.ipc)),
      [nSyn],
      { dtype: 'int64', device },
    );
  }
  const labelValues = Int32Array.from(labels.toArray() as BigInt64Array, Number);
  const imagesMomentum = tensor(new Float32Array(images.numel), shape, { device });
  return { images, imagesMomentum, labels, labelValues, soft: null, shape };
}

/** The set of a checkpoint, back on the device. */
export function restoredSet(dataset: Dataset, set: HostSet, shape: number[]): SyntheticState {
  const device = dataset.device;
  return {
    images: tensor(set.images, shape, { device }),
    imagesMomentum: tensor(set.imagesMomentum, shape, { device }),
    labels: tensor(set.labels, [shape[0]], { dtype: 'int64', device }),
    labelValues: set.labels,
    soft: set.softLabels ? { values: set.softLabels, tensor: tensor(set.softLabels, [shape[0], set.softLabels.length / shape[0]], { device }) } : null,
    shape,
  };
}

/** The set on the host, for a checkpoint. */
export function hostSet(s: SyntheticState): HostSet {
  return {
    images: s.images.toArray() as Float32Array,
    imagesMomentum: s.imagesMomentum.toArray() as Float32Array,
    labels: s.labelValues,
    softLabels: s.soft?.values,
  };
}

export function disposeSet(s: SyntheticState): void {
  for (const t of [s.images, s.imagesMomentum, s.labels, s.soft?.tensor]) if (t && !t.disposed) t.dispose();
}
