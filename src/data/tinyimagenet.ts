/**
 * Tiny ImageNet 200 as distributed (tiny-imagenet-200/): wnids.txt, train/<wnid>/images/*.JPEG,
 * val/images/*.JPEG with val/val_annotations.txt. The labelled val split serves as the test split
 * (the test images have no labels). Classes are the wnids in sorted order, as torchvision's
 * ImageFolder orders them; words.txt, when present, gives their readable names.
 */
import * as fs from 'fs';
import * as path from 'path';
import { decodeSplit, IMAGE_EXTENSIONS } from './decode';
import { DatasetError, isDir, readLines } from './files';
import { RawDataset } from './raw';

const SHAPE = { channels: 3, height: 64, width: 64 } as const;

function listImages(dir: string): string[] {
  if (!isDir(dir)) throw new DatasetError(`${dir}: folder not found`);
  return fs
    .readdirSync(dir)
    .filter((f) => IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase()))
    .sort();
}

function readableNames(root: string, wnids: string[]): string[] {
  const words = path.join(root, 'words.txt');
  if (!fs.existsSync(words)) return wnids;
  const names = new Map(
    readLines(words).map((line) => {
      const [id, ...rest] = line.split('\t');
      return [id, rest.join(' ').split(',')[0].trim()] as const;
    }),
  );
  return wnids.map((id) => names.get(id) || id);
}

export async function readTinyImageNet(dataPath: string): Promise<RawDataset> {
  const root = isDir(path.join(dataPath, 'tiny-imagenet-200')) ? path.join(dataPath, 'tiny-imagenet-200') : dataPath;
  const wnids = [...readLines(path.join(root, 'wnids.txt'))].sort();
  if (wnids.length === 0) throw new DatasetError(`${path.join(root, 'wnids.txt')}: lists no classes`);
  const classOf = new Map(wnids.map((id, i) => [id, i]));

  const train: { file: string; label: number }[] = [];
  for (const [label, wnid] of wnids.entries()) {
    const dir = path.join(root, 'train', wnid, 'images');
    const files = listImages(dir);
    if (files.length === 0) throw new DatasetError(`${dir}: no images for class ${wnid}`);
    for (const f of files) train.push({ file: path.join(dir, f), label });
  }

  const annotations = path.join(root, 'val', 'val_annotations.txt');
  const test = readLines(annotations).map((line, i) => {
    const [file, wnid] = line.split('\t');
    const label = classOf.get(wnid);
    if (!file || label === undefined) {
      throw new DatasetError(`${annotations}: line ${i + 1} names class '${wnid}', which is not in wnids.txt`);
    }
    return { file: path.join(root, 'val', 'images', file), label };
  });
  if (test.length === 0) throw new DatasetError(`${annotations}: lists no images`);

  return {
    name: 'tiny-imagenet',
    classNames: readableNames(root, wnids),
    ...SHAPE,
    train: await decodeSplit(train, SHAPE),
    test: await decodeSplit(test, SHAPE),
    source: root,
  };
}
