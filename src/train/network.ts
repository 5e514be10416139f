/**
 * A network in the engine, trained and tested one native call per epoch (the experts of the
 * buffer and the evaluation protocol are loops over these calls). The defaults of a training epoch
 * and of an evaluation pass live here, once.
 */
import { handleDevice } from '../backend/device';
import { NetworkHandle } from '../engine';
import { expected } from '../errors';
import { ConvNetSpec } from '../model/convnet';
import { NetworkSpec } from '../model/network';
import { DType, PassStats, Tensor } from '../native';

/** Defaults of a training epoch: plain SGD, batches of 256 (the published batch size). */
export const EPOCH_DEFAULTS = { momentum: 0, weightDecay: 0, batchSize: 256 } as const;
/** Examples per batch of an evaluation pass (no gradients, so larger than a training batch). */
export const EVAL_BATCH_SIZE = 500;

export interface NetworkEpochOptions {
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

export class Network {
  private constructor(private readonly handle: NetworkHandle) {}

  /**
   * A fresh network initialised from `seed`, float32 on the CPU unless asked. The ConvNet is the same
   * on every device for a seed; the zoo's modules draw libtorch's default initialisation under it.
   */
  static async create(spec: NetworkSpec, options: { seed: number; device?: string; dtype?: DType }): Promise<Network> {
    if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw expected('seed', 'a non-negative integer', options.seed);
    return new Network(await NetworkHandle.create(spec, { seed: options.seed, dtype: options.dtype ?? 'float32', device: handleDevice(options.device) }));
  }

  /**
   * A ConvNet that trains the caller's flat parameters (and momentum buffer, needed when momentum
   * is not 0) in place.
   */
  static async adopt(spec: ConvNetSpec, params: Tensor, momentumBuffer?: Tensor): Promise<Network> {
    return new Network(await NetworkHandle.create({ arch: 'convnet', ...spec }, { params, momentumBuffer }));
  }

  get numParams(): number {
    return this.handle.numParams;
  }

  get disposed(): boolean {
    return this.handle.disposed;
  }

  /** One epoch of minibatch SGD (PyTorch's update rule); resolves with the epoch's mean loss and accuracy. */
  trainEpoch(options: NetworkEpochOptions): Promise<PassStats> {
    const { images, labels, lr, dsa, seed } = options;
    const { momentum, weightDecay, batchSize } = { ...EPOCH_DEFAULTS, ...definedOnly(options) };
    return this.handle.trainEpoch({ images, labels, lr, momentum, weightDecay, batchSize, dsa, seed });
  }

  /** Mean loss and top-1 accuracy on a dataset split. */
  evaluate(options: { images: Tensor; labels: Tensor; batchSize?: number }): Promise<PassStats> {
    return this.handle.evaluate({ images: options.images, labels: options.labels, batchSize: options.batchSize ?? EVAL_BATCH_SIZE });
  }

  /** Zeroes the momentum buffers, as a fresh optimiser starts them. */
  resetMomentum(): void {
    this.handle.resetMomentum();
  }

  /** A copy of every parameter as one flat vector (the ConvNet's layout order). */
  parameters(): Tensor {
    return this.handle.parameters();
  }

  dispose(): void {
    this.handle.dispose();
  }

  /** dispose(), for `using net = await Network.create(...)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** The options that were given (an explicit undefined does not override a default). */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
