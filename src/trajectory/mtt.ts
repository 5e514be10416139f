/** MTT's form of a trajectory: every checkpoint theta_0 .. theta_T, stored in full. */
import { TrajmatchInputError } from '../errors';
import { ExpertInfo } from './expert-info';
import { firstNonFinite } from './segments';
import { Trajectory, TrajectoryRecorder } from './trajectory';

/** Collects all T + 1 checkpoints. */
export class MttRecorder implements TrajectoryRecorder {
  readonly checkpoints: Float32Array;
  private next = 0;

  constructor(
    readonly epochs: number,
    readonly numParams: number,
  ) {
    this.checkpoints = new Float32Array((epochs + 1) * numParams);
  }

  add(epoch: number, params: Float32Array): void {
    if (epoch !== this.next) throw new Error(`MttRecorder: expected epoch ${this.next}, received ${epoch}`);
    if (params.length !== this.numParams) throw new Error(`MttRecorder: expected ${this.numParams} parameters, received ${params.length}`);
    const bad = firstNonFinite(params);
    if (bad >= 0)
      throw new TrajmatchInputError(`the checkpoint of epoch ${epoch} holds a non-finite value (${params[bad]}) at parameter ${bad}: the expert diverged`);
    this.checkpoints.set(params, epoch * this.numParams);
    this.next++;
  }

  get complete(): boolean {
    return this.next === this.epochs + 1;
  }
}

export class MttTrajectory implements Trajectory {
  readonly kind = 'mtt';

  constructor(
    readonly file: string,
    readonly info: ExpertInfo,
    readonly epochs: number,
    readonly numParams: number,
    private readonly checkpoints: Float32Array,
  ) {}

  paramsAt(t: number): Float32Array {
    if (!Number.isInteger(t) || t < 0 || t > this.epochs) {
      throw new TrajmatchInputError(`${this.file}: MTT trajectories have checkpoints at the integer epochs 0..${this.epochs}, received ${t}`);
    }
    return this.checkpoints.slice(t * this.numParams, (t + 1) * this.numParams);
  }
}
