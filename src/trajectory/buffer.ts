/**
 * The expert buffer: E networks trained on the real data with the published settings (SGD lr 0.01,
 * no momentum, batch 256, DSA), each recorded as T + 1 checkpoints, in MTT's full form, MCT's
 * convexified form (written directly while training), or both. One file per expert and form,
 * written atomically once the expert is done: a killed run resumes at the next expert, and loses
 * at most the one in progress.
 *
 * Several workers (the ranks of a process group, on one host or several sharing the buffer folder)
 * split the experts: each rank scans the folder, the ranks check that they see the same unfinished
 * experts, and each then claims the next of them with an atomic add on the group's store, so no
 * expert is trained twice. An expert's seeds depend on its index only, so the files are those one
 * worker would write. A killed worker loses the expert it was training; the next run redoes it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { parseOptions } from '../config/validate';
import { Equals, Expect, Resolved } from '../config/schema-types';
import { Dataset } from '../data/dataset';
import { throwIfInterrupted, TrajmatchInputError, TrajmatchInterrupted } from '../errors';
import { checkOutputDir } from '../io/output-path';
import { convNetForDataset, convNetLayout, convNetTag, ConvNetSpec, NetworkOptions } from '../model/convnet';
import { DEFAULT_DSA_STRATEGY, dsaStrategySchema } from '../augment/dsa';
import { Network } from '../train/network';
import { indexSelect } from '../backend/tensor';
import { Tensor } from '../native';
import { ProcessGroup } from '../distributed/process-group';
import { seededRandom, shuffled } from '../util/random';
import { seeds } from '../util/seeds';
import { gib, MAX_TYPED_ELEMENTS } from '../util/limits';
import { ExpectedExpert, ExpertInfo } from './expert-info';
import { convexify } from './convert';
import { DEFAULT_WAYPOINTS, expertFileName, openTrajectory, readExpertInfo, writeMctExpert, writeMttExpert } from './files';
import { MctRecorder } from './mct';
import { MttRecorder } from './mtt';
import { segmentsOf } from './segments';
import { TrajectoryRecorder } from './trajectory';
import { planEpochs, waypointPlan } from './waypoints';

/** Where buffers go unless told: ./buffers. */
export const DEFAULT_BUFFER_PATH = 'buffers';

/** How experts are trained and recorded (trainExperts). */
export interface BufferOptions {
  /** E: experts to train (published: 100, the default). */
  numExperts?: number;
  /** T: epochs per expert (published: 50, the default). */
  epochs?: number;
  /** SGD lr (default 0.01). */
  lrTeacher?: number;
  /** SGD momentum (default 0). */
  momentum?: number;
  /** L2 weight decay (published: 0, the default). */
  weightDecay?: number;
  /** Default 256. */
  batchSize?: number;
  /** DSA strategy of every batch, or null for none; default all six groups. */
  dsa?: string | null;
  /** Default 0. */
  seed?: number;
  /** Root folder of buffers; experts go to <bufferPath>/<dataset>/<network tag> (default "buffers"). */
  bufferPath?: string;
  /** Which forms to write: MTT's full checkpoints, MCT's convexified trajectory, or both (default). */
  form?: 'mtt' | 'mct' | 'both';
  /** K: MCT waypoints of the uniform scheme (published: 4, the default). */
  waypoints?: number;
  /** Explicit MCT waypoint epochs (e.g. [0, 6, 25, 50]): convexify.py's scheme instead of the uniform one. */
  waypointEpochs?: number[];
  /** Train on this many training images (a seeded random subset) instead of all: for quick runs. */
  trainLimit?: number;
}

type ParsedBufferOptions = Resolved<BufferOptions, 'waypointEpochs' | 'trainLimit'>;

/** @internal The schema of BufferOptions. */
export const bufferOptionsSchema = z.strictObject({
  numExperts: z.number().int().positive().default(100),
  epochs: z.number().int().positive().default(50),
  lrTeacher: z.number().positive().default(0.01),
  momentum: z.number().min(0).lt(1).default(0),
  weightDecay: z.number().min(0).default(0),
  batchSize: z.number().int().positive().default(256),
  dsa: dsaStrategySchema.nullable().default(DEFAULT_DSA_STRATEGY),
  seed: z.number().int().nonnegative().default(0),
  bufferPath: z.string().min(1).default(DEFAULT_BUFFER_PATH),
  form: z.enum(['mtt', 'mct', 'both']).default('both'),
  waypoints: z.number().int().min(2).default(DEFAULT_WAYPOINTS),
  waypointEpochs: z.array(z.number().int().nonnegative()).min(2).optional(),
  trainLimit: z.number().int().positive().optional(),
});

