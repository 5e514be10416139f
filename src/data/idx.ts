/**
 * MNIST and Fashion-MNIST in the IDX format their publishers distribute
 * (train-images-idx3-ubyte.gz and friends, gzipped or not).
 */
import { DatasetError, findFile, maybeGunzip, readFileBytes } from './files';
import { RawDataset, RawSplit } from './raw';

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parses an IDX file of unsigned bytes (type 0x08); the header's dimensions must match the file size exactly. */
export function parseIdx(bytes: Buffer, file: string, expectedDims: number): IdxArray {
  if (bytes.length < 4) throw new DatasetError(`${file}: too short for an IDX header (${bytes.length} bytes)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DatasetError(
      `${file}: not an IDX file (magic number 0x${bytes.readUInt32BE(0).toString(16).padStart(8, '0')}, expected 0x0000080${expectedDims})`,
    );
  }
  const type = bytes[2];
  const ndim = bytes[3];
  if (type !== 0x08) throw new DatasetError(`${file}: IDX element type 0x${type.toString(16)} is not supported, expected 0x08 (unsigned byte)`);
  if (ndim !== expectedDims) throw new DatasetError(`${file}: IDX file has ${ndim} dimension(s), expected ${expectedDims}`);
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) throw new DatasetError(`${file}: truncated IDX header`);
  const dims = Array.from({ length: ndim }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
  const expected = headerBytes + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expected) {
    throw new DatasetError(`${file}: wrong size: the header declares [${dims.join(', ')}] (${expected} bytes) but the file holds ${bytes.length} bytes`);
  }
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, expected - headerBytes) };
}

function readIdxFile(dir: string, stem: string, expectedDims: number): { file: string; idx: IdxArray } {
  const file = findFile(dir, [`${stem}.gz`, stem, stem.replace(/-(idx\d)/, '.$1')], stem);
  return { file, idx: parseIdx(maybeGunzip(readFileBytes(file), file), file, expectedDims) };
}

function readSplit(dir: string, prefix: 'train' | 't10k', numClasses: number): { split: RawSplit; height: number; width: number } {
  const images = readIdxFile(dir, `${prefix}-images-idx3-ubyte`, 3);
  const labels = readIdxFile(dir, `${prefix}-labels-idx1-ubyte`, 1);
  const [n, height, width] = images.idx.dims;
  if (labels.idx.dims[0] !== n) {
    throw new DatasetError(`${labels.file}: holds ${labels.idx.dims[0]} labels but ${images.file} holds ${n} images`);
  }
  const out = Int32Array.from(labels.idx.data);
  const bad = out.findIndex((l) => l >= numClasses);
  if (bad >= 0) throw new DatasetError(`${labels.file}: label ${out[bad]} at index ${bad} is out of range for ${numClasses} classes`);
  return { split: { pixels: images.idx.data, labels: out }, height, width };
}

/** Reads the four IDX files of an MNIST-like dataset from a folder. */
export function readMnistLike(dir: string, name: string, classNames: string[]): RawDataset {
  const train = readSplit(dir, 'train', classNames.length);
  const test = readSplit(dir, 't10k', classNames.length);
  if (train.height !== test.height || train.width !== test.width) {
    throw new DatasetError(`${dir}: train images are ${train.height}x${train.width} but test images are ${test.height}x${test.width}`);
  }
  return { name, classNames, channels: 1, height: train.height, width: train.width, train: train.split, test: test.split, source: dir };
}
