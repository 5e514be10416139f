import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { readRawDataset } from '../../src/data/dataset';
import { DatasetError } from '../../src/data/files';
import { FASHION_MNIST_CLASSES } from '../../src/data/idx';
import { idxBytes, randomBytes, smoothImage, tempDir, writeCifar, writeImage, writeMnist, writeTarGz } from './fixtures';

const root = tempDir('readers');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('MNIST / Fashion-MNIST (IDX)', () => {
  test.each([true, false])('reads the four files (gzipped: %s) with shapes, values, labels and classes', (gzip) => {
    const fx = writeMnist(path.join(root, `mnist-${gzip}`), { gzip });
    const ds = readRawDataset({ dataset: 'fashion-mnist', dataPath: fx.dir });
    return ds.then((raw) => {
      expect(raw).toMatchObject({ name: 'fashion-mnist', channels: 1, height: 28, width: 28, classNames: FASHION_MNIST_CLASSES });
      expect(Array.from(raw.train.pixels)).toEqual(Array.from(fx.train.pixels));
      expect(Array.from(raw.train.labels)).toEqual(Array.from(fx.train.labels));
      expect(Array.from(raw.test.pixels)).toEqual(Array.from(fx.test.pixels));
      expect(raw.test.labels.length).toBe(10);
    });
  });

  test('MNIST has digit class names', async () => {
    const fx = writeMnist(path.join(root, 'digits'));
    const raw = await readRawDataset({ dataset: 'mnist', dataPath: fx.dir });
    expect(raw.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  describe('broken files are errors naming the file and the problem', () => {
    const broken = (name: string, mutate: (dir: string) => void) => {
      const fx = writeMnist(path.join(root, name), { gzip: false });
      mutate(fx.dir);
      return readRawDataset({ dataset: 'mnist', dataPath: fx.dir });
    };
    const file = (dir: string, name: string) => path.join(dir, name);

    test('a missing file', async () => {
      const p = broken('missing', (d) => fs.rmSync(file(d, 't10k-labels-idx1-ubyte')));
      await expect(p).rejects.toThrow(DatasetError);
      await expect(p).rejects.toThrow(/missing: t10k-labels-idx1-ubyte not found \(looked for t10k-labels-idx1-ubyte\.gz, t10k-labels-idx1-ubyte/);
    });

    test('a wrong IDX magic number', async () => {
      const p = broken('magic', (d) => {
        const f = file(d, 'train-images-idx3-ubyte');
        const b = fs.readFileSync(f);
        b[0] = 0x12;
        fs.writeFileSync(f, b);
      });
      await expect(p).rejects.toThrow(/train-images-idx3-ubyte: not an IDX file \(magic number 0x12000803, expected 0x00000803\)/);
    });

    test('a file of the wrong size', async () => {
      const p = broken('size', (d) => {
        const f = file(d, 'train-images-idx3-ubyte');
        fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 1000));
      });
      await expect(p).rejects.toThrow(/train-images-idx3-ubyte: wrong size: the header declares \[20, 28, 28\] \(15696 bytes\) but the file holds 1000 bytes/);
    });

    test('a truncated gzip', async () => {
      const fx = writeMnist(path.join(root, 'gz'), { gzip: true });
      const f = file(fx.dir, 'train-labels-idx1-ubyte.gz');
      fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 20));
      await expect(readRawDataset({ dataset: 'mnist', dataPath: fx.dir })).rejects.toThrow(
        /train-labels-idx1-ubyte\.gz: corrupt or truncated gzip data \(unexpected end of file\)/,
      );
    });

    test('labels out of range', async () => {
      const p = broken('labels', (d) => {
        const labels = Uint8Array.from({ length: 20 }, (_, i) => (i === 7 ? 12 : 0));
        fs.writeFileSync(file(d, 'train-labels-idx1-ubyte'), idxBytes([20], labels));
      });
      await expect(p).rejects.toThrow(/train-labels-idx1-ubyte: label 12 at index 7 is out of range for 10 classes/);
    });

    test('as many labels as images', async () => {
      const p = broken('count', (d) => fs.writeFileSync(file(d, 'train-labels-idx1-ubyte'), idxBytes([19], new Uint8Array(19))));
      await expect(p).rejects.toThrow(/holds 19 labels but .*train-images-idx3-ubyte holds 20 images/);
    });

    test('a non-byte IDX type', async () => {
      const p = broken('type', (d) => fs.writeFileSync(file(d, 't10k-labels-idx1-ubyte'), idxBytes([10], new Uint8Array(10), 0x0d)));
      await expect(p).rejects.toThrow(/IDX element type 0xd is not supported, expected 0x08/);
    });
  });
});

