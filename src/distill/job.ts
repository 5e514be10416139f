/**
 * The whole distillation job, as `npm run distill` runs it and as the library offers it: load the
 * dataset, train experts when the buffer has too few, distil, evaluate. A Promise with progress
 * events and cancellation by AbortSignal (the run stays resumable).
 */
import { datasetOptions, DatasetOptions, loadDataset } from '../data/dataset';
import { parseOptions } from '../config/validate';
import { TrajmatchInputError } from '../errors';
import { convNetForDataset, NetworkOptions, networkOptionsSchema } from '../model/convnet';
import { BufferEvent, BufferOptions, bufferDir, bufferOptionsSchema, trainExperts } from '../trajectory/buffer';
import { listExpertFiles } from '../trajectory/files';
import { waypointPlan } from '../trajectory/waypoints';
import { resolveDevice } from '../backend/device';
import { RankEnv } from '../distributed/env';
import { checkTrajectoryBatch, joinDistillRanks } from '../distributed/data-parallel';
import { DistillOptions, distillOptionsSchema } from './options';
import { defaultPreset, PRESETS } from './presets';
import { DistillEvent, distillDataset, DistillResult } from './run';

export interface JobOptions {
  /**
   * A named preset (see PRESETS); explicit options override it. Without one, the default job's preset
   * for the device applies, unless another dataset than Fashion-MNIST is asked for, or `noPreset`.
   */
  preset?: string;
  noPreset?: boolean;
  data?: DatasetOptions;
  network?: NetworkOptions;
  /** How experts are trained when the buffer has too few. */
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

export type JobEvent =
  | { type: 'preset'; name: string; description: string }
  | { type: 'experts'; dir: string; have: number; wanted: number }
  | { type: 'buffer'; event: BufferEvent }
  | { type: 'distill'; event: DistillEvent };

export interface JobResult extends DistillResult {
  preset: string | null;
}

/** The whole job: dataset, experts if needed, distillation with evaluations. */
export async function runDistillJob(
  options: JobOptions = {},
  hooks: { onEvent?: (e: JobEvent) => void; signal?: AbortSignal } = {},
  where = 'data',
): Promise<JobResult> {
  const device = resolveDevice(options.data?.device ?? 'auto', `${where === 'cli' ? '--' : 'data.'}device`);
  const otherDataset = options.data?.dataset !== undefined && options.data.dataset !== 'fashion-mnist';
  const usePreset = options.preset ?? (options.noPreset || otherDataset ? undefined : defaultPreset(device));
  if (usePreset !== undefined && !(usePreset in PRESETS)) {
    throw new TrajmatchInputError(`unknown preset '${usePreset}'; expected one of ${Object.keys(PRESETS).join(', ')}`);
  }
  const preset = usePreset ? PRESETS[usePreset] : undefined;
  if (preset) hooks.onEvent?.({ type: 'preset', name: usePreset!, description: preset.description });
  // The default job fetches Fashion-MNIST into the cache where Debian's package is not installed.
  const defaultJob = options.preset === undefined && usePreset !== undefined;
  const data: DatasetOptions = { ...(defaultJob ? { download: true } : {}), ...preset?.data, ...options.data, device };
  const network: NetworkOptions = { ...preset?.network, ...options.network };
  const distributed = options.distributed && options.distributed.rank.worldSize > 1 ? options.distributed : undefined;
  const distill: DistillOptions = { ...preset?.distill, ...options.distill };
  if (distributed && distill.trajectoryBatch === undefined) distill.trajectoryBatch = distributed.rank.worldSize;
  const buffer: BufferOptions = { ...preset?.buffer, ...options.buffer, waypoints: distill.waypoints ?? 4, waypointEpochs: distill.waypointEpochs };
  if (distill.bufferPath !== undefined) buffer.bufferPath = distill.bufferPath;

  // Every option is checked before seconds of loading and training.
  const style = where === 'cli' ? 'cli' : undefined;
  const parsedDistill = parseOptions(distillOptionsSchema, distill, style ?? 'distill');
  const parsedBuffer = parseOptions(bufferOptionsSchema, buffer, style ?? 'buffer');
  const parsedNetwork = parseOptions(networkOptionsSchema, network, style ?? 'network');
  datasetOptions(data, where);

  // The ranks of a data-parallel run meet here, with the settings that must agree (not the run
  // folder, which only rank 0 writes, nor the data's path and device, which are each host's own).
  let group;
  if (distributed) {
    checkTrajectoryBatch(parsedDistill.trajectoryBatch!, distributed.rank.worldSize, where === 'cli' ? '--trajectory-batch' : 'distill.trajectoryBatch');
    const { runDir: _r, ...distillSettings } = parsedDistill;
    const { dataPath: _p, device: _d, ...dataSettings } = data;
    const timeoutSeconds = distributed.timeoutSeconds ?? 60;
    group = await joinDistillRanks(distributed.rank, device, timeoutSeconds, {
      preset: usePreset ?? null, distill: distillSettings, buffer: parsedBuffer, network: parsedNetwork, data: dataSettings,
      noExpertTraining: Boolean(options.noExpertTraining), timeoutSeconds,
    });
  }
  let dataset;
  try {
    dataset = await loadDataset(data, where);
    const spec = convNetForDataset(dataset, network, where === 'cli' ? 'cli' : 'network');
    const dir = bufferDir(buffer.bufferPath ?? 'buffers', dataset.name, spec, dataset.zca !== undefined);
    const method = distill.method ?? 'mct';
    const wanted = Math.min(buffer.numExperts ?? 100, distill.maxExperts ?? Infinity);
    const have = listExpertFiles(dir, method, waypointPlan(distill.waypoints ?? 4, distill.waypointEpochs)).length;
    if (have < wanted) {
      hooks.onEvent?.({ type: 'experts', dir, have, wanted });
      if (options.noExpertTraining) {
        throw new TrajmatchInputError(`${dir} holds ${have} ${method.toUpperCase()} expert(s), ${wanted} wanted: train them with npm run buffer`);
      }
      await trainExperts(dataset, { ...buffer, numExperts: wanted, network }, { onEvent: (event) => hooks.onEvent?.({ type: 'buffer', event }), signal: hooks.signal, group });
    }
    const result = await distillDataset(dataset, { ...distill, network }, { onEvent: (event) => hooks.onEvent?.({ type: 'distill', event }), signal: hooks.signal, group });
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
