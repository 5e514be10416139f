/**
 * One trajectory-matching evaluation with exact gradients (MTT's full unroll): synSteps student SGD
 * steps on the synthetic images from theta_start, the normalised distance to theta_target, and its
 * gradient to the pixels and to the learnable learning rate, all in one native call.
 */
import { callNative, expected } from '../errors';
import { native, NativeConvNetSpec, Tensor } from '../native';
import { ConvNetSpec } from '../model/convnet';

export interface MatchInputs {
  /** Synthetic images X [N, C, H, W]. */
  images: Tensor;
  /** int64 labels [N]. */
  labels: Tensor;
  /** Expert parameters theta_start [P]. */
  start: Tensor;
  /** Expert parameters theta_target [P]. */
  target: Tensor;
  /** The student's learning rate alpha. */
  lr: number;
  /** Number of unrolled student steps N. */
  synSteps: number;
}

export interface MatchResult {
  /** ||w_N - theta_target||^2 / ||theta_start - theta_target||^2 */
  loss: number;
  /** dL/dX, shaped like the images. */
  gradImages: Tensor;
  /** dL/dalpha */
  gradLr: number;
}

export function unrollMatch(spec: ConvNetSpec, inputs: MatchInputs): Promise<MatchResult> {
  if (!Number.isFinite(inputs.lr)) throw expected('lr', 'a finite number', inputs.lr);
  if (!Number.isSafeInteger(inputs.synSteps) || inputs.synSteps < 1) throw expected('synSteps', 'a positive integer', inputs.synSteps);
  return callNative('unrollMatch', () => native().unrollMatch(spec as NativeConvNetSpec, inputs));
}
