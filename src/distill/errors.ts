/** How a distillation run stops before its end: interrupted, or diverged. Both keep the last checkpoint. */
import { TrajmatchInterrupted } from '../errors';

/** The run was aborted (AbortSignal): the one error of every aborted library call, with operation 'distill'. */
export function distillInterrupted(iteration: number | null, runDir: string, cause?: unknown): TrajmatchInterrupted {
  return new TrajmatchInterrupted('distill', iteration, runDir, { cause });
}

/** The earlier name of TrajmatchInterrupted, kept for code written against it: the same class. */
export const DistillInterrupted = TrajmatchInterrupted;
export type DistillInterrupted = TrajmatchInterrupted;

/**
 * The run diverged: the matching loss or the synthetic images became non-finite, or the learned
 * student lr fell to zero or below. Not a bad input as such: the settings named in `options` (key
 * paths such as distill.lrImg) were too large for this run.
 */
export class DistillDiverged extends Error {
  constructor(
    readonly iteration: number,
    readonly runDir: string,
    /** What diverged, in words, e.g. "the matching loss became NaN at iteration 3 (...)". */
    readonly what: string,
    /** The options to lower, as key paths. */
    readonly options: string[],
  ) {
    super(`${what}; the last checkpoint in ${runDir} is kept: lower ${options.join(' or ')}`);
    this.name = 'DistillDiverged';
  }
}
