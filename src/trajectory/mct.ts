/**
 * MCT's convexified trajectory (Zhong et al., CVPR 2025). Per parameter tensor l the expert's
 * path is replaced by straight segments between K waypoints, paced by the expert's own path
 * length: within the segment [w_j, w_j+1],
 *   c_l(i) = (d_{w_j} + ... + d_{i-1}) / (d_{w_j} + ... + d_{w_j+1 - 1}),  d_k = ||theta_{k+1,l} - theta_{k,l}||
 *   theta~_l(t) = W_j,l + c_l(t) (W_j+1,l - W_j,l),
 * with c lerped between checkpoints for real t. As the published code does, each interior waypoint
 * is smoothed to the mean of its neighbouring checkpoints and the last to the mean of theta_{T-1}
 * and theta_T; the first is theta_0. Stored: K full vectors and (T + 1) x L fractions.
 */
import { TrajmatchInputError } from '../errors';
import { ExpertInfo } from './expert-info';
import { firstNonFinite, Segment, segmentDistances } from './segments';
import { Trajectory, TrajectoryRecorder } from './trajectory';
import { waypointEpochs } from './waypoints';

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
 * previous checkpoint, the per-tensor step lengths and K waypoint accumulators (not all T + 1 checkpoints).
 */
export class MctRecorder implements TrajectoryRecorder {
  readonly waypointEpochs: number[];
  private readonly waypoints: Float32Array;
  private readonly steps: Float64Array; // T x L step lengths
  private previous: Float32Array | null = null;
  private next = 0;

  constructor(readonly epochs: number, readonly numParams: number, private readonly segments: Segment[], count: number) {
    this.waypointEpochs = waypointEpochs(epochs, count);
    this.waypoints = new Float32Array(count * numParams);
    this.steps = new Float64Array(epochs * segments.length);
  }

  add(epoch: number, params: Float32Array): void {
    if (epoch !== this.next) throw new Error(`MctRecorder: expected epoch ${this.next}, received ${epoch}`);
    if (params.length !== this.numParams) throw new Error(`MctRecorder: expected ${this.numParams} parameters, received ${params.length}`);
    const bad = firstNonFinite(params);
    if (bad >= 0) throw new TrajmatchInputError(`the checkpoint of epoch ${epoch} holds a non-finite value (${params[bad]}) at parameter ${bad}: the expert diverged`);
    if (this.previous) this.steps.set(segmentDistances(params, this.previous, this.segments), (epoch - 1) * this.segments.length);
    // Smoothing: each checkpoint contributes half to the waypoints it neighbours.
    const K = this.waypointEpochs.length;
    this.waypointEpochs.forEach((w, j) => {
      const target = this.waypoints.subarray(j * this.numParams, (j + 1) * this.numParams);
      if (j === 0) {
        if (epoch === 0) target.set(params);
      } else if (j === K - 1) {
        if (epoch === this.epochs - 1 || epoch === this.epochs) for (let i = 0; i < params.length; i++) target[i] += 0.5 * params[i];
      } else if (epoch === w - 1 || epoch === w + 1) {
        for (let i = 0; i < params.length; i++) target[i] += 0.5 * params[i];
      }
    });
    this.previous = Float32Array.from(params);
    this.next++;
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
        if (total === 0) total = 1; // a tensor that never moved stays at fraction 0
        let cumulative = 0;
        for (let i = w[j]; i < w[j + 1]; i++) {
          fractions[i * L + l] = cumulative / total;
          cumulative += this.steps[i * L + l];
        }
      }
    }
    for (let l = 0; l < L; l++) fractions[this.epochs * L + l] = 1;
    return { waypointEpochs: [...w], waypoints: this.waypoints, fractions };
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
