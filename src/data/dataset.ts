/**
 * Loading a dataset onto the device: read its files, then either normalise with the published
 * statistics or (with zca) ZCA-whiten the raw [0, 1] pixels, as the published code does, and index
 * the images of each class.
 */
import * as fs from 'fs';
import { z } from 'zod';
import * as engine from '../engine';
import { Tensor } from '../native';
import { optionName, parseOptions } from '../config/validate';
import { Equals, Expect, Resolved } from '../config/schema-types';
import { DEFAULT_DEVICE, resolveDevice } from '../backend/device';
import { tensor } from '../backend/tensor';
import { readCifar10, readCifar100 } from './cifar';
import { DatasetError } from './files';
import { FASHION_MNIST_CLASSES, MNIST_CLASSES, readMnistLike } from './idx';
import { readImageFolder } from './imagefolder';
import { classIndices, RawDataset, RawSplit } from './raw';
import { ChannelStats, computeStats, identityStats, Preprocessing, preprocessingOf, PUBLISHED_STATS } from './stats';
import { readTinyImageNet } from './tinyimagenet';
import { cachedDatasetPath, datasetCacheDir, downloadDataset, isDownloadable } from './download';
import { ZcaWhitening } from './zca';

export const DATASET_NAMES = ['fashion-mnist', 'mnist', 'cifar10', 'cifar100', 'tiny-imagenet', 'imagefolder'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** Where each dataset is found without a data path (data.dataPath), and what to pass otherwise. */
const WHERE: Record<DatasetName, { defaultPath?: string; expect: string }> = {
  'fashion-mnist': {
    defaultPath: '/usr/share/datasets/fashion-mnist',
    expect: "the folder of the four IDX files (Debian's dataset-fashion-mnist installs them in /usr/share/datasets/fashion-mnist)",
  },
  mnist: { expect: 'the folder of the four IDX files (train-images-idx3-ubyte.gz and friends)' },
  cifar10: { expect: 'the cifar-10-batches-bin folder or cifar-10-binary.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html)' },
  cifar100: { expect: 'the cifar-100-binary folder or cifar-100-binary.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html)' },
  'tiny-imagenet': { expect: 'the extracted tiny-imagenet-200 folder' },
  imagefolder: { expect: 'a folder with one subfolder of images per class (or train/ and test/ folders of those)' },
};

/** Which dataset to load, from where, and how. */
export interface DatasetOptions {
  /** Default fashion-mnist. */
  dataset?: DatasetName;
  /** Folder or archive to read; defaults to the dataset's usual place where it has one. */
  dataPath?: string;
  /** Without dataPath: download the dataset from its official address into the cache when it is not there (default false). */
  download?: boolean;
  /** 'auto' (default) | 'cpu' | 'cuda' | 'cuda:N' */
  device?: string;
  /**
   * ZCA-whiten train and test with a transform fitted on the raw [0, 1] training pixels (default
   * false). As in the published code (MTT and MCT utils.py get_dataset), this replaces the
   * mean/std normalisation.
   */
  zca?: boolean;
  /** Default 0.1. */
  zcaEps?: number;
  /** imagefolder only: images are resized to imageSize x imageSize (default 32). */
  imageSize?: number;
  /** imagefolder only: 3 (RGB, default) or 1 (grayscale). */
  channels?: 1 | 3;
  /** imagefolder without split folders: share of each class held out as the test split (default 0.2). */
  testFraction?: number;
  /** imagefolder without split folders: seed of the holdout (default 0). */
  splitSeed?: number;
}

/** DatasetOptions after validation: the defaults filled in. */
export type ParsedDatasetOptions = Resolved<DatasetOptions, 'dataPath' | 'imageSize' | 'channels'>;

/** @internal The schema of DatasetOptions. */
export const datasetOptionsSchema = z.strictObject({
  dataset: z.enum(DATASET_NAMES).default('fashion-mnist'),
  dataPath: z.string().min(1).optional(),
  download: z.boolean().default(false),
  device: z.string().default(DEFAULT_DEVICE),
  zca: z.boolean().default(false),
  zcaEps: z.number().min(0).default(0.1),
  imageSize: z.number().int().positive().optional(),
  channels: z.union([z.literal(1), z.literal(3)]).optional(),
  testFraction: z.number().gt(0).lt(1).default(0.2),
  splitSeed: z.number().int().nonnegative().default(0),
});

// Fails to compile when the types above and the schema differ (see config/schema-types.ts).
type _SameAsSchema = [
  Expect<Equals<DatasetOptions, z.input<typeof datasetOptionsSchema>>>,
  Expect<Equals<ParsedDatasetOptions, z.output<typeof datasetOptionsSchema>>>,
];

export interface DatasetSplit {
  /** float32 [N, C, H, W] on the device, normalised (or, with zca, whitened raw pixels). */
  images: Tensor;
  /** int64 [N] on the device. */
  labels: Tensor;
  size: number;
  /** The labels on the host. */
  labelValues: Int32Array;
  /** classIndices[c]: positions of the images of class c, for drawing real images of a class. */
  classIndices: number[][];
}

export interface Dataset {
  name: DatasetName;
  source: string;
  classNames: string[];
  numClasses: number;
  channels: number;
  height: number;
  width: number;
  device: string;
  /**
   * The normalisation applied: x = (pixel / 255 - mean) / std per channel; mean 0 and std 1 (none)
   * when the images are ZCA-whitened.
   */
  stats: ChannelStats;
  /** The whitening of the raw [0, 1] pixels, if any (its inverse turns images back into pictures). */
  zca?: ZcaWhitening;
  /** What the networks see, recorded with every expert and synthetic set made from this data. */
  preprocessing: Preprocessing;
  train: DatasetSplit;
  test: DatasetSplit;
  /** Frees every tensor of the dataset. */
  dispose(): void;
  /** The same, for `using dataset = await loadDataset(...)`. */
  [Symbol.dispose](): void;
}

/** Validates dataset options, naming the offending option. */
export function datasetOptions(options: DatasetOptions = {}, where = 'data'): ParsedDatasetOptions {
  const parsed = parseOptions(datasetOptionsSchema, options, where);
  if (parsed.dataset !== 'imagefolder') {
    for (const key of ['imageSize', 'channels'] as const) {
      if (parsed[key] !== undefined) throw new DatasetError(`${optionName(where, [key])} applies only to dataset 'imagefolder', not '${parsed.dataset}'`);
    }
  }
  return parsed;
}

/** Reads a dataset's files into host memory (no device work). */
export async function readRawDataset(options: DatasetOptions = {}, where = 'data'): Promise<RawDataset> {
  const o = datasetOptions(options, where);
  const place = WHERE[o.dataset];
  const dataPath = o.dataPath ?? (await defaultDataPath(o.dataset, o.download, where));
  try {
    switch (o.dataset) {
      case 'fashion-mnist':
        return readMnistLike(dataPath, o.dataset, FASHION_MNIST_CLASSES);
      case 'mnist':
        return readMnistLike(dataPath, o.dataset, MNIST_CLASSES);
      case 'cifar10':
        return await readCifar10(dataPath);
      case 'cifar100':
        return await readCifar100(dataPath);
      case 'tiny-imagenet':
        return await readTinyImageNet(dataPath);
      case 'imagefolder': {
        const size = o.imageSize ?? 32;
        return await readImageFolder(dataPath, { height: size, width: size, channels: o.channels ?? 3, testFraction: o.testFraction, seed: o.splitSeed });
      }
    }
  } catch (e) {
    if (e instanceof DatasetError && o.dataPath === undefined && dataPath === place.defaultPath) {
      const fetch = isDownloadable(o.dataset) ? `, or ${optionName(where, ['download'])} to download it into ${datasetCacheDir(o.dataset)}` : '';
      throw new DatasetError(
        `${e.message}\nDataset '${o.dataset}' is read from ${place.defaultPath} by default; pass ${optionName(where, ['dataPath'])} with ${place.expect}${fetch}`,
        { cause: e },
      );
    }
    throw e;
  }
}

/**
 * The data path without dataPath: the dataset's usual place when it is there, else its copy in the
 * download cache, else a download when allowed; else the usual place (whose absence the reader
 * reports) or an error that says how to provide the dataset.
 */
async function defaultDataPath(dataset: DatasetName, download: boolean, where: string): Promise<string> {
  const place = WHERE[dataset];
  if (place.defaultPath && fs.existsSync(place.defaultPath)) return place.defaultPath;
  if (isDownloadable(dataset)) {
    const cached = cachedDatasetPath(dataset);
    if (cached) return cached;
    if (download) return downloadDataset(dataset);
  }
  if (place.defaultPath) return place.defaultPath;
  const fetch = isDownloadable(dataset) ? `, or ${optionName(where, ['download'])} to download it into ${datasetCacheDir(dataset)}` : '';
  throw new DatasetError(`dataset '${dataset}' needs a data path (${optionName(where, ['dataPath'])}): ${place.expect}${fetch}`);
}

async function splitToDevice(raw: RawDataset, split: RawSplit, stats: ChannelStats, device: string): Promise<DatasetSplit> {
  const n = split.labels.length;
  const pixels = tensor(split.pixels, [n, raw.channels, raw.height, raw.width], { device });
  try {
    const images = await engine.normalizeImages(pixels, stats.mean, stats.std);
    const labels = tensor(split.labels, [n], { dtype: 'int64', device });
    return { images, labels, size: n, labelValues: split.labels, classIndices: classIndices(split.labels, raw.classNames.length) };
  } finally {
    pixels.dispose();
  }
}

/** Puts a dataset read from disk on the device, normalised or whitened. */
export async function datasetToDevice(raw: RawDataset, options: DatasetOptions = {}, where = 'data'): Promise<Dataset> {
  const o = datasetOptions(options, where);
  const device = resolveDevice(o.device, optionName(where, ['device']));
  // With ZCA the published code whitens the raw [0, 1] pixels and normalises nothing: the absolute
  // eps = 0.1 is sized for that scale.
  const stats = o.zca ? identityStats(raw.channels) : (PUBLISHED_STATS[raw.name] ?? computeStats(raw.train, raw.channels));
  const train = await splitToDevice(raw, raw.train, stats, device);
  const test = await splitToDevice(raw, raw.test, stats, device);
  let zca: ZcaWhitening | undefined;
  if (o.zca) {
    zca = await ZcaWhitening.fit(train.images, o.zcaEps);
    for (const split of [train, test]) {
      const whitened = await zca.apply(split.images);
      split.images.dispose();
      split.images = whitened;
    }
  }
  return {
    name: raw.name as DatasetName,
    source: raw.source,
    classNames: raw.classNames,
    numClasses: raw.classNames.length,
    channels: raw.channels,
    height: raw.height,
    width: raw.width,
    device,
    stats,
    zca,
    preprocessing: preprocessingOf(o.zca ? null : stats, o.zca ? o.zcaEps : null),
    train,
    test,
    dispose() {
      for (const t of [train.images, train.labels, test.images, test.labels]) if (!t.disposed) t.dispose();
      zca?.dispose();
    },
    [Symbol.dispose]() {
      (this as Dataset).dispose();
    },
  };
}

/** Reads a dataset and puts it on the device: the one call most users need. */
export async function loadDataset(options: DatasetOptions = {}, where = 'data'): Promise<Dataset> {
  // Resolve the device first: a bad device should fail before seconds of reading.
  resolveDevice(datasetOptions(options, where).device, optionName(where, ['device']));
  return datasetToDevice(await readRawDataset(options, where), options, where);
}
