/** Training epochs and evaluation passes of the functional ConvNet, run by the engine. */
import { callNative } from '../errors';
import { native, NativeConvNetSpec, PassStats, Tensor } from '../native';
import { ConvNetSpec } from '../model/convnet';

export interface EpochOptions {
  /** Flat parameters, updated in place. */
  params: Tensor;
  /** Momentum buffer shaped like params, updated in place (needed when momentum != 0). */
  momentumBuffer?: Tensor;
  images: Tensor;
  labels: Tensor;
  lr: number;
  momentum?: number;
  weightDecay?: number;
  batchSize?: number;
  /** A DSA strategy to augment every batch with; none when omitted. */
  dsa?: string;
  /** Seed of the epoch's shuffle and augmentations. */
  seed: number;
}

/** One epoch of minibatch SGD (PyTorch's update rule); resolves with the epoch's mean loss and accuracy. */
export function trainEpoch(spec: ConvNetSpec, options: EpochOptions): Promise<PassStats> {
  const { momentum = 0, weightDecay = 0, batchSize = 256 } = options;
  return callNative('trainEpoch', () =>
    native().trainEpoch(spec as NativeConvNetSpec, { ...options, momentum, weightDecay, batchSize }));
}

/** Mean loss and top-1 accuracy of the parameters on a dataset split. */
export function evaluate(spec: ConvNetSpec, options: { params: Tensor; images: Tensor; labels: Tensor; batchSize?: number }): Promise<PassStats> {
  return callNative('evaluate', () => native().evaluate(spec as NativeConvNetSpec, options));
}
