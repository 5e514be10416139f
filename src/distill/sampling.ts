/**
 * Which expert and which stretch of its trajectory each iteration matches. Every draw is a pure
 * function of (seed, iteration), so a resumed run continues exactly where it stopped.
 */
import { seededRandom, shuffled } from '../util/random';
import { seeds } from '../util/seeds';

/** The expert of iteration i: cycle through all experts in a fresh shuffled order each round. */
export function expertFor(iteration: number, numExperts: number, seed: number): number {
  const round = Math.floor(iteration / numExperts);
  const order = shuffled(
    Array.from({ length: numExperts }, (_, k) => k),
    seededRandom(seeds.expertOrder(seed, round)),
  );
  return order[iteration % numExperts];
}

/**
 * The start and target epoch points of iteration i. MTT: integer start uniform in
 * {0, ..., maxStartEpoch - 1}, target = start + M. MCT: real start uniform in [0, maxStartEpoch),
 * target = min(start + M, T).
 */
export function stretchFor(
  iteration: number,
  method: 'mtt' | 'mct',
  maxStartEpoch: number,
  expertEpochs: number,
  trajectoryEpochs: number,
  seed: number,
): { start: number; target: number } {
  const u = seededRandom(seeds.stretch(seed, iteration))();
  if (method === 'mtt') {
    const start = Math.floor(u * maxStartEpoch);
    return { start, target: start + expertEpochs };
  }
  const start = u * maxStartEpoch;
  return { start, target: Math.min(start + expertEpochs, trajectoryEpochs) };
}
