/**
 * MCT's waypoints: K checkpoints evenly spaced over the T + 1 of an expert (spacing
 * floor((T + 1) / (K - 1)), the last forced to T), e.g. 0, 17, 34, 50 for T = 50 and K = 4.
 */
import { TrajmatchInputError } from '../errors';

export function waypointEpochs(epochs: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 2) throw new TrajmatchInputError(`Expected an integer of at least 2 for waypoints but received ${count}`);
  if (count > epochs + 1) throw new TrajmatchInputError(`waypoints: ${count} waypoints need at least ${count - 1} epochs, the trajectory has ${epochs}`);
  const spacing = Math.floor((epochs + 1) / (count - 1));
  const out = Array.from({ length: count - 1 }, (_, j) => j * spacing);
  out.push(epochs);
  for (let j = 1; j < out.length; j++) {
    if (out[j] <= out[j - 1]) throw new TrajmatchInputError(`waypoints: ${count} waypoints do not fit ${epochs} epochs`);
  }
  return out;
}
