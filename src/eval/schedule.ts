/**
 * The training schedule of the evaluation protocol, as the published evaluate_synset runs it (MTT,
 * MCT and TESLA utils.py): with Epoch = epoch_eval_train, the loop `for ep in range(Epoch + 1)`
 * trains Epoch + 1 epochs; after the epoch ep == Epoch // 2 + 1 it multiplies the lr by 0.1 and
 * builds a new SGD optimiser, so the momentum buffer starts again from zero. For Epoch = 1000 that
 * is 502 epochs at the lr, then 499 at a tenth of it.
 */

export interface EvalPhase {
  /** Epochs of this phase. */
  epochs: number;
  /** Multiplier of the evaluation lr in this phase. */
  lrScale: number;
}

/**
 * The phases of evaluate_synset's schedule for epoch_eval_train = `epochs`. Each phase starts
 * with a fresh optimiser (zero momentum buffer); the phases' epochs add up to epochs + 1.
 */
export function evalSchedule(epochs: number): EvalPhase[] {
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`evaluation epochs must be a positive integer, received ${epochs}`);
  const total = epochs + 1;
  const decayAfter = Math.floor(epochs / 2) + 1; // the epoch (0-based) after which the lr decays
  const first = Math.min(total, decayAfter + 1);
  return first < total
    ? [
        { epochs: first, lrScale: 1 },
        { epochs: total - first, lrScale: 0.1 },
      ]
    : [{ epochs: total, lrScale: 1 }];
}