// Fails to compile when the types above and the schema differ (see config/schema-types.ts).
type _SameAsSchema = [
  Expect<Equals<BufferOptions, z.input<typeof bufferOptionsSchema>>>,
  Expect<Equals<ParsedBufferOptions, z.output<typeof bufferOptionsSchema>>>,
];

export type BufferEvent =
  | { type: 'start'; dir: string; numExperts: number; epochs: number; skipped: number[] }
  | { type: 'epoch'; expert: number; epoch: number; epochs: number; loss: number; accuracy: number; seconds: number }
  | { type: 'expert'; expert: number; files: string[]; testAccuracy: number; seconds: number; converted?: boolean };

export interface BufferResult {
  dir: string;
  spec: ConvNetSpec;
  /** Experts found finished and not redone. */
  skipped: number[];
  /** The experts trained (or converted) in this run, by every rank when there are several (with its rank). */
  trained: { expert: number; files: string[]; testAccuracy: number; seconds: number; secondsPerEpoch: number; rank?: number }[];
}

export interface BufferHooks {
  onEvent?: (e: BufferEvent) => void;
  signal?: AbortSignal;
  /** Train the experts with the other ranks of this group, each expert once (see above). */
  group?: ProcessGroup;
}

/** The folder of a buffer: <bufferPath>/<dataset>/<network tag>[-zca]. */
export function bufferDir(bufferPath: string, dataset: string, spec: ConvNetSpec, zca: boolean): string {
  return path.join(bufferPath, dataset, `${convNetTag(spec)}${zca ? '-zca' : ''}`);
}

function settingsOf(o: ParsedBufferOptions) {
  return {
    epochs: o.epochs,
    lrTeacher: o.lrTeacher,
    momentum: o.momentum,
    weightDecay: o.weightDecay,
    batchSize: o.batchSize,
    dsa: o.dsa,
    seed: o.seed,
    // null: every training image
    trainLimit: o.trainLimit ?? null,
  };
}

/** Is expert e finished? Refuses files made with other settings rather than mixing them into one buffer. */
function finishedForms(dir: string, e: number, o: ParsedBufferOptions, expected: ExpectedExpert) {
  const want = settingsOf(o);
  const check = (file: string) => {
    if (!fs.existsSync(file)) return false;
    // the header is enough: a finished expert's checkpoints need not be read to be skipped
    const have = readExpertInfo(file, expected);
    // files written before the train limit was recorded have none: they are taken as they are
    const diff = (Object.keys(want) as (keyof typeof want)[]).filter((k) => want[k] !== have[k] && !(k === 'trainLimit' && have[k] === undefined));
    if (diff.length > 0) {
      throw new TrajmatchInputError(
        `${file}: this buffer was trained with other settings (${diff.map((k) => `${k} ${JSON.stringify(have[k])}, not ${JSON.stringify(want[k])}`).join('; ')}); use another buffer.bufferPath`,
      );
    }
    return true;
  };
  return {
    mtt: check(path.join(dir, expertFileName(e, 'mtt'))),
    mct: check(path.join(dir, expertFileName(e, 'mct', waypointPlan(o.waypoints, o.waypointEpochs)))),
  };
}

/**
 * An MTT expert's T + 1 checkpoints are one [T + 1, P] tensor, held while it trains and when it is
 * read: refused before any training when it cannot be, naming what to lower.
 */
export function checkCheckpointsFit(epochs: number, numParams: number, totalMemory: number = os.totalmem()): void {
  const elements = (epochs + 1) * numParams;
  const what = `buffer.epochs ${epochs} makes MTT experts of ${epochs + 1} checkpoints x ${numParams} parameters, ${gib(elements * 4)} of float32 each`;
  const lower = "lower buffer.epochs or network.netWidth, or keep only the MCT form (buffer.form 'mct')";
  if (elements > MAX_TYPED_ELEMENTS) throw new TrajmatchInputError(`${what}: more than one tensor can hold here (${MAX_TYPED_ELEMENTS} values); ${lower}`);
  if (elements * 4 > totalMemory) throw new TrajmatchInputError(`${what}: more than this machine's ${gib(totalMemory)} of memory; ${lower}`);
}

