/**
 * The published tesla step. MCT's distill_compressed.py and TESLA's distill.py compute the pixel
 * gradient as `2 * torch.autograd.grad(...)`: autograd.grad returns a tuple, so `2 *` repeats the
 * tuple and the gradient they apply (its first element) carries no factor 2. Our tesla gradient is
 * the exact derivative of the bracket (ALGORITHMS.md section 5(b)), twice theirs, so a published
 * MCT/TESLA --lr_img takes the same step here at half its value. The lr's gradient is not affected,
 * and DATM_tesla.py applies its factor 2 correctly (no halving there).
 */
import { GradMethod } from './match';

/** What a published MCT/TESLA pixel step is, as a multiple of ours at the same lr_img. */
export const PUBLISHED_TESLA_PIXEL_SCALE = 0.5;

export const PUBLISHED_TESLA_STEP_WHY =
  "the published tesla step is half of the exact gradient (MCT distill_compressed.py:521, TESLA distill.py:418: '2 * torch.autograd.grad(...)' repeats a tuple)";

/**
 * The line for a user who set the pixels' lr by hand for MCT with tesla, the published scripts'
 * method: what that rate means next to a published --lr_img. Null when it does not apply.
 * `lrImgName` names the option as the user gave it (e.g. --lr-img, or a config file's key).
 */
export function publishedTeslaNote(method: 'mtt' | 'mct', gradMethod: GradMethod, lrImg: number, lrImgName: string): string | null {
  if (method !== 'mct' || gradMethod !== 'tesla') return null;
  return (
    `${lrImgName} ${lrImg} with MCT's tesla gradient: the published MCT/TESLA scripts step the pixels by half of this gradient, ` +
    `so their --lr_img ${lrImg * 2} takes the step that ${lrImgName} ${lrImg} takes here (their --lr_img ${lrImg} is ${lrImg * PUBLISHED_TESLA_PIXEL_SCALE} here)`
  );
}
