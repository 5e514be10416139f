/** One interface for both forms of an expert trajectory. */
import { ExpertInfo } from './expert-info';

export type TrajectoryKind = 'mtt' | 'mct';

export interface Trajectory {
  kind: TrajectoryKind;
  /** The file it was read from. */
  file: string;
  info: ExpertInfo;
  /** T: the trajectory runs from epoch 0 to epoch T. */
  epochs: number;
  numParams: number;
  /**
   * The flat parameters at epoch point t in [0, T]: checkpoints at integer epochs for MTT; any
   * real t on the convexified trajectory for MCT (continuous sampling). A fresh array each call.
   */
  paramsAt(t: number): Float32Array;
}

/** Receives the checkpoints of an expert as it trains: epoch 0 (the initialisation) to T, in order. */
export interface TrajectoryRecorder {
  add(epoch: number, params: Float32Array): void;
}
