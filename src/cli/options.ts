/** Command-line options shared by every command that reads a dataset. */
import { Command, InvalidArgumentError } from 'commander';
import { DATASET_NAMES, DatasetOptions } from '../data/dataset';

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

export function addDataOptions(cmd: Command): Command {
  return cmd
    .option('--dataset <name>', `dataset: ${DATASET_NAMES.join(', ')}`, 'fashion-mnist')
    .option('--data-path <path>', 'folder or archive to read (default: the dataset\'s usual place, where it has one)')
    .option('--device <device>', "'auto' (CUDA when available), 'cpu', 'cuda' or 'cuda:N'", 'auto')
    .option('--zca', 'ZCA-whiten the images, fitted on the training set')
    .option('--zca-eps <eps>', 'ZCA regulariser', numberArg('number'))
    .option('--image-size <n>', 'imagefolder: resize images to n x n (default 32)', numberArg('integer'))
    .option('--channels <n>', 'imagefolder: 3 (RGB, default) or 1 (grayscale)', numberArg('integer'))
    .option('--test-fraction <f>', 'imagefolder without train/test folders: share held out for testing (default 0.2)', numberArg('number'))
    .option('--seed <n>', 'imagefolder without train/test folders: seed of the holdout (default 0)', numberArg('integer'));
}

/** The dataset options of a command's parsed flags, leaving out what was not given. */
export function dataOptionsFrom(flags: Record<string, unknown>): DatasetOptions {
  const keys = ['dataset', 'dataPath', 'device', 'zca', 'zcaEps', 'imageSize', 'channels', 'testFraction', 'seed'] as const;
  const out: Record<string, unknown> = {};
  for (const key of keys) if (flags[key] !== undefined) out[key] = flags[key];
  return out as DatasetOptions;
}
