/**
 * MCT's convexified trajectory (Zhong et al., CVPR 2025). Per parameter tensor l the expert's
 * path is replaced by straight segments between the waypoints, paced by the expert's own path
 * length: within the segment [w_j, w_j+1],
 *   c_l(i) = (d_{w_j} + ... + d_{i-1}) / (d_{w_j} + ... + d_{w_j+1 - 1}),  d_k = ||theta_{k+1,l} - theta_{k,l}||
 *   theta~_l(t) = W_j,l + c_l(t) (W_j+1,l - W_j,l),
 * with c lerped between checkpoints for real t. Where the waypoints are, how they are smoothed and
 * whether the d_k are measured before or after the smoothing follow one of the two published
 * scripts (waypoints.ts). Stored: the smoothed waypoints and (T + 1) x L fractions.
 */
import { TrajmatchInputError } from '../errors';
import { ExpertInfo } from './expert-info';
import { firstNonFinite, Segment, segmentDistances } from './segments';
import { Trajectory, TrajectoryRecorder } from './trajectory';
import { Combination, Smoothing, smoothingOf, Waypoints } from './waypoints';

export interface MctData {
  /** The checkpoint epochs w_0 = 0 < ... < w_{K-1} = T. */
  waypointEpochs: number[];
  /** K x P smoothed waypoints. */
  waypoints: Float32Array;
  /** (T + 1) x L: fraction of checkpoint i within its own segment (0 at each segment start; 1 at T). */
  fractions: Float32Array;
}

/**
 * Convexifies an expert while it trains, keeping only what the waypoints and fractions need: the
 * few raw checkpoints that the next step length still depends on, the per-tensor step lengths and
 * the waypoint accumulators (not all T + 1 checkpoints). Converting a stored trajectory feeds its
 * checkpoints through the same recorder, so both routes give the same result.
 */
export class MctRecorder implements TrajectoryRecorder {
  readonly waypointEpochs: number[];
  private readonly smoothing: Smoothing;
  private readonly sums: Float64Array; // K x P waypoint accumulators
  private readonly steps: Float64Array; // T x L step lengths
  /** Raw checkpoints the step lengths still need, by epoch. */
  private readonly raw = new Map<number, Float32Array>();
  /** need[i]: the last raw epoch that the checkpoint i measured for the fractions depends on. */
  private readonly need: number[];
  private nextStep = 0;
  private next = 0;

  constructor(
    readonly epochs: number,
    readonly numParams: number,
    private readonly segments: Segment[],
    plan: Waypoints,
  ) {
    this.smoothing = smoothingOf(plan, epochs);
    this.waypointEpochs = this.smoothing.waypointEpochs;
    this.sums = new Float64Array(this.waypointEpochs.length * numParams);
    this.steps = new Float64Array(epochs * segments.length);
    this.need = Array.from({ length: epochs + 1 }, (_, i) => Math.max(...this.measured(i).keys()));
  }

  /** The combination of raw checkpoints that stands for checkpoint i when measuring path lengths. */
  private measured(i: number): Combination {
    return (this.smoothing.fractionsAfterSmoothing && this.smoothing.smoothed.get(i)) || new Map([[i, 1]]);
  }

  private combine(c: Combination): Float32Array {
    if (c.size === 1) {
      const [[epoch, weight]] = [...c];
      if (weight === 1) return this.raw.get(epoch)!;
    }
    const out = new Float32Array(this.numParams);
    for (const [epoch, weight] of c) {
      const x = this.raw.get(epoch)!;
      for (let p = 0; p < out.length; p++) out[p] += weight * x[p];
    }
    return out;
  }

