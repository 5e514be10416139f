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
  const distill: DistillOptions = { ...preset?.distill, ...options.distill };
  const buffer: BufferOptions = { ...preset?.buffer, ...options.buffer, waypoints: distill.waypoints ?? 4, waypointEpochs: distill.waypointEpochs };
  if (distill.bufferPath !== undefined) buffer.bufferPath = distill.bufferPath;

  // Every option is checked before seconds of loading and training.
  const style = where === 'cli' ? 'cli' : undefined;
  parseOptions(distillOptionsSchema, distill, style ?? 'distill');
  parseOptions(bufferOptionsSchema, buffer, style ?? 'buffer');
  parseOptions(networkOptionsSchema, network, style ?? 'network');
  datasetOptions(data, where);

  const dataset = await loadDataset(data, where);
  try {
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
      await trainExperts(dataset, { ...buffer, numExperts: wanted, network }, { onEvent: (event) => hooks.onEvent?.({ type: 'buffer', event }), signal: hooks.signal });
    }
    const result = await distillDataset(dataset, { ...distill, network }, { onEvent: (event) => hooks.onEvent?.({ type: 'distill', event }), signal: hooks.signal });
    return { ...result, preset: usePreset ?? null };
  } finally {
    dataset.dispose();
  }
}
