/**
 * DSA (differentiable Siamese augmentation) as trajectory matching uses it: each call draws one
 * group of the strategy and applies it with random values per image, all differentiable in the
 * pixels. The same seed replays the same augmentation.
 */
import { z } from 'zod';
import * as engine from '../engine';
import { expected } from '../errors';
import { Tensor } from '../native';

export const DSA_GROUPS = ['color', 'crop', 'cutout', 'flip', 'scale', 'rotate'] as const;
/** The published strategy. */
export const DEFAULT_DSA_STRATEGY = 'color_crop_cutout_flip_scale_rotate';

/** @internal A strategy string: groups from DSA_GROUPS joined by '_'. */
export const dsaStrategySchema = z.string().refine((s) => s.split('_').every((g) => (DSA_GROUPS as readonly string[]).includes(g)), {
  message: `expected groups from ${DSA_GROUPS.join(', ')} joined by '_'`,
});

/**
 * Augments images [N, C, H, W] with the draw of `seed`. With a cotangent it also returns the
 * vector-Jacobian product d<dsa(images), cotangent>/d images.
 */
export function applyDsa(images: Tensor, options: { strategy?: string; seed: number; cotangent?: Tensor }): Promise<{ images: Tensor; grad?: Tensor }> {
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw expected('seed', 'a non-negative integer', options.seed);
  return engine.dsaApply(images, { strategy: options.strategy ?? DEFAULT_DSA_STRATEGY, seed: options.seed, cotangent: options.cotangent });
}
