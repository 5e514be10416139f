/**
 * The whole distillation job, as `npm run distill` runs it and as the library offers it: load the
 * dataset, train experts when the buffer has too few, distil, evaluate. A Promise with progress
 * events and cancellation by AbortSignal (the run stays resumable).
 */
import { datasetOptions, DatasetOptions, loadDataset } from '../data/dataset';
import { isDir } from '../data/files';
import { checkOptionGroups, parseOptions } from '../config/validate';
import { throwIfInterrupted, TrajmatchInputError, TrajmatchInterrupted } from '../errors';
import { convNetForDataset, NetworkOptions, networkOptionsSchema } from '../model/convnet';
import { BufferEvent, BufferOptions, bufferDir, bufferOptionsSchema, DEFAULT_BUFFER_PATH, trainExperts } from '../trajectory/buffer';
import { DEFAULT_WAYPOINTS, listExpertFiles } from '../trajectory/files';
import { waypointPlan } from '../trajectory/waypoints';
import { resolveDevice } from '../backend/device';
import { RankEnv } from '../distributed/env';
import { checkTrajectoryBatch, joinDistillRanks } from '../distributed/data-parallel';
import { ProcessGroup } from '../distributed/process-group';
import { checkOutputDir } from '../io/output-path';
import { DistillOptions, distillOptionsSchema, ParsedDistillOptions } from './options';
import { defaultPreset, PRESETS } from './presets';
import { publishedTeslaNote } from './published-scale';
import { defaultRunDir, DistillEvent, distillDataset, DistillResult, gradMethodOf } from './run';
import { distillInterrupted } from './errors';

export interface JobOptions {
  /**
   * A named preset (see PRESETS); explicit options override it. Without one, the default job's preset
   * for the device applies, unless another dataset than Fashion-MNIST is asked for, or `noPreset`
   * (then only the options given and the schemas' defaults apply).
   */
  preset?: string;
  noPreset?: boolean;
  data?: DatasetOptions;
  network?: NetworkOptions;
  /**
   * How experts are trained when the buffer has too few. They go where the distillation reads them:
   * buffer.bufferPath and buffer.waypoints follow distill's (distill.bufferPath when given, else
   * buffer.bufferPath). Their seed is distill.seed unless buffer.seed is given: one seed
   * reproduces the whole job.
   */
  buffer?: BufferOptions;
  distill?: DistillOptions;
  /** Fail instead of training experts when the buffer has too few. */
  noExpertTraining?: boolean;
  /**
   * This process is one rank of a data-parallel run (torchrun's variables, see rankFromEnv): the
   * ranks meet before loading the data, train missing experts together, and distil with
   * trajectoryBatch (default: the number of ranks) split over them. Default timeout 60 s.
   */
  distributed?: { rank: RankEnv; timeoutSeconds?: number };
}

/**
 * One setting the job applies, and where it came from: the preset, the caller's options, the
 * default job (which downloads Fashion-MNIST where it is missing), or distill.seed (the experts'
 * seed when buffer.seed is not given). Settings not listed take the schemas' defaults.
 */
export interface AppliedSetting {
  /** Key path, e.g. distill.lrImg. */
  path: string;
  value: unknown;
  from: 'preset' | 'options' | 'default job' | 'distill.seed';
}

export type JobEvent =
  | { type: 'preset'; name: string; description: string }
  /**
   * Before any work: the preset applied (null: none), every setting given by it or by the options,
   * and notes on what a setting means next to the published scripts (e.g. a hand-set lr_img with
   * MCT's tesla gradient).
   */
  | { type: 'settings'; preset: string | null; settings: AppliedSetting[]; notes: string[] }
  | { type: 'experts'; dir: string; have: number; wanted: number }
  | { type: 'buffer'; event: BufferEvent }
  | { type: 'distill'; event: DistillEvent };

export interface JobResult extends DistillResult {
  preset: string | null;
}

/**
 * Where the job writes, checked before seconds of loading and minutes of training: the run folder
 * (rank 0's), and the buffer's root when experts may be trained into it (a buffer that exists
 * is only written if it has too few experts, which trainExperts checks before training).
 */
