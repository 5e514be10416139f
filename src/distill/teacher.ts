/**
 * Soft labels from an expert, as MCT's distill_compressed.py and TESLA's distill.py make them
 * with --teacher_label: the softmax (temperature 1) of the ConvNet's outputs on the current
 * synthetic images under an expert's parameters. MCT takes the iteration's expert at epoch
 * max_start_epoch (TESLA takes the iteration's target; MCT's comment calls its choice the fix of
 * a bug), recomputes them every iteration and never learns them. The ConvNet runs with the
 * statistics of the batch, like everything here; the published code puts its label network in
 * eval mode, which differs only for batch norm.
 */
import { tensor } from '../backend/tensor';
import { convNetForward, ConvNetSpec } from '../model/convnet';
import { Tensor } from '../native';

export interface SoftLabels {
  /** float32 [N, numClasses] on the images' device. */
  tensor: Tensor;
  /** The same on the host. */
  values: Float32Array;
}

/** Row-wise softmax of logits [n, classes], in float64 before rounding. */
export function softmaxRows(logits: ArrayLike<number>, classes: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / classes; r++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[r * classes + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[r * classes + c] - max);
    for (let c = 0; c < classes; c++) out[r * classes + c] = Math.exp(logits[r * classes + c] - max) / sum;
  }
  return out;
}

export async function teacherLabels(spec: ConvNetSpec, images: Tensor, expertParams: Float32Array): Promise<SoftLabels> {
  const params = tensor(expertParams, [expertParams.length], { device: images.device });
  try {
    const logits = await convNetForward(spec, images, params);
    const values = softmaxRows(logits.toArray() as Float32Array, spec.numClasses);
    logits.dispose();
    return { tensor: tensor(values, [images.shape[0], spec.numClasses], { device: images.device }), values };
  } finally {
    params.dispose();
  }
}
