/**
 * MCT's waypoints, as the two published scripts place and smooth them.
 *
 * uniform (exps/trajectory_compression.py, `--num_interpolation K`): for K > 2, waypoints at
 *   0, s, 2s, ... (s = floor((T + 1) / (K - 1))), then T appended when that range misses it; so a
 *   (T + 1) that is no multiple of K - 1 gives more than K waypoints (T = 50, K = 5: 0, 12, 24, 36,
 *   48, 50). We keep that placement, so that files convert both ways unchanged; pass explicit
 *   epochs for any other. The fractions come from the raw checkpoints; then, in place and in
 *   order, every interior waypoint becomes the mean of its two neighbouring checkpoints and the
 *   last the mean of theta_{T-1} and theta_T. K = 2 stores theta_0 and theta_T unsmoothed.
 * convexify (convexify.py, interpolation mode, explicit epochs such as 0, 6, 25, 50): in place and
 *   in order, every interior waypoint becomes 1/2 itself + 1/4 each neighbour, then the last
 *   1/2 itself + 1/4 theta_{T-2} + 1/4 theta_{T-1}; the fractions come from the smoothed
 *   trajectory (the smoothed waypoints change the path lengths next to them).
 * In both, "in place" means a smoothed checkpoint feeds the smoothing of a later neighbour.
 */
import { TrajmatchInputError } from '../errors';

export type WaypointScheme = 'uniform' | 'convexify';

/** How an expert's waypoints are chosen: K evenly placed (uniform), or explicit epochs (convexify). */
export type WaypointPlan = { scheme: 'uniform'; count: number } | { scheme: 'convexify'; epochs: number[] };

/** A waypoint plan, or K for the uniform scheme. */
export type Waypoints = number | WaypointPlan;

export function asPlan(waypoints: Waypoints): WaypointPlan {
  return typeof waypoints === 'number' ? { scheme: 'uniform', count: waypoints } : waypoints;
}

/** The waypoint plan of a user's options: explicit epochs select convexify.py's scheme. */
export function waypointPlan(count: number, epochs?: number[]): WaypointPlan {
  return epochs ? { scheme: 'convexify', epochs: [...epochs] } : { scheme: 'uniform', count };
}

/** A short tag for file names: mct4 (uniform, K = 4) or mct-0-6-25-50 (explicit epochs). */
export function waypointTag(plan: WaypointPlan): string {
  return plan.scheme === 'uniform' ? `mct${plan.count}` : `mct-${plan.epochs.join('-')}`;
}

export function describeWaypointPlan(plan: WaypointPlan): string {
  return plan.scheme === 'uniform'
    ? `K = ${plan.count} uniform waypoints (trajectory_compression.py)`
    : `waypoints at epochs ${plan.epochs.join(', ')} (convexify.py)`;
}

/** The uniform scheme's waypoint epochs for T epochs and K requested waypoints (published placement). */
export function waypointEpochs(epochs: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 2) throw new TrajmatchInputError(`Expected an integer of at least 2 for waypoints but received ${count}`);
  if (count > epochs + 1) throw new TrajmatchInputError(`waypoints: ${count} waypoints need at least ${count - 1} epochs, the trajectory has ${epochs}`);
  if (count === 2) return [0, epochs];
  const spacing = Math.floor((epochs + 1) / (count - 1));
  const out: number[] = [];
  for (let t = 0; t <= epochs; t += spacing) out.push(t);
  if (out[out.length - 1] !== epochs) out.push(epochs);
  return out;
}

/** Checks explicit waypoint epochs against T: integers rising from 0 to T, as convexify.py needs them. */
export function checkWaypointEpochs(epochs: number, list: number[], where = 'waypointEpochs'): number[] {
  const bad = (why: string) =>
    new TrajmatchInputError(`${where}: expected integer epochs rising from 0 to ${epochs} (e.g. 0,6,25,50 for T = 50), ${why}; received [${list.join(', ')}]`);
  if (list.length < 2) throw bad('at least two of them');
  if (list.some((v) => !Number.isInteger(v))) throw bad('integers only');
  if (list[0] !== 0) throw bad('the first must be 0');
  if (list[list.length - 1] !== epochs) throw bad(`the last must be ${epochs}, the epochs of the experts`);
  if (list.some((v, i) => i > 0 && v <= list[i - 1])) throw bad('each larger than the one before');
  if (epochs < 2) throw bad('convexify.py smooths the last waypoint with epochs T - 2 and T - 1, so T must be at least 2');
  return [...list];
}

/** The waypoint epochs of a plan for T epochs. */
export function planEpochs(plan: WaypointPlan, epochs: number): number[] {
  return plan.scheme === 'uniform' ? waypointEpochs(epochs, plan.count) : checkWaypointEpochs(epochs, plan.epochs);
}

/** A checkpoint as a weighted sum of raw checkpoints: raw epoch -> weight. */
export type Combination = Map<number, number>;

export interface Smoothing {
  waypointEpochs: number[];
  /** The smoothed checkpoints (the others stay raw). */
  smoothed: Map<number, Combination>;
  /** Whether the fractions are measured on the smoothed trajectory (convexify) or the raw one (uniform). */
  fractionsAfterSmoothing: boolean;
}

/**
 * What a plan does to the checkpoints of a T-epoch trajectory, worked out symbolically: the
 * published scripts overwrite checkpoints in place, in order, so a smoothed checkpoint feeds the
 * smoothing of a later neighbour; following them on combinations of raw checkpoints gives the
 * same result for any placement.
 */
export function smoothingOf(waypoints: Waypoints, epochs: number): Smoothing {
  const plan = asPlan(waypoints);
  const w = planEpochs(plan, epochs);
  const current = new Map<number, Combination>();
  const at = (i: number): Combination => current.get(i) ?? new Map([[i, 1]]);
  const mix = (...terms: [Combination, number][]): Combination => {
    const out: Combination = new Map();
    for (const [c, weight] of terms) for (const [raw, v] of c) out.set(raw, (out.get(raw) ?? 0) + weight * v);
    return out;
  };
  const T = epochs;
  if (plan.scheme === 'uniform') {
    if (plan.count > 2) {
      for (const idx of w.slice(1, -1)) current.set(idx, mix([at(idx - 1), 0.5], [at(idx + 1), 0.5]));
      current.set(T, mix([at(T - 1), 0.5], [at(T), 0.5]));
    }
    return { waypointEpochs: w, smoothed: current, fractionsAfterSmoothing: false };
  }
  for (const idx of w.slice(1, -1)) current.set(idx, mix([at(idx), 0.5], [at(idx + 1), 0.25], [at(idx - 1), 0.25]));
  current.set(T, mix([at(T), 0.5], [at(T - 2), 0.25], [at(T - 1), 0.25]));
  return { waypointEpochs: w, smoothed: current, fractionsAfterSmoothing: true };
}