/** Trains (or finishes) a buffer of experts on a dataset already on the device. */
export async function trainExperts(
  dataset: Dataset,
  options: BufferOptions & { network?: NetworkOptions } = {},
  hooks: BufferHooks = {},
): Promise<BufferResult> {
  const { network, ...rest } = options;
  const o = parseOptions(bufferOptionsSchema, rest, 'buffer');
  const spec = convNetForDataset(dataset, network);
  const dir = bufferDir(o.bufferPath, dataset.name, spec, dataset.zca !== undefined);
  const expected = { dataset: dataset.name, convnet: spec, zca: dataset.zca !== undefined, preprocessing: dataset.preprocessing };
  const wantMtt = o.form !== 'mct';
  const wantMct = o.form !== 'mtt';
  const plan = waypointPlan(o.waypoints, o.waypointEpochs);
  if (wantMct) planEpochs(plan, o.epochs); // checks the waypoints against T before any work
  if (wantMtt) checkCheckpointsFit(o.epochs, convNetLayout(spec).numParams);

  const skipped: number[] = [];
  const todo: { e: number; done: { mtt: boolean; mct: boolean } }[] = [];
  for (let e = 0; e < o.numExperts; e++) {
    const done = finishedForms(dir, e, o, expected);
    if ((!wantMtt || done.mtt) && (!wantMct || done.mct)) skipped.push(e);
    else todo.push({ e, done });
  }
  if (todo.length > 0) checkOutputDir(dir, 'buffer.bufferPath'); // before any training
  const { group } = hooks;
  const signal = group ? AbortSignal.any([group.signal, ...(hooks.signal ? [hooks.signal] : [])]) : hooks.signal;
  throwIfInterrupted(signal, (cause) => new TrajmatchInterrupted('trainExperts', todo[0]?.e ?? o.numExperts, dir, { cause }));
  // No rank writes before every rank has scanned: they must all see the same unfinished experts.
  if (group)
    await sameTodoOnEveryRank(
      group,
      dir,
      todo.map((t) => t.e),
    );
  hooks.onEvent?.({ type: 'start', dir, numExperts: o.numExperts, epochs: o.epochs, skipped });

  // the training subset is made after every check, so that a refusal leaves nothing behind
  let images = dataset.train.images;
  let labels = dataset.train.labels;
  if (o.trainLimit !== undefined && o.trainLimit < dataset.train.size) {
    const pick = shuffled(
      Array.from({ length: dataset.train.size }, (_, i) => i),
      seededRandom(seeds.trainSubset(o.seed)),
    ).slice(0, o.trainLimit);
    images = indexSelect(images, pick);
    labels = indexSelect(labels, pick);
  }

  let claimed = 0;
  const claim = async () => {
    const k = group ? (await group.add('buffer/claimed', 1)) - 1 : claimed++;
    return k < todo.length ? todo[k] : undefined;
  };
  let trained: BufferResult['trained'] = [];
  try {
    for (let next = await claim(); next !== undefined; next = await claim()) {
      const { e, done } = next;
      throwIfInterrupted(signal, (cause) => new TrajmatchInterrupted('trainExperts', e, dir, { cause }));
      const began = Date.now();
      const files: string[] = [];
      // A run killed between the two writes left the MTT file: derive the MCT form from it.
      if (wantMct && !done.mct && done.mtt && wantMtt) {
        const mtt = openTrajectory(path.join(dir, expertFileName(e, 'mtt')));
        const file = path.join(dir, expertFileName(e, 'mct', plan));
        await writeMctExpert(file, convexify(mtt, plan), mtt.info, plan);
        hooks.onEvent?.({
          type: 'expert',
          expert: e,
          files: [file],
          testAccuracy: mtt.info.testAccuracy ?? NaN,
          seconds: (Date.now() - began) / 1000,
          converted: true,
        });
        continue;
      }
      const result = await trainOneExpert(dataset, spec, images, labels, e, o, { onEvent: hooks.onEvent, signal, dir });
      const info: ExpertInfo = {
        dataset: dataset.name,
        convnet: spec,
        zca: dataset.zca !== undefined,
        preprocessing: dataset.preprocessing,
        ...settingsOf(o),
        expert: e,
        trainAccuracy: result.trainAccuracy,
        testAccuracy: result.testAccuracy,
      };
      if (result.mtt) {
        files.push(path.join(dir, expertFileName(e, 'mtt')));
        await writeMttExpert(files.at(-1)!, result.mtt.checkpoints, info);
      }
      if (result.mct) {
        files.push(path.join(dir, expertFileName(e, 'mct', plan)));
        await writeMctExpert(files.at(-1)!, result.mct.finish(), info, plan);
      }
      const seconds = (Date.now() - began) / 1000;
      trained.push({ expert: e, files, testAccuracy: result.testAccuracy, seconds, secondsPerEpoch: result.trainSeconds / o.epochs });
      hooks.onEvent?.({ type: 'expert', expert: e, files, testAccuracy: result.testAccuracy, seconds });
    }
    // Every rank waits here until all experts are written; each then knows what all ranks did.
    if (group) {
      const all = await group.allGather('buffer/trained', JSON.stringify(trained));
      trained = all.flatMap((json, rank) => (JSON.parse(json) as BufferResult['trained']).map((t) => ({ ...t, rank })));
      trained.sort((a, b) => a.expert - b.expert);
    }
  } catch (e) {
    // the other ranks stop too, with this rank's reason (unless they are the reason)
    if (group && !group.signal.aborted) await group.fail(e);
    throw e;
  } finally {
    if (images !== dataset.train.images) images.dispose();
    if (labels !== dataset.train.labels) labels.dispose();
  }
  return { dir, spec, skipped, trained };
}

