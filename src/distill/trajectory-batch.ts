/**
 * The trajectory batch: W expert stretches matched per iteration on the same synthetic set, their
 * dL/dX and dL/dalpha averaged before the one SGD step. Slot s of iteration i is draw i * W + s of
 * the run's sequence of draws (expert, stretch, seed of the student's minibatches and augmentations),
 * a pure function of (seed, iteration, slot): W = 1 is the one-stretch run, a resumed run continues
 * exactly, and ranks of a data-parallel run each compute their own slots of the same global list.
 */
import { tensor } from '../backend/tensor';
import { ConvNetSpec } from '../model/convnet';
import { Tensor } from '../native';
import { Trajectory } from '../trajectory/trajectory';
import { seeds } from '../util/seeds';
import { GradMethod, matchIteration } from './match';
import { expertFor, stretchFor } from './sampling';
import { SoftLabels, teacherLabels } from './teacher';

export interface Slot {
  /** Index of the draw in the run's sequence: iteration * W + slot. */
  draw: number;
  expert: number;
  start: number;
  target: number;
  /** Seed of the student's minibatch permutations and augmentations. */
  seed: number;
}

export interface SlotSettings {
  method: 'mtt' | 'mct';
  maxStartEpoch: number;
  expertEpochs: number;
  seed: number;
}

/** Every slot of iteration i (all W of them, whichever rank computes them). */
export function slotsOf(iteration: number, W: number, numExperts: number, trajectoryEpochs: number, o: SlotSettings): Slot[] {
  return Array.from({ length: W }, (_, s) => {
    const draw = iteration * W + s;
    const stretch = stretchFor(draw, o.method, o.maxStartEpoch, o.expertEpochs, trajectoryEpochs, o.seed);
    return { draw, expert: expertFor(draw, numExperts, o.seed), ...stretch, seed: seeds.matchIteration(o.seed, draw) }; // draw i of W = 1 is iteration i
  });
}

/** The slots rank r of N computes: a contiguous block of W / N (rank 0 has slot 0). */
export function slotRange(W: number, worldSize: number, rank: number): { from: number; to: number } {
  const per = W / worldSize;
  return { from: rank * per, to: (rank + 1) * per };
}

export interface BatchInputs {
  spec: ConvNetSpec;
  images: Tensor;
  labels: Tensor;
  lr: number;
  synSteps: number;
  batchSyn?: number;
  dsa?: string;
  method: GradMethod;
  /** Soft labels from each slot's expert at this epoch (MCT's --teacher_label), or null. */
  teacherEpoch: number | null;
  trajectory: (expert: number) => Trajectory;
  /** The slots this process computes. */
  slots: Slot[];
  /** W of the whole batch (over all ranks). */
  batch: number;
  /**
   * Sums the packed vector over the ranks and divides by their number, in place (a data-parallel
   * run's all-reduce); absent in one process.
   */
  allReduceMean?: (packed: Float64Array) => Promise<Float64Array>;
  /** This process wants to stop: told to every rank through the reduction, so all stop together. */
  stopping?: boolean;
}

export interface BatchResult {
  /** Mean of the W matching losses. */
  loss: number;
  /** Mean of the W dL/dX, float32 like the images. */
  gradImages: Tensor;
  /** Mean of the W dL/dalpha. */
  gradLr: number;
  /** The soft labels of this process's first slot (slot 0 on rank 0), when teacher labels are on. */
  soft: SoftLabels | null;
  /** Some rank asked to stop (the update is still applied: every rank stops at the same iteration). */
  stop: boolean;
}

async function matchSlot(b: BatchInputs, slot: Slot) {
  const traj = b.trajectory(slot.expert);
  const P = traj.numParams;
  const device = b.images.device;
  const teacher = b.teacherEpoch !== null ? await teacherLabels(b.spec, b.images, traj.paramsAt(b.teacherEpoch)) : null;
  const start = tensor(traj.paramsAt(slot.start), [P], { device });
  const target = tensor(traj.paramsAt(slot.target), [P], { device });
  try {
    const r = await matchIteration(b.spec, {
      images: b.images,
      labels: teacher?.tensor ?? b.labels,
      start,
      target,
      lr: b.lr,
      synSteps: b.synSteps,
      batchSyn: b.batchSyn,
      dsa: b.dsa,
      seed: slot.seed,
      method: b.method,
    });
    return { ...r, teacher };
  } catch (e) {
    teacher?.tensor.dispose();
    throw e;
  } finally {
    start.dispose();
    target.dispose();
  }
}

/**
 * Matches this process's slots and averages over the whole batch. One slot in one process is the
 * native result as it is; otherwise the sums are taken on the host in float64 (exact for two
 * float32 values) and, across ranks, all-reduced in float64 with the loss, dL/dalpha and the stop
 * flag in the same message, so W ranks agree with W slots in one process to the rounding of the
 * final float32 cast.
 */
export async function matchBatch(b: BatchInputs): Promise<BatchResult> {
  if (b.slots.length === 1 && b.batch === 1 && !b.allReduceMean) {
    const r = await matchSlot(b, b.slots[0]);
    return { loss: r.loss, gradImages: r.gradImages, gradLr: r.gradLr, soft: r.teacher, stop: Boolean(b.stopping) };
  }
  const n = b.images.numel;
  // packed: dL/dX sums, then dL/dalpha, the loss and the stop flag
  let packed: Float64Array = new Float64Array(n + 3);
  let soft: SoftLabels | null = null;
  try {
    for (const slot of b.slots) {
      const r = await matchSlot(b, slot);
      const g = r.gradImages.toArray() as Float32Array;
      r.gradImages.dispose();
      for (let j = 0; j < n; j++) packed[j] += g[j];
      packed[n] += r.gradLr;
      packed[n + 1] += r.loss;
      if (r.teacher) {
        if (soft) r.teacher.tensor.dispose();
        else soft = r.teacher;
      }
    }
    packed[n + 2] = b.stopping ? 1 : 0;
    // the all-reduce returns sum / N, and N = W / (slots per rank): either way the mean is / slots here
    if (b.allReduceMean) packed = await b.allReduceMean(packed);
    const scale = 1 / b.slots.length;
    const grad = new Float32Array(n);
    for (let j = 0; j < n; j++) grad[j] = packed[j] * scale;
    return {
      loss: packed[n + 1] * scale,
      gradImages: tensor(grad, b.images.shape, { device: b.images.device }),
      gradLr: packed[n] * scale,
      soft,
      stop: packed[n + 2] > 0,
    };
  } catch (e) {
    soft?.tensor.dispose();
    throw e;
  }
}

/** "expert 3 epochs 0.25 to 2.25; expert 1 epochs ..." for messages about an iteration. */
export function describeSlots(slots: Slot[], files: string[]): string {
  return slots.map((s) => `${files[s.expert]}, epochs ${s.start} to ${s.target}`).join('; ');
}
