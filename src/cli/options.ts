/** Command-line options shared by every command that reads a dataset. */
import { Command, InvalidArgumentError } from 'commander';
import { DATASET_NAMES, DatasetOptions } from '../data/dataset';
import { NetworkOptions } from '../model/convnet';

/** A commander parser for numbers that rejects what is not one, naming the value. */
export function numberArg(kind: 'number' | 'integer') {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || (kind === 'integer' && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`expected ${kind === 'integer' ? 'an integer' : 'a number'}, received '${value}'`);
    }
    return n;
  };
}

/** A commander parser for a comma-separated list of integers, e.g. 0,6,25,50. */
export function integerListArg(value: string): number[] {
  const parts = value.split(',').map((v) => v.trim());
  const out = parts.map(Number);
  if (parts.some((p) => p === '') || out.some((n) => !Number.isInteger(n))) {
    throw new InvalidArgumentError(`expected comma-separated integers such as 0,6,25,50, received '${value}'`);
  }
  return out;
}

export function addDataOptions(cmd: Command): Command {
  return cmd
    .option('--dataset <name>', `dataset: ${DATASET_NAMES.join(', ')} (default fashion-mnist)`)
    .option('--data-path <path>', 'folder or archive to read (default: the dataset\'s usual place, where it has one)')
    .option('--download', 'download the dataset from its official address into ~/.cache/trajmatch when it is missing')
    .option('--device <device>', "'auto' (CUDA when available, the default), 'cpu', 'cuda' or 'cuda:N'")
    .option('--zca', 'ZCA-whiten the raw [0, 1] pixels with a transform fitted on the training set, instead of normalising them (as published)')
    .option('--zca-eps <eps>', 'ZCA regulariser (published: 0.1)', numberArg('number'))
    .option('--image-size <n>', 'imagefolder: resize images to n x n (default 32)', numberArg('integer'))
    .option('--channels <n>', 'imagefolder: 3 (RGB, default) or 1 (grayscale)', numberArg('integer'))
    .option('--test-fraction <f>', 'imagefolder without train/test folders: share held out for testing (default 0.2)', numberArg('number'))
    .option('--split-seed <n>', 'imagefolder without train/test folders: seed of the holdout (default 0)', numberArg('integer'));
}

/** The dataset options of a command's parsed flags, leaving out what was not given. */
export function dataOptionsFrom(flags: Record<string, unknown>): DatasetOptions {
  const keys = ['dataset', 'dataPath', 'download', 'device', 'zca', 'zcaEps', 'imageSize', 'channels', 'testFraction', 'splitSeed'] as const;
  const out: Record<string, unknown> = {};
  for (const key of keys) if (flags[key] !== undefined) out[key] = flags[key];
  return out as DatasetOptions;
}

export function addNetworkOptions(cmd: Command): Command {
  return cmd
    .option('--net-width <n>', 'channels of each conv layer (default 128)', numberArg('integer'))
    .option('--net-depth <n>', 'conv blocks (default 3)', numberArg('integer'))
    .option('--net-norm <norm>', 'instance (default), batch, layer, group or none')
    .option('--net-act <act>', 'relu (default), sigmoid or leakyrelu')
    .option('--net-pooling <pool>', 'avg (default), max or none');
}

export function networkOptionsFrom(flags: Record<string, unknown>): NetworkOptions {
  const map = { netWidth: 'netWidth', netDepth: 'depth', netNorm: 'norm', netAct: 'activation', netPooling: 'pooling' } as const;
  const out: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(map)) if (flags[flag] !== undefined) out[key] = flags[flag];
  return out as NetworkOptions;
}

/** --quiet and --json: no progress bar; --json prints one JSON object with the result at the end. */
export function addOutputOptions(cmd: Command): Command {
  return cmd.option('--quiet', 'print only the result').option('--json', 'print the result as one JSON object (implies --quiet)');
}

/** Picks the given flags into an options object, renamed, leaving out what was not given. */
export function pick<K extends string>(flags: Record<string, unknown>, names: Record<string, K>): Partial<Record<K, unknown>> {
  const out: Partial<Record<K, unknown>> = {};
  for (const [flag, key] of Object.entries(names)) if (flags[flag] !== undefined) out[key] = flags[flag];
  return out;
}
