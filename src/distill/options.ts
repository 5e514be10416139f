/** The options of a distillation run, validated with messages that name the option. */
import { z } from 'zod';
import { DEFAULT_DSA_STRATEGY, dsaStrategySchema } from '../augment/dsa';
import { Equals, Expect, Resolved } from '../config/schema-types';
import { DEFAULT_BUFFER_PATH } from '../trajectory/buffer';
import { DEFAULT_WAYPOINTS } from '../trajectory/files';
import { GradMethod, GRAD_METHODS } from './match';

/** The options of a distillation run (distillDataset, or `distill` of runDistillJob); every one has a default or may be omitted. */
export interface DistillOptions {
  /** mtt: integer start epochs on the experts' checkpoints; mct (default): real-valued starts on convexified trajectories. */
  method?: 'mtt' | 'mct';
  /** Images per class of the synthetic set (default 1). */
  ipc?: number;
  /** Distillation iterations (default 5000). */
  iterations?: number;
  /** N: student steps per iteration (default 20). */
  synSteps?: number;
  /** M: epochs of expert trajectory the student must match (may be fractional for MCT; default 2). */
  expertEpochs?: number;
  /** Starts are drawn below this epoch (default 20). */
  maxStartEpoch?: number;
  /** lr of the pixels' SGD (momentum 0.5; default 1000). */
  lrImg?: number;
  /** lr of the learnable student lr's SGD (momentum 0.5; default 1e-5). */
  lrLr?: number;
  /** Initial student lr alpha (default 0.01). */
  lrTeacher?: number;
  /** Minibatch of synthetic images per student step; all of them when omitted. */
  batchSyn?: number;
  /** How dL/dX is computed; default unroll for mtt, tesla for mct (as the published code does). */
  gradMethod?: GradMethod;
  /** Synthetic images start as random real images of their class (default), or as Gaussian noise. */
  pixInit?: 'real' | 'noise';
  /** DSA strategy of the student's batches (groups joined by `_`), or null for none; default all six groups. */
  dsa?: string | null;
  /** Evaluate (and keep the best set) every evalIt iterations, and at the start and the end (default 500). */
  evalIt?: number;
  /** Evaluation protocol: fresh networks (default 5)... */
  numEval?: number;
  /** ...and epochs of each (default 1000). */
  evalEpochs?: number;
  /** Save a resumable checkpoint every this many iterations, and at each evaluation (default 20). */
  checkpointEvery?: number;
  /** Seed of the run's random draws (default 0). */
  seed?: number;
  /** The run folder (outputs and checkpoint); default runs/<dataset>_<method>_ipc<ipc>. */
  runDir?: string;
  /** Root of the expert buffers, as `npm run buffer` writes them (default "buffers"). */
  bufferPath?: string;
  /** K of the MCT files to use (uniform scheme, trajectory_compression.py; default 4). */
  waypoints?: number;
  /** Explicit waypoint epochs of the MCT files to use (convexify.py's scheme, e.g. [0, 6, 25, 50]); overrides waypoints. */
  waypointEpochs?: number[];
  /**
   * Soft labels as MCT's and TESLA's --teacher_label: each iteration the labels become the softmax
   * of the iteration's expert's outputs at epoch maxStartEpoch on the current images (not
   * learned); the student and the evaluations train on them. Default false.
   */
  teacherLabel?: boolean;
  /** Use only the first this many experts of the buffer. */
  maxExperts?: number;
  /**
   * W: expert stretches matched per iteration on the same synthetic set, their gradients averaged
   * before the one update (default 1; in a data-parallel run, the number of ranks, of which it must
   * be a multiple).
   */
  trajectoryBatch?: number;
}

/** DistillOptions after validation: the defaults filled in. */
export type ParsedDistillOptions = Resolved<DistillOptions, 'batchSyn' | 'gradMethod' | 'runDir' | 'waypointEpochs' | 'maxExperts' | 'trajectoryBatch'>;

/** @internal The schema of DistillOptions. */
export const distillOptionsSchema = z.strictObject({
  method: z.enum(['mtt', 'mct']).default('mct'),
  ipc: z.number().int().positive().default(1),
  iterations: z.number().int().positive().default(5000),
  synSteps: z.number().int().positive().default(20),
  expertEpochs: z.number().positive().default(2),
  maxStartEpoch: z.number().positive().default(20),
  lrImg: z.number().positive().default(1000),
  lrLr: z.number().min(0).default(1e-5),
  lrTeacher: z.number().positive().default(0.01),
  batchSyn: z.number().int().positive().optional(),
  gradMethod: z.enum(GRAD_METHODS).optional(),
  pixInit: z.enum(['real', 'noise']).default('real'),
  dsa: dsaStrategySchema.nullable().default(DEFAULT_DSA_STRATEGY),
  evalIt: z.number().int().positive().default(500),
  numEval: z.number().int().positive().default(5),
  evalEpochs: z.number().int().positive().default(1000),
  checkpointEvery: z.number().int().positive().default(20),
  seed: z.number().int().nonnegative().default(0),
  runDir: z.string().min(1).optional(),
  bufferPath: z.string().min(1).default(DEFAULT_BUFFER_PATH),
  waypoints: z.number().int().min(2).default(DEFAULT_WAYPOINTS),
  waypointEpochs: z.array(z.number().int().nonnegative()).min(2).optional(),
  teacherLabel: z.boolean().default(false),
  maxExperts: z.number().int().positive().optional(),
  trajectoryBatch: z.number().int().positive().optional(),
});

// Fails to compile when the types above and the schema differ (see config/schema-types.ts).
type _SameAsSchema = [
  Expect<Equals<DistillOptions, z.input<typeof distillOptionsSchema>>>,
  Expect<Equals<ParsedDistillOptions, z.output<typeof distillOptionsSchema>>>,
];