describe('CIFAR-10 and CIFAR-100 (binary version)', () => {
  const c10 = writeCifar(path.join(root, 'c10', 'cifar-10-batches-bin'), 10);
  const c100 = writeCifar(path.join(root, 'c100', 'cifar-100-binary'), 100);

  const expectCifar10 = (raw: Awaited<ReturnType<typeof readRawDataset>>) => {
    expect(raw).toMatchObject({ name: 'cifar10', channels: 3, height: 32, width: 32 });
    expect(raw.classNames).toHaveLength(10);
    expect(raw.train.labels.length).toBe(20);
    expect(raw.test.labels.length).toBe(4);
    const batch3 = c10.records.get('data_batch_3.bin')!;
    expect(Array.from(raw.train.labels.subarray(8, 12))).toEqual(batch3.labels);
    expect(Array.from(raw.train.pixels.subarray(8 * 3072, 12 * 3072))).toEqual(Array.from(batch3.pixels));
    expect(Array.from(raw.test.labels)).toEqual(c10.records.get('test_batch.bin')!.labels);
  };

  test('CIFAR-10 from the extracted folder or its parent', async () => {
    expectCifar10(await readRawDataset({ dataset: 'cifar10', dataPath: c10.dir }));
    expectCifar10(await readRawDataset({ dataset: 'cifar10', dataPath: path.dirname(c10.dir) }));
  });

  test('CIFAR-10 from the .tar.gz as downloaded', async () => {
    const archive = path.join(root, 'cifar-10-binary.tar.gz');
    await writeTarGz(archive, path.dirname(c10.dir), 'cifar-10-batches-bin');
    const raw = await readRawDataset({ dataset: 'cifar10', dataPath: archive });
    expectCifar10(raw);
    expect(raw.source).toBe(archive);
  });

  test('CIFAR-100 fine labels and class names, from folder and archive', async () => {
    const raw = await readRawDataset({ dataset: 'cifar100', dataPath: c100.dir });
    expect(raw.classNames).toHaveLength(100);
    expect(raw.classNames[42]).toBe('class42');
    expect(Array.from(raw.train.labels)).toEqual(c100.records.get('train.bin')!.labels);
    expect(Array.from(raw.test.pixels)).toEqual(Array.from(c100.records.get('test.bin')!.pixels));
    const archive = path.join(root, 'cifar-100-binary.tar.gz');
    await writeTarGz(archive, path.dirname(c100.dir), 'cifar-100-binary');
    const fromArchive = await readRawDataset({ dataset: 'cifar100', dataPath: archive });
    expect(Array.from(fromArchive.train.labels)).toEqual(Array.from(raw.train.labels));
  });

  describe('broken files', () => {
    const copy = (name: string) => {
      const dir = path.join(root, name);
      fs.cpSync(c10.dir, dir, { recursive: true });
      return dir;
    };

    test('a missing batch', async () => {
      const dir = copy('c10-missing');
      fs.rmSync(path.join(dir, 'data_batch_4.bin'));
      await expect(readRawDataset({ dataset: 'cifar10', dataPath: dir })).rejects.toThrow(/data_batch_4\.bin: file not found/);
    });

    test('a batch of the wrong size', async () => {
      const dir = copy('c10-size');
      fs.appendFileSync(path.join(dir, 'data_batch_2.bin'), Buffer.alloc(100));
      await expect(readRawDataset({ dataset: 'cifar10', dataPath: dir })).rejects.toThrow(
        /data_batch_2\.bin: wrong size: 12392 bytes is not a whole number of 3073-byte cifar10 records/,
      );
    });

    test('a label out of range', async () => {
      const dir = copy('c10-label');
      const f = path.join(dir, 'test_batch.bin');
      const b = fs.readFileSync(f);
      b[3073 * 2] = 10;
      fs.writeFileSync(f, b);
      await expect(readRawDataset({ dataset: 'cifar10', dataPath: dir })).rejects.toThrow(
        /test_batch\.bin: label 10 of record 2 is out of range for 10 classes/,
      );
    });

    test('a class list of the wrong length', async () => {
      const dir = copy('c10-names');
      fs.writeFileSync(path.join(dir, 'batches.meta.txt'), 'a\nb\n');
      await expect(readRawDataset({ dataset: 'cifar10', dataPath: dir })).rejects.toThrow(/batches\.meta\.txt: lists 2 class names, expected 10/);
    });

    test('a truncated archive', async () => {
      const archive = path.join(root, 'truncated.tar.gz');
      await writeTarGz(archive, path.dirname(c10.dir), 'cifar-10-batches-bin');
      const bytes = fs.readFileSync(archive);
      fs.writeFileSync(archive, bytes.subarray(0, Math.floor(bytes.length / 2)));
      await expect(readRawDataset({ dataset: 'cifar10', dataPath: archive })).rejects.toThrow(
        /truncated\.tar\.gz: (corrupt or truncated archive|.* is missing from the archive)/,
      );
    });

    test('a folder without CIFAR data', async () => {
      const empty = path.join(root, 'empty');
      fs.mkdirSync(empty);
      await expect(readRawDataset({ dataset: 'cifar10', dataPath: empty })).rejects.toThrow(
        /no cifar10 data found \(expected data_batch_1\.bin there or in cifar-10-batches-bin\/, or cifar-10-binary\.tar\.gz\)/,
      );
    });
  });
});

