/** Training epochs and evaluation passes of the functional ConvNet on a flat parameter vector. */
import { ConvNetSpec } from '../model/convnet';
import { PassStats, Tensor } from '../native';
import { Network, NetworkEpochOptions } from './network';

export interface EpochOptions extends NetworkEpochOptions {
  /** Flat parameters, updated in place. */
  params: Tensor;
  /** Momentum buffer shaped like params, updated in place (needed when momentum != 0). */
  momentumBuffer?: Tensor;
}

/** One epoch of minibatch SGD (PyTorch's update rule) on `params`; resolves with the epoch's mean loss and accuracy. */
export async function trainEpoch(spec: ConvNetSpec, options: EpochOptions): Promise<PassStats> {
  const { params, momentumBuffer, ...epoch } = options;
  const net = await Network.adopt(spec, params, momentumBuffer);
  try {
    return await net.trainEpoch(epoch);
  } finally {
    net.dispose();
  }
}

/** Mean loss and top-1 accuracy of the parameters on a dataset split. */
export async function evaluate(spec: ConvNetSpec, options: { params: Tensor; images: Tensor; labels: Tensor; batchSize?: number }): Promise<PassStats> {
  const { params, ...data } = options;
  const net = await Network.adopt(spec, params);
  try {
    return await net.evaluate(data);
  } finally {
    net.dispose();
  }
}
