/**
 * Data-parallel distillation: the ranks of a process group share one synthetic set. Each iteration
 * every rank matches its W / N slots of the trajectory batch, the float64 sums are all-reduced,
 * and every rank applies the same SGD step. Rank 0 alone reads and writes the run folder (the
 * checkpoint, metrics, outputs) and runs the evaluations; it hands its state to the others at the
 * start, so the other hosts need no copy of the run folder.
 */
import { tensor } from '../backend/tensor';
import { TrajmatchInputError } from '../errors';
import { Tensor } from '../native';
import { RankEnv } from './env';
import { ProcessGroup } from './process-group';

/** W must split evenly over the ranks: each computes W / N slots of the same batch. */
export function checkTrajectoryBatch(W: number, worldSize: number, where = 'trajectoryBatch'): void {
  if (W % worldSize !== 0) {
    throw new TrajmatchInputError(
      `${where} (${W}) must be a multiple of the number of ranks (${worldSize}): each rank matches W / N expert stretches per iteration`,
    );
  }
}

/** The all-reduce of a trajectory batch: float64 on the group's device, sum / N. */
export function packedAllReduce(group: ProcessGroup): (packed: Float64Array) => Promise<Float64Array> {
  return async (packed) => {
    const t = tensor(packed, [packed.length], { dtype: 'float64', device: group.device });
    try {
      await group.allReduceMean([t]);
      return t.toArray() as Float64Array;
    } finally {
      t.dispose();
    }
  };
}

export interface SharedTensors {
  images: Tensor;
  imagesBuffer: Tensor;
  labels: Tensor;
}

/**
 * Rank 0's run state (fresh, or read from its checkpoint) on every rank: the JSON state through
 * the store, the synthetic images, their momentum and labels by broadcast (in place), the soft
 * labels when rank 0 has them.
 */
export async function shareRunState<S>(
  group: ProcessGroup,
  state: S,
  tensors: SharedTensors,
  soft: { values: Float32Array; tensor: Tensor } | null,
  numClasses: number,
): Promise<{ state: S; soft: { values: Float32Array; tensor: Tensor } | null }> {
  const mine = group.rank === 0 ? JSON.stringify({ state, soft: soft !== null }) : '';
  const shared = JSON.parse((await group.allGather('distill-state', mine))[0]) as { state: S; soft: boolean };
  await group.broadcast([tensors.images, tensors.imagesBuffer], 0);
  await group.broadcast([tensors.labels], 0);
  if (!shared.soft) {
    soft?.tensor.dispose();
    return { state: shared.state, soft: null };
  }
  const n = tensors.labels.shape[0];
  const values = soft?.values ?? new Float32Array(n * numClasses);
  const t = soft?.tensor ?? tensor(values, [n, numClasses], { device: tensors.images.device });
  await group.broadcast([t], 0);
  return { state: shared.state, soft: { tensor: t, values: t.toArray() as Float32Array } };
}

/** Aborts when either signal does (the user's, or the group's on another rank's failure). */
export function eitherSignal(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  const signals = [a, b].filter((s): s is AbortSignal => s !== undefined);
  return signals.length <= 1 ? signals[0] : AbortSignal.any(signals);
}

/**
 * Joins the ranks of a data-parallel distillation. `agreed` holds the resolved settings that every
 * rank must share (seed, ipc, buffer, syn_steps, W, ...): a difference is refused at rendezvous,
 * on every rank, naming the option.
 */
export function joinDistillRanks(rank: RankEnv, device: string, timeoutSeconds: number, agreed: Record<string, unknown>): Promise<ProcessGroup> {
  // flat keys, so that the refusal names the option itself ("seed is 0 on rank 0 but 3 on rank 1")
  const flat: Record<string, unknown> = {};
  for (const [part, value] of Object.entries(agreed)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) flat[k in flat ? `${part}.${k}` : k] = v;
    } else flat[part] = value;
  }
  return ProcessGroup.join({
    rank: rank.rank,
    worldSize: rank.worldSize,
    masterAddr: rank.masterAddr,
    masterPort: rank.masterPort,
    timeoutSeconds,
    device,
    agreed: flat,
  });
}
