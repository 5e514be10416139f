/**
 * ZCA whitening as the published code applies it (kornia ZCAWhitening, eps 0.1): fitted on the
 * raw [0, 1] training pixels (no mean/std normalisation before it; the dataset loader sees to
 * that), mean-centred, applied to train and test, with the inverse kept for turning whitened
 * (e.g. distilled) images back into pictures.
 */
import * as engine from '../engine';
import { Tensor } from '../native';

export class ZcaWhitening {
  private constructor(
    /** mu [D] */ readonly mean: Tensor,
    /** W [D, D] */ readonly whiten: Tensor,
    /** W^-1 [D, D] */ readonly unwhiten: Tensor,
    readonly eps: number,
  ) {}

  /** Fits on images [N, C, H, W] (float). */
  static async fit(images: Tensor, eps = 0.1): Promise<ZcaWhitening> {
    const t = await engine.zcaFit(images, eps);
    return new ZcaWhitening(t.mean, t.whiten, t.unwhiten, eps);
  }

  /** (x - mu) W, same shape. */
  apply(images: Tensor): Promise<Tensor> {
    return engine.zcaWhiten(images, this);
  }

  /** x W^-1 + mu: whitened images back to the pixels the transform was fitted on ([0, 1] for datasets). */
  invert(images: Tensor): Promise<Tensor> {
    return engine.zcaUnwhiten(images, this);
  }

  dispose(): void {
    for (const t of [this.mean, this.whiten, this.unwhiten]) if (!t.disposed) t.dispose();
  }
}
