/**
 * One distillation iteration in one native call: syn_steps student SGD steps on minibatches of
 * the synthetic images (with DSA), the normalised distance to theta_target, and its gradients to
 * the pixels and to the learnable learning rate, by full unroll (exact, MTT), tesla (constant
 * memory, MCT's published code) or adjoint (exact, recomputed backwards).
 */
import * as engine from '../engine';
import { expected } from '../errors';
import { Tensor } from '../native';
import { ConvNetSpec } from '../model/convnet';

export const GRAD_METHODS = ['unroll', 'tesla', 'adjoint'] as const;
export type GradMethod = (typeof GRAD_METHODS)[number];

export interface MatchInputs {
  /** Synthetic images X [S, C, H, W]. */
  images: Tensor;
  /** int64 labels [S], each in [0, numClasses). */
  labels: Tensor;
  /** Expert parameters theta_start [P]. */
  start: Tensor;
  /** Expert parameters theta_target [P]. */
  target: Tensor;
  /** The student's learning rate alpha. */
  lr: number;
  /** N: unrolled student steps. */
  synSteps: number;
  /** Minibatch size of each step (walking random permutations of S); all of S when omitted. */
  batchSyn?: number;
  /** DSA strategy applied to each step's minibatch; none when omitted. */
  dsa?: string;
  /** Seed of the permutations and augmentations (replayed exactly by every recompute); 0 when omitted. */
  seed?: number;
  /** How dL/dX and dL/dalpha are computed (default unroll). */
  method?: GradMethod;
}

export interface MatchResult {
  /** ||w_N - theta_target||^2 / ||theta_start - theta_target||^2 */
  loss: number;
  /** dL/dX, shaped like the images. */
  gradImages: Tensor;
  /** dL/dalpha */
  gradLr: number;
}

export function matchIteration(spec: ConvNetSpec, inputs: MatchInputs): Promise<MatchResult> {
  if (!Number.isFinite(inputs.lr)) throw expected('lr', 'a finite number', inputs.lr);
  if (!Number.isSafeInteger(inputs.synSteps) || inputs.synSteps < 1) throw expected('synSteps', 'a positive integer', inputs.synSteps);
  if (inputs.method !== undefined && !GRAD_METHODS.includes(inputs.method)) throw expected('method', GRAD_METHODS.join(', '), inputs.method);
  const { images, labels, start, target, lr, synSteps, dsa } = inputs;
  return engine.matchIteration(spec, {
    images,
    labels,
    start,
    target,
    lr,
    synSteps,
    dsa,
    batchSyn: inputs.batchSyn ?? images.shape[0],
    seed: inputs.seed ?? 0,
    method: inputs.method ?? 'unroll',
  });
}

/**
 * In place, PyTorch's SGD without weight decay: buffer = momentum * buffer + grad; param -= lr * buffer
 * (with momentum 0: param -= lr * grad, the buffer untouched).
 */
export function sgdStep(param: Tensor, grad: Tensor, buffer: Tensor, lr: number, momentum: number): void {
  engine.sgdStep(param, grad, buffer, { lr, momentum });
}