describe('Tiny ImageNet 200', () => {
  const dir = path.join(root, 'tiny-imagenet-200');
  const wnids = ['n02', 'n01', 'n03'];
  const picture = (cls: number, i: number) => smoothImage(3, 64, 64, cls * 10 + i);

  beforeAll(async () => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'wnids.txt'), `${wnids.join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 'words.txt'), 'n01\tgoldfish, Carassius auratus\nn02\ttiger shark\nn03\thammerhead\nn99\tunused\n');
    for (const wnid of wnids) {
      const cls = [...wnids].sort().indexOf(wnid);
      for (let i = 0; i < 2; i++) await writeImage(path.join(dir, 'train', wnid, 'images', `${wnid}_${i}.JPEG`), picture(cls, i), 3, 64, 64);
    }
    const val = ['val_0.JPEG\tn03\t0\t0\t10\t10', 'val_1.JPEG\tn01\t1\t2\t30\t40'];
    fs.mkdirSync(path.join(dir, 'val', 'images'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'val', 'val_annotations.txt'), `${val.join('\n')}\n`);
    await writeImage(path.join(dir, 'val', 'images', 'val_0.JPEG'), picture(2, 5), 3, 64, 64);
    // a grayscale JPEG, as some Tiny ImageNet images are: it must come out with 3 channels
    await writeImage(path.join(dir, 'val', 'images', 'val_1.JPEG'), smoothImage(1, 64, 64, 3), 1, 64, 64);
  });

  test('train folders by sorted wnid, labelled val as the test split, readable names', async () => {
    const raw = await readRawDataset({ dataset: 'tiny-imagenet', dataPath: root });
    expect(raw).toMatchObject({ name: 'tiny-imagenet', channels: 3, height: 64, width: 64 });
    expect(raw.classNames).toEqual(['goldfish', 'tiger shark', 'hammerhead']);
    expect(Array.from(raw.train.labels)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(Array.from(raw.test.labels)).toEqual([2, 0]);
    const size = 3 * 64 * 64;
    const decoded = raw.train.pixels.subarray(3 * size, 4 * size); // class 1, image 1
    const original = picture(1, 1);
    const meanAbs = decoded.reduce((a, v, i) => a + Math.abs(v - original[i]), 0) / size;
    expect(meanAbs).toBeLessThan(3); // JPEG is lossy, but close at quality 100 on a smooth picture
    const gray = raw.test.pixels.subarray(size, 2 * size);
    expect(Array.from(gray.subarray(0, 64 * 64))).toEqual(Array.from(gray.subarray(2 * 64 * 64, 3 * 64 * 64)));
  });

  test('an image that cannot be decoded names the file', async () => {
    const bad = path.join(root, 'tiny-bad');
    fs.cpSync(dir, bad, { recursive: true });
    fs.writeFileSync(path.join(bad, 'train', 'n01', 'images', 'n01_1.JPEG'), 'not a jpeg');
    await expect(readRawDataset({ dataset: 'tiny-imagenet', dataPath: bad })).rejects.toThrow(/n01_1\.JPEG: cannot decode image/);
  });

  test('a val annotation of an unknown class names the line', async () => {
    const bad = path.join(root, 'tiny-badval');
    fs.cpSync(dir, bad, { recursive: true });
    fs.appendFileSync(path.join(bad, 'val', 'val_annotations.txt'), 'val_9.JPEG\tn77\t0\t0\t1\t1\n');
    await expect(readRawDataset({ dataset: 'tiny-imagenet', dataPath: bad })).rejects.toThrow(
      /val_annotations\.txt: line 3 names class 'n77', which is not in wnids\.txt/,
    );
  });
});

describe('image folders', () => {
  const dir = path.join(root, 'folders');
  beforeAll(async () => {
    for (const [ci, cls] of ['cat', 'dog'].entries()) {
      for (let i = 0; i < 5; i++) await writeImage(path.join(dir, cls, `${i}.png`), smoothImage(3, 16, 16, ci * 5 + i), 3, 16, 16);
    }
    fs.writeFileSync(path.join(dir, 'cat', 'notes.txt'), 'ignored: not an image');
  });

  test('one folder per class, sorted, with a seeded holdout, resized', async () => {
    const raw = await readRawDataset({ dataset: 'imagefolder', dataPath: dir, imageSize: 8, testFraction: 0.4, splitSeed: 3 });
    expect(raw).toMatchObject({ classNames: ['cat', 'dog'], channels: 3, height: 8, width: 8 });
    expect(raw.train.labels.length).toBe(6);
    expect(raw.test.labels.length).toBe(4);
    expect(raw.train.pixels.length).toBe(6 * 3 * 64);
    const again = await readRawDataset({ dataset: 'imagefolder', dataPath: dir, imageSize: 8, testFraction: 0.4, splitSeed: 3 });
    expect(Array.from(again.test.pixels)).toEqual(Array.from(raw.test.pixels));
  });

  test('PNG pixels come through exactly at their own size, grayscale on request', async () => {
    const raw = await readRawDataset({ dataset: 'imagefolder', dataPath: dir, imageSize: 16, testFraction: 0.2 });
    const all = [...Array.from({ length: 10 }, (_, k) => smoothImage(3, 16, 16, k))];
    const first = raw.train.pixels.subarray(0, 3 * 256);
    expect(all.some((img) => img.every((v, i) => v === first[i]))).toBe(true);
    const gray = await readRawDataset({ dataset: 'imagefolder', dataPath: dir, imageSize: 16, channels: 1 });
    expect(gray.channels).toBe(1);
    expect(gray.train.pixels.length).toBe(gray.train.labels.length * 256);
  });

  test('train/ and test/ folders are used as the splits', async () => {
    const split = path.join(root, 'split');
    for (const part of ['train', 'test']) {
      for (const cls of ['a', 'b']) await writeImage(path.join(split, part, cls, 'x.png'), randomBytes(3 * 16, 5), 3, 4, 4);
    }
    const raw = await readRawDataset({ dataset: 'imagefolder', dataPath: split, imageSize: 4 });
    expect(raw.classNames).toEqual(['a', 'b']);
    expect(Array.from(raw.train.labels)).toEqual([0, 1]);
    expect(Array.from(raw.test.labels)).toEqual([0, 1]);
    expect(Array.from(raw.test.pixels.subarray(0, 48))).toEqual(Array.from(randomBytes(48, 5)));
  });

  test('an empty class folder names it', async () => {
    const bad = path.join(root, 'empty-class');
    fs.cpSync(dir, bad, { recursive: true });
    fs.mkdirSync(path.join(bad, 'emu'));
    await expect(readRawDataset({ dataset: 'imagefolder', dataPath: bad })).rejects.toThrow(/emu: class folder holds no images/);
  });

  test('an image that cannot be decoded names the file', async () => {
    const bad = path.join(root, 'bad-image');
    fs.cpSync(dir, bad, { recursive: true });
    fs.writeFileSync(path.join(bad, 'dog', '3.png'), zlib.gzipSync('nope'));
    await expect(readRawDataset({ dataset: 'imagefolder', dataPath: bad })).rejects.toThrow(/dog\/3\.png: cannot decode image/);
  });
});

describe('options', () => {
  test('an unknown dataset, a missing data path and misplaced options are named', async () => {
    await expect(readRawDataset({ dataset: 'svhn' as never })).rejects.toThrow(/data\.dataset: .*\(received "svhn"\)/);
    await expect(readRawDataset({ dataset: 'cifar10' })).rejects.toThrow(/dataset 'cifar10' needs a data path \(data\.dataPath\)/);
    await expect(readRawDataset({ dataset: 'cifar10', dataPath: root, imageSize: 32 })).rejects.toThrow(
      "data.imageSize applies only to dataset 'imagefolder', not 'cifar10'",
    );
    await expect(readRawDataset({ dataset: 'mnist', dataPath: root, channels: 1 })).rejects.toThrow(/data\.channels applies only/);
    await expect(readRawDataset({ dataset: 'mnist', dataPath: path.join(root, 'nowhere') })).rejects.toThrow(/nowhere: train-images-idx3-ubyte not found/);
  });
});