  add(epoch: number, params: Float32Array): void {
    if (epoch !== this.next) throw new Error(`MctRecorder: expected epoch ${this.next}, received ${epoch}`);
    if (params.length !== this.numParams) throw new Error(`MctRecorder: expected ${this.numParams} parameters, received ${params.length}`);
    const bad = firstNonFinite(params);
    if (bad >= 0)
      throw new TrajmatchInputError(`the checkpoint of epoch ${epoch} holds a non-finite value (${params[bad]}) at parameter ${bad}: the expert diverged`);
    // Each waypoint is a weighted sum of raw checkpoints: add this one's share.
    this.waypointEpochs.forEach((w, j) => {
      const weight = (this.smoothing.smoothed.get(w) ?? new Map([[w, 1]])).get(epoch);
      if (weight === undefined) return;
      const sum = this.sums.subarray(j * this.numParams, (j + 1) * this.numParams);
      for (let p = 0; p < params.length; p++) sum[p] += weight * params[p];
    });
    this.raw.set(epoch, Float32Array.from(params));
    this.next++;
    // Step lengths whose checkpoints are now known.
    const L = this.segments.length;
    while (this.nextStep < this.epochs && Math.max(this.need[this.nextStep], this.need[this.nextStep + 1]) <= epoch) {
      const i = this.nextStep++;
      this.steps.set(segmentDistances(this.combine(this.measured(i + 1)), this.combine(this.measured(i)), this.segments), i * L);
    }
    // Drop raw checkpoints no later step length needs.
    let keep = Infinity;
    for (let i = this.nextStep; i <= this.epochs; i++) keep = Math.min(keep, ...this.measured(i).keys());
    for (const e of [...this.raw.keys()]) if (e < keep) this.raw.delete(e);
  }

  /** The convexified trajectory, once epochs 0..T have been added. */
  finish(): MctData {
    if (this.next !== this.epochs + 1) throw new Error(`MctRecorder: ${this.next} of ${this.epochs + 1} checkpoints added`);
    const L = this.segments.length;
    const fractions = new Float32Array((this.epochs + 1) * L);
    const w = this.waypointEpochs;
    for (let j = 0; j + 1 < w.length; j++) {
      for (let l = 0; l < L; l++) {
        let total = 0;
        for (let k = w[j]; k < w[j + 1]; k++) total += this.steps[k * L + l];
        // A tensor that never moved in a segment stays at fraction 0, then takes the next
        // waypoint's value at its end (the published code would keep it at the segment's start
        // there; both leave such a tensor where it is unless smoothing moved a waypoint).
        if (total === 0) total = 1;
        let cumulative = 0;
        for (let i = w[j]; i < w[j + 1]; i++) {
          fractions[i * L + l] = cumulative / total;
          cumulative += this.steps[i * L + l];
        }
      }
    }
    for (let l = 0; l < L; l++) fractions[this.epochs * L + l] = 1;
    return { waypointEpochs: [...w], waypoints: Float32Array.from(this.sums), fractions };
  }
}

export class MctTrajectory implements Trajectory {
  readonly kind = 'mct';

  constructor(
    readonly file: string,
    readonly info: ExpertInfo,
    readonly epochs: number,
    readonly numParams: number,
    private readonly segments: Segment[],
    readonly data: MctData,
  ) {}

  /** Fraction of tensor l at checkpoint i, local to segment j. */
  private fraction(j: number, i: number, l: number): number {
    return i === this.data.waypointEpochs[j + 1] ? 1 : this.data.fractions[i * this.segments.length + l];
  }

  paramsAt(t: number): Float32Array {
    if (!Number.isFinite(t) || t < 0 || t > this.epochs) {
      throw new TrajmatchInputError(`${this.file}: epoch points run from 0 to ${this.epochs}, received ${t}`);
    }
    const w = this.data.waypointEpochs;
    let j = 0;
    while (j + 2 < w.length && t >= w[j + 1]) j++;
    const i = Math.min(Math.floor(t), this.epochs - 1);
    const a = t - i;
    const P = this.numParams;
    const from = this.data.waypoints.subarray(j * P, (j + 1) * P);
    const to = this.data.waypoints.subarray((j + 1) * P, (j + 2) * P);
    const out = new Float32Array(P);
    this.segments.forEach((s, l) => {
      const c0 = this.fraction(j, i, l);
      const c = c0 + a * (this.fraction(j, i + 1, l) - c0);
      for (let p = s.offset; p < s.offset + s.numel; p++) out[p] = from[p] + c * (to[p] - from[p]);
    });
    return out;
  }

  /** The stored waypoint j (after smoothing). */
  waypoint(j: number): Float32Array {
    return this.data.waypoints.slice(j * this.numParams, (j + 1) * this.numParams);
  }
}