/**
 * Refuses to split the work when the ranks see different unfinished experts: another buffer folder,
 * or one not shared between the hosts (which may mount it at different paths).
 */
async function sameTodoOnEveryRank(group: ProcessGroup, dir: string, todo: number[]): Promise<void> {
  const all = (await group.allGather('buffer/todo', JSON.stringify({ dir: path.resolve(dir), todo }))).map(
    (json) => JSON.parse(json) as { dir: string; todo: number[] },
  );
  const other = all.findIndex((seen) => seen.todo.join() !== todo.join());
  if (other >= 0) {
    throw new TrajmatchInputError(
      `rank ${other} sees the unfinished experts [${all[other].todo.join(', ')}] in ${all[other].dir}, but rank ${group.rank} sees [${todo.join(', ')}] in ${path.resolve(dir)}: every rank must see the same buffer folder (shared between hosts)`,
    );
  }
}

async function trainOneExpert(
  dataset: Dataset,
  spec: ConvNetSpec,
  images: Tensor,
  labels: Tensor,
  e: number,
  o: ParsedBufferOptions,
  hooks: { onEvent?: (e: BufferEvent) => void; signal?: AbortSignal; dir: string },
) {
  const layout = convNetLayout(spec);
  const P = layout.numParams;
  const mtt = o.form !== 'mct' ? new MttRecorder(o.epochs, P) : undefined;
  const mct = o.form !== 'mtt' ? new MctRecorder(o.epochs, P, segmentsOf(layout), waypointPlan(o.waypoints, o.waypointEpochs)) : undefined;
  const recorders: TrajectoryRecorder[] = [mtt, mct].filter((r): r is MttRecorder | MctRecorder => r !== undefined);
  const net = await Network.create({ arch: 'convnet', ...spec }, { seed: seeds.expertInit(o.seed, e), device: dataset.device });
  const trainAccuracy: number[] = [];
  let trainSeconds = 0;
  try {
    const record = (epoch: number) => {
      const params = net.parameters();
      const values = params.toArray() as Float32Array;
      params.dispose();
      for (const r of recorders) r.add(epoch, values);
    };
    record(0);
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      throwIfInterrupted(hooks.signal, (cause) => new TrajmatchInterrupted('trainExperts', e, hooks.dir, { cause }));
      const began = Date.now();
      const stats = await net.trainEpoch({
        images,
        labels,
        lr: o.lrTeacher,
        momentum: o.momentum,
        weightDecay: o.weightDecay,
        batchSize: o.batchSize,
        dsa: o.dsa ?? undefined,
        seed: seeds.expertEpoch(o.seed, e, epoch),
      });
      const seconds = (Date.now() - began) / 1000;
      trainSeconds += seconds;
      trainAccuracy.push(stats.accuracy);
      record(epoch);
      hooks.onEvent?.({ type: 'epoch', expert: e, epoch, epochs: o.epochs, loss: stats.loss, accuracy: stats.accuracy, seconds });
    }
    const test = await net.evaluate({ images: dataset.test.images, labels: dataset.test.labels });
    return { mtt, mct, trainAccuracy, testAccuracy: test.accuracy, trainSeconds };
  } finally {
    net.dispose();
  }
}
