/**
 * Every seed stream of the engine, in one registry. A stream is a pure function of the user's seed
 * and indices (expert, iteration, network, epoch), so that runs repeat and a resumed run draws what
 * the uninterrupted one would. The streams of a run differ by a tag of their own, or by where the
 * index goes, so that they draw different numbers. The values are fixed: changing one changes every
 * result made with it (expert files, runs, figures). A new stream takes a new tag; the native side
 * derives its per-batch and per-step seeds from these.
 */
import { mixSeed } from './random';

/** The tags of the streams that mix a tag with the seed (the others are indexed by expert or network). */
const TAG = {
  expertOrder: 1,
  stretch: 2,
  matchIteration: 3,
  initialSet: 4,
  evaluation: 5,
  trainSubset: 0x5eed,
  evalNetworkInit: 0xe7a1,
  realSubset: 0xba5e,
} as const;

export const seeds = {
  // the expert buffer (seed: buffer.seed)
  /** The seeded subset of training images of a buffer with trainLimit. */
  trainSubset: (seed: number) => mixSeed(seed, TAG.trainSubset),
  /** The initialisation of expert e. */
  expertInit: (seed: number, expert: number) => mixSeed(seed, expert, 0),
  /** The shuffle and augmentations of epoch `epoch` (from 1) of expert e. */
  expertEpoch: (seed: number, expert: number, epoch: number) => mixSeed(seed, expert, epoch),

  // the distillation run (seed: distill.seed)
  /** The shuffled order of the experts in round r (iterations r * E ... r * E + E - 1). */
  expertOrder: (seed: number, round: number) => mixSeed(seed, TAG.expertOrder, round),
  /** The start epoch of iteration i. */
  stretch: (seed: number, iteration: number) => mixSeed(seed, TAG.stretch, iteration),
  /** The minibatches and augmentations of iteration i (the native matchIteration replays them). */
  matchIteration: (seed: number, iteration: number) => mixSeed(seed, TAG.matchIteration, iteration),
  /** The initial synthetic set: which real images, or the noise. */
  initialSet: (seed: number) => mixSeed(seed, TAG.initialSet),
  /** The evaluation seed of the evaluation at iteration i. */
  evaluation: (seed: number, iteration: number) => mixSeed(seed, TAG.evaluation, iteration),

  // the evaluation protocol (seed: eval.seed)
  /** The initialisation of evaluation network k, of any architecture. */
  evalNetworkInit: (seed: number, network: number) => mixSeed(seed, network, TAG.evalNetworkInit),
  /** The shuffle and augmentations of epoch `epoch` (from 0) of evaluation network k. */
  evalEpoch: (seed: number, network: number, epoch: number) => mixSeed(seed, network, epoch),
  /** The random real subset of the baseline. */
  realSubset: (seed: number) => mixSeed(seed, TAG.realSubset),
} as const;
