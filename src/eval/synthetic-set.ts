/**
 * A saved synthetic set under the evaluation protocol, from its file (or readSyntheticSet's
 * object): the data it was distilled from is loaded as its metadata says, checked against it, and
 * fresh networks are trained on it and tested, as `trajmatch eval --synthetic` does.
 */
import { Dataset, DatasetOptions, loadDataset } from '../data/dataset';
import { TrajmatchInputError } from '../errors';
import { parseOptions } from '../config/validate';
import { convNetForDataset, ConvNetSpec, convNetSpec, NetworkOptions, networkOptionsSchema } from '../model/convnet';
import { preprocessingProblem, readSyntheticSet, SyntheticSetData, syntheticSetTensors } from '../synthetic/file';
import { EvalArch, EvalHooks, EvalOptions, EvalResult, evaluateSetOnArch } from './protocol';

export interface SyntheticEvalOptions {
  /** Where the real data is (dataPath, device, ...); the dataset, ZCA and its eps default to the set's own. */
  data?: DatasetOptions;
  /** A dataset already loaded, used instead of `data` (and not disposed). */
  dataset?: Dataset;
  /** The architectures to evaluate on; default ['convnet']. */
  arch?: readonly EvalArch[];
  /** The ConvNet (and the width etc. of the others' ConvNet reference); default: the set's own network. */
  network?: NetworkOptions;
  /** The lr to train with; default: the set's learned lr. */
  lr?: number;
  /** The protocol's settings (numEval, epochs, seed, ...); the published ones by default. */
  eval?: EvalOptions;
}

export interface SyntheticEvalResult {
  dataset: string;
  lr: number;
  /** One result per architecture asked for. */
  results: Partial<Record<EvalArch, EvalResult>>;
}

/** The data options that load what `set` was distilled from, with the caller's own taking precedence. */
export function datasetOptionsForSet(set: SyntheticSetData, given: DatasetOptions = {}): DatasetOptions {
  const data: DatasetOptions = { ...given };
  data.dataset ??= set.info.dataset as DatasetOptions['dataset'];
  data.zca ??= set.info.zca;
  if (set.info.preprocessing?.zca) data.zcaEps ??= set.info.preprocessing.zca.eps;
  if (set.info.dataset === 'imagefolder') data.imageSize ??= set.info.height;
  return data;
}

/** Refuses a set that does not live with `dataset` (another dataset, image shape or preprocessing), naming `file`. */
export function checkSetFitsDataset(set: SyntheticSetData, dataset: Dataset, file: string): void {
  const shape = `${dataset.channels}x${dataset.height}x${dataset.width}`;
  if (
    set.info.dataset !== dataset.name ||
    `${set.info.channels}x${set.info.height}x${set.info.width}` !== shape ||
    set.info.zca !== (dataset.zca !== undefined)
  ) {
    throw new TrajmatchInputError(
      `${file}: distilled from ${set.info.dataset} (${set.info.channels}x${set.info.height}x${set.info.width}${set.info.zca ? ', ZCA' : ''}), but the evaluation data is ${dataset.name} (${shape}${dataset.zca ? ', ZCA' : ''})`,
    );
  }
  const problem = preprocessingProblem(set.info, dataset.preprocessing);
  if (problem) throw new TrajmatchInputError(`${file}: ${problem}`);
}

/** The ConvNet to evaluate a set with: the set's own network (its metadata) with each given option overriding its setting, else the dataset's default. */
export function convNetForSet(set: SyntheticSetData, dataset: Dataset, network: NetworkOptions = {}): ConvNetSpec {
  const own = set.info.convnet;
  return own ? convNetSpec({ ...own, ...parseOptions(networkOptionsSchema.partial(), network, 'network') }) : convNetForDataset(dataset, network);
}

/**
 * Evaluates a synthetic set (a file path, or readSyntheticSet's object) with the published protocol
 * on each architecture asked for: num_eval fresh networks trained on it and tested on the real test split.
 */
export async function evaluateSyntheticSet(
  set: string | SyntheticSetData,
  options: SyntheticEvalOptions = {},
  hooks: EvalHooks = {},
): Promise<SyntheticEvalResult> {
  const file = typeof set === 'string' ? set : 'the synthetic set';
  const data = typeof set === 'string' ? await readSyntheticSet(set) : set;
  const dataset = options.dataset ?? (await loadDataset(datasetOptionsForSet(data, options.data)));
  try {
    checkSetFitsDataset(data, dataset, file);
    const spec = convNetForSet(data, dataset, options.network);
    const lr = options.lr ?? data.lr;
    const { images, labels } = syntheticSetTensors(data, dataset.device);
    try {
      const results: SyntheticEvalResult['results'] = {};
      for (const arch of options.arch ?? ['convnet']) {
        results[arch] = await evaluateSetOnArch(dataset, { images, labels, lr }, arch, spec, options.eval, hooks);
      }
      return { dataset: dataset.name, lr, results };
    } finally {
      images.dispose();
      labels.dispose();
    }
  } finally {
    if (!options.dataset) dataset.dispose();
  }
}
