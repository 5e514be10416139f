/** The options of a distillation run, validated with messages that name the option. */
import { z } from 'zod';
import { DEFAULT_DSA_STRATEGY, dsaStrategySchema } from '../augment/dsa';
import { DEFAULT_BUFFER_PATH } from '../trajectory/buffer';
import { DEFAULT_WAYPOINTS } from '../trajectory/files';
import { GRAD_METHODS } from './match';

export const distillOptionsSchema = z.strictObject({
  /** mtt: integer start epochs on the experts' checkpoints; mct: real-valued starts on convexified trajectories. */
  method: z.enum(['mtt', 'mct']).default('mct'),
  /** Images per class of the synthetic set. */
  ipc: z.number().int().positive().default(1),
  /** Distillation iterations. */
  iterations: z.number().int().positive().default(5000),
  /** N: student steps per iteration. */
  synSteps: z.number().int().positive().default(20),
  /** M: epochs of expert trajectory the student must match (may be fractional for MCT). */
  expertEpochs: z.number().positive().default(2),
  /** Starts are drawn below this epoch. */
  maxStartEpoch: z.number().positive().default(20),
  /** lr of the pixels' SGD (momentum 0.5). */
  lrImg: z.number().positive().default(1000),
  /** lr of the learnable student lr's SGD (momentum 0.5). */
  lrLr: z.number().min(0).default(1e-5),
  /** Initial student lr alpha. */
  lrTeacher: z.number().positive().default(0.01),
  /** Minibatch of synthetic images per student step; all of them when omitted. */
  batchSyn: z.number().int().positive().optional(),
  /** How dL/dX is computed; default unroll for mtt, tesla for mct (as the published code does). */
  gradMethod: z.enum(GRAD_METHODS).optional(),
  /** Synthetic images start as random real images of their class, or as Gaussian noise. */
  pixInit: z.enum(['real', 'noise']).default('real'),
  dsa: dsaStrategySchema.nullable().default(DEFAULT_DSA_STRATEGY),
  /** Evaluate (and keep the best set) every evalIt iterations, and at the start and the end. */
  evalIt: z.number().int().positive().default(500),
  /** Evaluation protocol: fresh networks, and epochs of each. */
  numEval: z.number().int().positive().default(5),
  evalEpochs: z.number().int().positive().default(1000),
  /** Save a resumable checkpoint every this many iterations (and at each evaluation). */
  checkpointEvery: z.number().int().positive().default(20),
  seed: z.number().int().nonnegative().default(0),
  /** The run folder (outputs and checkpoint); default runs/<dataset>_<method>_ipc<ipc>. */
  runDir: z.string().min(1).optional(),
  /** Root of the expert buffers (as `npm run buffer` writes them). */
  bufferPath: z.string().min(1).default(DEFAULT_BUFFER_PATH),
  /** K of the MCT files to use (uniform scheme, trajectory_compression.py). */
  waypoints: z.number().int().min(2).default(DEFAULT_WAYPOINTS),
  /** Explicit waypoint epochs of the MCT files to use (convexify.py's scheme, e.g. [0, 6, 25, 50]); overrides waypoints. */
  waypointEpochs: z.array(z.number().int().nonnegative()).min(2).optional(),
  /**
   * Soft labels as MCT's and TESLA's --teacher_label: each iteration the labels become the softmax
   * of the iteration's expert's outputs at epoch maxStartEpoch on the current images (not
   * learned); the student and the evaluations train on them.
   */
  teacherLabel: z.boolean().default(false),
  /** Use only the first this many experts of the buffer. */
  maxExperts: z.number().int().positive().optional(),
  /**
   * W: expert stretches matched per iteration on the same synthetic set, their gradients averaged
   * before the one update (default 1; in a data-parallel run, the number of ranks, of which it must
   * be a multiple).
   */
  trajectoryBatch: z.number().int().positive().optional(),
});

export type DistillOptions = z.input<typeof distillOptionsSchema>;
export type ParsedDistillOptions = z.output<typeof distillOptionsSchema>;
