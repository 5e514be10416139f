/**
 * Users' own images, one folder per class. With train/ and test/ (or val/) subfolders those are the
 * splits; otherwise a seeded holdout of each class becomes the test split. Images are resized to
 * the requested size; classes are the folder names in sorted order.
 */
import * as fs from 'fs';
import * as path from 'path';
import { decodeSplit, IMAGE_EXTENSIONS, ImageShape } from './decode';
import { DatasetError, isDir } from './files';
import { RawDataset } from './raw';
import { seededRandom, shuffled } from '../util/random';

export interface ImageFolderOptions {
  height: number;
  width: number;
  channels: 1 | 3;
  /** Share of each class held out for testing when there are no split folders. */
  testFraction: number;
  seed: number;
}

type Labelled = { file: string; label: number }[];

function classFolders(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

function imagesOf(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => !f.startsWith('.') && IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase()))
    .sort()
    .map((f) => path.join(dir, f));
}

function listSplit(dir: string, classes: string[], required: boolean): Labelled {
  const out: Labelled = [];
  classes.forEach((name, label) => {
    const classDir = path.join(dir, name);
    if (!isDir(classDir)) {
      if (required) throw new DatasetError(`${classDir}: class folder missing`);
      return;
    }
    const files = imagesOf(classDir);
    if (files.length === 0) throw new DatasetError(`${classDir}: class folder holds no images (${IMAGE_EXTENSIONS.join(', ')})`);
    for (const file of files) out.push({ file, label });
  });
  return out;
}

function holdout(all: Labelled, classes: string[], options: ImageFolderOptions, root: string): { train: Labelled; test: Labelled } {
  const train: Labelled = [];
  const test: Labelled = [];
  for (const [c, name] of classes.entries()) {
    const mine = shuffled(
      all.filter((f) => f.label === c),
      seededRandom(options.seed * 7919 + c),
    );
    const nTest = Math.round(mine.length * options.testFraction);
    if (nTest < 1 || nTest >= mine.length) {
      throw new DatasetError(`${path.join(root, name)}: class folder has ${mine.length} image(s), too few to hold out a test share of ${options.testFraction}`);
    }
    test.push(...mine.slice(0, nTest));
    train.push(...mine.slice(nTest));
  }
  return { train, test };
}

export async function readImageFolder(root: string, options: ImageFolderOptions): Promise<RawDataset> {
  if (!isDir(root)) throw new DatasetError(`${root}: folder not found`);
  const testDir = ['test', 'val'].map((d) => path.join(root, d)).find(isDir);
  const trainDir = path.join(root, 'train');
  const split = isDir(trainDir) && testDir !== undefined;
  const classes = classFolders(split ? trainDir : root);
  if (classes.length < 2) throw new DatasetError(`${split ? trainDir : root}: found ${classes.length} class folder(s), need at least 2`);

  let files: { train: Labelled; test: Labelled };
  if (split) {
    files = { train: listSplit(trainDir, classes, true), test: listSplit(testDir, classes, false) };
    const extra = classFolders(testDir).filter((c) => !classes.includes(c));
    if (extra.length > 0) throw new DatasetError(`${testDir}: class folder(s) ${extra.join(', ')} have no counterpart in ${trainDir}`);
  } else {
    files = holdout(listSplit(root, classes, true), classes, options, root);
  }
  const shape: ImageShape = { channels: options.channels, height: options.height, width: options.width };
  return {
    name: 'imagefolder',
    classNames: classes,
    ...shape,
    train: await decodeSplit(files.train, shape),
    test: await decodeSplit(files.test, shape),
    source: root,
  };
}
