/**
 * CIFAR-10 and CIFAR-100, binary version, as downloaded (the .tar.gz) or extracted
 * (cifar-10-batches-bin/, cifar-100-binary/). Records are [label byte(s), 1024 R, 1024 G, 1024 B].
 */
import * as fs from 'fs';
import * as path from 'path';
import { DatasetError, isDir, readFileBytes } from './files';
import { RawDataset, RawSplit } from './raw';
import { readTarMembers } from './tar';

const PIXELS = 3 * 32 * 32;

interface CifarFormat {
  name: string;
  folder: string; // the folder inside the archive
  archive: string; // the archive's published name
  labelBytes: number; // 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine)
  labelOffset: number; // which label byte is the class
  train: string[];
  test: string[];
  classNames: string; // the names file
}

const CIFAR10: CifarFormat = {
  name: 'cifar10',
  folder: 'cifar-10-batches-bin',
  archive: 'cifar-10-binary.tar.gz',
  labelBytes: 1,
  labelOffset: 0,
  train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
  test: ['test_batch.bin'],
  classNames: 'batches.meta.txt',
};
const CIFAR100: CifarFormat = {
  name: 'cifar100',
  folder: 'cifar-100-binary',
  archive: 'cifar-100-binary.tar.gz',
  labelBytes: 2,
  labelOffset: 1,
  train: ['train.bin'],
  test: ['test.bin'],
  classNames: 'fine_label_names.txt',
};

/** A source of named files: a folder on disk or the members of an archive. */
type FileSource = { where: string; read(name: string): Buffer };

async function openSource(dataPath: string, format: CifarFormat): Promise<FileSource> {
  const needed = new Set([...format.train, ...format.test, format.classNames]);
  let archive: string | undefined;
  if (isDir(dataPath)) {
    for (const dir of [dataPath, path.join(dataPath, format.folder)]) {
      if (fs.existsSync(path.join(dir, format.train[0]))) return { where: dir, read: (name) => readFileBytes(path.join(dir, name)) };
    }
    if (fs.existsSync(path.join(dataPath, format.archive))) archive = path.join(dataPath, format.archive);
    else {
      throw new DatasetError(`${dataPath}: no ${format.name} data found (expected ${format.train[0]} there or in ${format.folder}/, or ${format.archive})`);
    }
  } else {
    archive = dataPath;
  }
  const members = await readTarMembers(archive, (name) => needed.has(name));
  return {
    where: archive,
    read: (name) => {
      const bytes = members.get(name);
      if (!bytes) throw new DatasetError(`${archive}: ${name} is missing from the archive`);
      return bytes;
    },
  };
}

function readRecords(source: FileSource, files: string[], format: CifarFormat, numClasses: number): RawSplit {
  const record = format.labelBytes + PIXELS;
  const parts = files.map((name) => {
    const bytes = source.read(name);
    const where = `${source.where}/${name}`;
    if (bytes.length === 0 || bytes.length % record !== 0) {
      throw new DatasetError(`${where}: wrong size: ${bytes.length} bytes is not a whole number of ${record}-byte ${format.name} records`);
    }
    return { where, bytes, count: bytes.length / record };
  });
  const total = parts.reduce((a, p) => a + p.count, 0);
  const pixels = new Uint8Array(total * PIXELS);
  const labels = new Int32Array(total);
  let i = 0;
  for (const part of parts) {
    for (let r = 0; r < part.count; r++, i++) {
      const at = r * record;
      const label = part.bytes[at + format.labelOffset];
      if (label >= numClasses) throw new DatasetError(`${part.where}: label ${label} of record ${r} is out of range for ${numClasses} classes`);
      labels[i] = label;
      pixels.set(part.bytes.subarray(at + format.labelBytes, at + record), i * PIXELS);
    }
  }
  return { pixels, labels };
}

async function readCifar(dataPath: string, format: CifarFormat, expectedClasses: number): Promise<RawDataset> {
  const source = await openSource(dataPath, format);
  const classNames = source
    .read(format.classNames)
    .toString('utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (classNames.length !== expectedClasses) {
    throw new DatasetError(`${source.where}/${format.classNames}: lists ${classNames.length} class names, expected ${expectedClasses}`);
  }
  return {
    name: format.name,
    classNames,
    channels: 3,
    height: 32,
    width: 32,
    train: readRecords(source, format.train, format, expectedClasses),
    test: readRecords(source, format.test, format, expectedClasses),
    source: source.where,
  };
}

export function readCifar10(dataPath: string): Promise<RawDataset> {
  return readCifar(dataPath, CIFAR10, 10);
}

export function readCifar100(dataPath: string): Promise<RawDataset> {
  return readCifar(dataPath, CIFAR100, 100);
}