function checkOutputs(o: ParsedDistillOptions, dataset: string, noExpertTraining: boolean, distributed: { rank: RankEnv } | undefined): void {
  if (!distributed || distributed.rank.rank === 0) checkOutputDir(defaultRunDir(dataset, o), 'distill.runDir');
  if (!noExpertTraining && !isDir(o.bufferPath)) checkOutputDir(o.bufferPath, 'distill.bufferPath');
}

/** Notes on settings the user gave (not a preset): a hand-set lr_img next to a published MCT one. */
function settingNotes(given: DistillOptions, fromUser: DistillOptions | undefined): string[] {
  const method = distillOptionsSchema.shape.method.safeParse(given.method);
  if (fromUser?.lrImg === undefined || !method.success) return [];
  const note = publishedTeslaNote(method.data, gradMethodOf({ method: method.data, gradMethod: given.gradMethod }), fromUser.lrImg, 'distill.lrImg');
  return note === null ? [] : [note];
}

/** The whole job: dataset, experts if needed, distillation with evaluations. */
export async function runDistillJob(options: JobOptions = {}, hooks: { onEvent?: (e: JobEvent) => void; signal?: AbortSignal } = {}): Promise<JobResult> {
  if (options.preset !== undefined && options.noPreset) {
    throw new TrajmatchInputError(`preset '${options.preset}' and noPreset both given: choose one`);
  }
  const device = resolveDevice(options.data?.device, 'data.device');
  const otherDataset = options.data?.dataset !== undefined && options.data.dataset !== 'fashion-mnist';
  const usePreset = options.preset ?? (options.noPreset || otherDataset ? undefined : defaultPreset(device));
  if (usePreset !== undefined && !(usePreset in PRESETS)) {
    throw new TrajmatchInputError(`unknown preset '${usePreset}'; expected one of ${Object.keys(PRESETS).join(', ')}`);
  }
  const preset = usePreset ? PRESETS[usePreset] : undefined;
  if (preset) hooks.onEvent?.({ type: 'preset', name: usePreset!, description: preset.description });

  // Every option is checked, and every default decided, before seconds of loading and training.
  // The default job fetches Fashion-MNIST into the cache where Debian's package is not installed.
  const defaultJob = options.preset === undefined && usePreset !== undefined;
  const jobDefaults: DatasetOptions = defaultJob ? { download: true } : {};
  const data: DatasetOptions = { ...jobDefaults, ...preset?.data, ...options.data, device };
  const network: NetworkOptions = { ...preset?.network, ...options.network };
  const distributed = options.distributed && options.distributed.rank.worldSize > 1 ? options.distributed : undefined;
  const given = { buffer: { ...preset?.buffer, ...options.buffer }, distill: { ...preset?.distill, ...options.distill } };
  if (distributed && given.distill.trajectoryBatch === undefined) given.distill.trajectoryBatch = distributed.rank.worldSize;
  // The experts' seed follows the run's unless buffer.seed is given.
  const seedFromDistill = given.buffer.seed === undefined && given.distill.seed !== undefined;
  if (seedFromDistill) given.buffer.seed = given.distill.seed;
  const settings: AppliedSetting[] = [];
  const note = (group: string, values: object | undefined, from: AppliedSetting['from']) => {
    for (const [key, value] of Object.entries(values ?? {})) {
      if (value === undefined) continue;
      const at = settings.findIndex((s) => s.path === `${group}.${key}`);
      if (at >= 0) settings.splice(at, 1);
      settings.push({ path: `${group}.${key}`, value, from });
    }
  };
  note('data', jobDefaults, 'default job');
  for (const group of ['data', 'network', 'buffer', 'distill'] as const) note(group, preset?.[group], 'preset');
  for (const group of ['data', 'network', 'buffer', 'distill'] as const) note(group, options[group], 'options');
  if (seedFromDistill) note('buffer', { seed: given.buffer.seed }, 'distill.seed');
  hooks.onEvent?.({ type: 'settings', preset: usePreset ?? null, settings, notes: settingNotes(given.distill, options.distill) });

  // Every group's problems at once, not only the first group's. The buffer takes the distillation's
  // folder and waypoints (their problems are the distillation's to report).
  const [distill, buffer, parsedNetwork, parsedData] = checkOptionGroups([
    () => parseOptions(distillOptionsSchema, { ...given.distill, bufferPath: given.distill.bufferPath ?? given.buffer.bufferPath }, 'distill'),
    () => {
      const fromDistill = distillOptionsSchema.safeParse({ ...given.distill, bufferPath: given.distill.bufferPath ?? given.buffer.bufferPath });
      const d = fromDistill.success ? fromDistill.data : undefined;
      return parseOptions(
        bufferOptionsSchema,
        { ...given.buffer, bufferPath: d?.bufferPath ?? DEFAULT_BUFFER_PATH, waypoints: d?.waypoints ?? DEFAULT_WAYPOINTS, waypointEpochs: d?.waypointEpochs },
        'buffer',
      );
    },
    () => parseOptions(networkOptionsSchema, network, 'network'),
    () => datasetOptions(data, 'data'),
  ] as const);
  const dataName = parsedData.dataset;
  // an abort before the job or while it loads the data or trains its experts rejects as one during distillation
  const interrupted = (cause: unknown) => distillInterrupted(null, defaultRunDir(dataName, distill), cause);
  throwIfInterrupted(hooks.signal, interrupted);
  checkOutputs(distill, dataName, Boolean(options.noExpertTraining), distributed);

  // The ranks of a data-parallel run meet here, with the settings that must agree (not the run
  // folder, which only rank 0 writes, nor the data's path and device, which are each host's own).
  let group: ProcessGroup | undefined;
  if (distributed) {
    checkTrajectoryBatch(distill.trajectoryBatch!, distributed.rank.worldSize, 'distill.trajectoryBatch');
    const { runDir: _r, ...distillSettings } = distill;
    const { dataPath: _p, device: _d, ...dataSettings } = data;
    const timeoutSeconds = distributed.timeoutSeconds ?? 60;
    group = await joinDistillRanks(distributed.rank, device, timeoutSeconds, {
      preset: usePreset ?? null,
      distill: distillSettings,
      buffer,
      network: parsedNetwork,
      data: dataSettings,
      noExpertTraining: Boolean(options.noExpertTraining),
      timeoutSeconds,
    });
  }
  let dataset;
  try {
    dataset = await loadDataset(data);
    throwIfInterrupted(hooks.signal, interrupted);
    const spec = convNetForDataset(dataset, network);
    const dir = bufferDir(buffer.bufferPath, dataset.name, spec, dataset.zca !== undefined);
    const wanted = Math.min(buffer.numExperts, distill.maxExperts ?? Infinity);
    const have = listExpertFiles(dir, distill.method, waypointPlan(distill.waypoints, distill.waypointEpochs)).length;
    if (have < wanted) {
      hooks.onEvent?.({ type: 'experts', dir, have, wanted });
      if (options.noExpertTraining) {
        throw new TrajmatchInputError(`${dir} holds ${have} ${distill.method.toUpperCase()} expert(s), ${wanted} wanted: train them with npm run buffer`);
      }
      try {
        await trainExperts(
          dataset,
          { ...buffer, numExperts: wanted, network },
          { onEvent: (event) => hooks.onEvent?.({ type: 'buffer', event }), signal: hooks.signal, group },
        );
      } catch (e) {
        if (e instanceof TrajmatchInterrupted) throw interrupted(e.cause);
        throw e;
      }
      throwIfInterrupted(hooks.signal, interrupted);
    }
    const result = await distillDataset(
      dataset,
      { ...distill, network },
      { onEvent: (event) => hooks.onEvent?.({ type: 'distill', event }), signal: hooks.signal, group },
    );
    await group?.close(); // rank 0 hosts the store: it leaves last
    return { ...result, preset: usePreset ?? null };
  } catch (e) {
    await group?.fail(e); // the other ranks stop at once, with this rank's reason
    throw e;
  } finally {
    await group?.close();
    dataset?.dispose();
  }
}
