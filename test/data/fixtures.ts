/** Writers of small dataset files in each publisher's format (and broken variants) for the reader tests. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import sharp from 'sharp';
import { create as createTar } from 'tar';
import { seededRandom } from '../helpers';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `trajmatch-${prefix}-`));
}

export function randomBytes(n: number, seed: number): Uint8Array {
  const rand = seededRandom(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
}

/** An IDX file of unsigned bytes: magic 0x0000 08 ndim, big-endian dims, data. */
export function idxBytes(dims: number[], data: Uint8Array, type = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

export interface MnistFixture {
  dir: string;
  train: { pixels: Uint8Array; labels: Uint8Array };
  test: { pixels: Uint8Array; labels: Uint8Array };
}

/** The four IDX files of an MNIST-like dataset with nTrain/nTest images of h x w. */
export function writeMnist(dir: string, opts: { nTrain?: number; nTest?: number; h?: number; w?: number; gzip?: boolean } = {}): MnistFixture {
  const { nTrain = 20, nTest = 10, h = 28, w = 28, gzip = true } = opts;
  fs.mkdirSync(dir, { recursive: true });
  const split = (n: number, seed: number) => ({
    pixels: randomBytes(n * h * w, seed),
    labels: Uint8Array.from({ length: n }, (_, i) => i % 10),
  });
  const train = split(nTrain, 1);
  const test = split(nTest, 2);
  const write = (name: string, bytes: Buffer) => fs.writeFileSync(path.join(dir, gzip ? `${name}.gz` : name), gzip ? zlib.gzipSync(bytes) : bytes);
  write('train-images-idx3-ubyte', idxBytes([nTrain, h, w], train.pixels));
  write('train-labels-idx1-ubyte', idxBytes([nTrain], train.labels));
  write('t10k-images-idx3-ubyte', idxBytes([nTest, h, w], test.pixels));
  write('t10k-labels-idx1-ubyte', idxBytes([nTest], test.labels));
  return { dir, train, test };
}

export interface CifarFixture {
  dir: string;
  records: Map<string, { labels: number[]; pixels: Uint8Array }>;
}

/** CIFAR binary files: CIFAR-10 (1 label byte) or CIFAR-100 (coarse + fine label bytes). */
export function writeCifar(dir: string, kind: 10 | 100, perFile = 4): CifarFixture {
  fs.mkdirSync(dir, { recursive: true });
  const files =
    kind === 10
      ? ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin']
      : ['train.bin', 'test.bin'];
  const records = new Map<string, { labels: number[]; pixels: Uint8Array }>();
  files.forEach((name, f) => {
    const labels = Array.from({ length: perFile }, (_, i) => (i * 7 + f * 3) % kind);
    const pixels = randomBytes(perFile * 3072, 10 + f);
    const parts = labels.flatMap((label, i) => [
      Buffer.from(kind === 10 ? [label] : [label % 20, label]),
      Buffer.from(pixels.subarray(i * 3072, (i + 1) * 3072)),
    ]);
    fs.writeFileSync(path.join(dir, name), Buffer.concat(parts));
    records.set(name, { labels, pixels });
  });
  const names = Array.from({ length: kind }, (_, i) => `class${i}`);
  fs.writeFileSync(path.join(dir, kind === 10 ? 'batches.meta.txt' : 'fine_label_names.txt'), `${names.join('\n')}\n\n`);
  if (kind === 100) fs.writeFileSync(path.join(dir, 'coarse_label_names.txt'), Array.from({ length: 20 }, (_, i) => `super${i}`).join('\n'));
  return { dir, records };
}

/** A gzipped tar of `folder` (relative to `cwd`), as the CIFAR downloads are packed. */
export async function writeTarGz(file: string, cwd: string, folder: string): Promise<void> {
  await createTar({ gzip: true, file, cwd }, [folder]);
}

/** An image file from C x H x W pixels; the format follows the extension (png, jpg). */
export async function writeImage(file: string, chw: Uint8Array, c: number, h: number, w: number): Promise<void> {
  const hwc = Buffer.alloc(c * h * w);
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) hwc[p * c + ch] = chw[ch * h * w + p];
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const img = sharp(hwc, { raw: { width: w, height: h, channels: c as 1 | 3 } });
  await (file.endsWith('.png') ? img.png() : img.jpeg({ quality: 100 })).toFile(file);
}

/** A smooth test picture (JPEG keeps smooth images close to their pixels). */
export function smoothImage(c: number, h: number, w: number, seed: number): Uint8Array {
  const out = new Uint8Array(c * h * w);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        out[(ch * h + y) * w + x] = ((seed * 37 + ch * 60 + y * 2 + x) % 200) + 20;
      }
  return out;
}

/**
 * An MNIST-like dataset that a network can learn: 10 x 10 images of noise in which class c has a
 * brighter row c (by `signal` over noise uniform in [0, noise)).
 */
export function writeLearnableMnist(dir: string, nTrain = 200, nTest = 100, look: { noise?: number; signal?: number } = {}): MnistFixture {
  const { noise = 60, signal = 200 } = look;
  fs.mkdirSync(dir, { recursive: true });
  const h = 10;
  const w = 10;
  const split = (n: number, seed: number) => {
    const rand = seededRandom(seed);
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
    const pixels = new Uint8Array(n * h * w);
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < h * w; p++) pixels[i * h * w + p] = Math.floor(rand() * noise);
      for (let x = 0; x < w; x++) pixels[i * h * w + labels[i] * w + x] = Math.min(255, pixels[i * h * w + labels[i] * w + x] + signal);
    }
    return { pixels, labels };
  };
  const train = split(nTrain, 61);
  const test = split(nTest, 62);
  const write = (name: string, bytes: Buffer) => fs.writeFileSync(path.join(dir, `${name}.gz`), zlib.gzipSync(bytes));
  write('train-images-idx3-ubyte', idxBytes([nTrain, h, w], train.pixels));
  write('train-labels-idx1-ubyte', idxBytes([nTrain], train.labels));
  write('t10k-images-idx3-ubyte', idxBytes([nTest, h, w], test.pixels));
  write('t10k-labels-idx1-ubyte', idxBytes([nTest], test.labels));
  return { dir, train, test };
}
