import * as fs from 'fs';
import * as path from 'path';
import { Dataset, loadDataset } from '../../src/data/dataset';
import { encodeSafetensors } from '../../src/io/safetensors';
import { convNetForDataset } from '../../src/model/convnet';
import { evaluateSet, meanStd, randomRealSubset } from '../../src/eval/protocol';
import { readSyntheticSet, SyntheticInfo, writeSyntheticSet } from '../../src/synthetic/file';
import { disposeAll } from '../../src';
import { checkNoLeakedHandles, numbers } from '../helpers';
import { tempDir, writeLearnableMnist } from '../data/fixtures';

const root = tempDir('eval');
let dataset: Dataset;
beforeAll(async () => {
  writeLearnableMnist(path.join(root, 'data'), 300, 200);
  dataset = await loadDataset({ dataset: 'mnist', dataPath: path.join(root, 'data'), device: 'cpu' });
});
afterAll(() => {
  dataset.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});
checkNoLeakedHandles(); // the engine's handles of every test are freed (tfjs-node's habit)

describe('the evaluation protocol', () => {
  test('mean and population std', () => {
    expect(meanStd([0.5, 0.7])).toEqual({ mean: 0.6, std: expect.closeTo(0.1, 12) });
  });

  test('a random real subset holds ipc images of each class', () => {
    const { images, labels, indices } = randomRealSubset(dataset, 3, 7);
    expect(images.shape).toEqual([30, 1, 10, 10]);
    const l = numbers(labels);
    expect(l).toEqual(Array.from({ length: 30 }, (_, i) => Math.floor(i / 3)));
    indices.forEach((idx, i) => expect(dataset.train.labelValues[idx]).toBe(l[i]));
    expect(() => randomRealSubset(dataset, 31, 0)).toThrow('ipc 31 is larger than class 0 (0), which has 30 training images');
    for (const bad of [-1, 0, 1.5, Number.NaN])
      expect(() => randomRealSubset(dataset, bad, 0)).toThrow(`ipc must be a positive integer (images per class), received ${bad}`);
    disposeAll(images, labels);
  });

  test('fresh networks trained on a small set beat chance on the test split, repeatably', async () => {
    const spec = convNetForDataset(dataset, { netWidth: 8, depth: 1 });
    const subset = randomRealSubset(dataset, 5, 1);
    const options = { numEval: 2, epochs: 60, batchSize: 256, seed: 3 };
    const a = await evaluateSet(dataset, { ...subset, lr: 0.01 }, spec, options);
    expect(a.accuracies).toHaveLength(2);
    expect(a.mean).toBeGreaterThan(0.5); // chance is 0.1
    expect(a.std).toBeGreaterThanOrEqual(0);
    const b = await evaluateSet(dataset, { ...subset, lr: 0.01 }, spec, options);
    expect(b.accuracies).toEqual(a.accuracies);
    disposeAll(subset.images, subset.labels);
  });

  test('bad settings are refused', async () => {
    const spec = convNetForDataset(dataset, { netWidth: 8, depth: 1 });
    const subset = randomRealSubset(dataset, 1, 1);
    await expect(evaluateSet(dataset, { ...subset, lr: -1 }, spec)).rejects.toThrow('Expected a positive number for the evaluation lr but received -1');
    await expect(evaluateSet(dataset, { ...subset, lr: 0.01 }, spec, { numEval: 0 })).rejects.toThrow(/eval\.numEval/);
    disposeAll(subset.images, subset.labels);
  });
});

describe('synthetic set files', () => {
  const info: SyntheticInfo = { dataset: 'mnist', ipc: 1, classNames: ['a', 'b'], channels: 1, height: 2, width: 2, zca: false, method: 'real' };
  const images = Float32Array.from({ length: 8 }, (_, i) => i / 8);

  test('round-trip images, labels, the learned lr and the info', async () => {
    const file = path.join(root, 'set.safetensors');
    await writeSyntheticSet(file, { images, labels: Int32Array.from([0, 1]), lr: 0.02, info });
    const set = await readSyntheticSet(file);
    expect(Array.from(set.images)).toEqual(Array.from(images));
    expect(Array.from(set.labels)).toEqual([0, 1]);
    expect(set.lr).toBeCloseTo(0.02, 7);
    expect(set.info).toEqual(info);
  });

  test('broken sets are errors naming the file', async () => {
    const write = (name: string, tensors: Parameters<typeof encodeSafetensors>[0], meta: Record<string, string>) => {
      const file = path.join(root, name);
      fs.writeFileSync(file, encodeSafetensors(tensors, meta));
      return file;
    };
    const meta = { format: 'trajmatch.synthetic/1', trajmatch_synthetic: JSON.stringify(info) };
    const good = {
      images: { values: images, shape: [2, 1, 2, 2] },
      labels: { values: BigInt64Array.from([0n, 1n]), shape: [2] },
      lr: { values: Float32Array.of(0.01), shape: [] },
    };
    await expect(readSyntheticSet(write('a.safetensors', { ...good, labels: { values: BigInt64Array.from([0n, 5n]), shape: [2] } }, meta))).rejects.toThrow(
      /a\.safetensors: labels\[1\] is 5, expected a class index in \[0, 2\)/,
    );
    // 2^40 must not wrap to class 0 when narrowed, and -100 (PyTorch's ignore_index) is no class either
    for (const bad of [1n << 40n, -100n]) {
      await expect(readSyntheticSet(write('w.safetensors', { ...good, labels: { values: BigInt64Array.from([bad, 1n]), shape: [2] } }, meta))).rejects.toThrow(
        `labels[0] is ${bad}, expected a class index in [0, 2)`,
      );
    }
    await expect(readSyntheticSet(write('b.safetensors', { ...good, lr: { values: Float32Array.of(-1), shape: [] } }, meta))).rejects.toThrow(
      /b\.safetensors: the learned lr is -1/,
    );
    await expect(readSyntheticSet(write('c.safetensors', good, { format: 'other' }))).rejects.toThrow(/c\.safetensors: not a trajmatch synthetic set/);
    await expect(readSyntheticSet(write('d.safetensors', { ...good, images: { values: images, shape: [1, 2, 2, 2] } }, meta))).rejects.toThrow(
      /d\.safetensors: images are 2x2x2 but the metadata says 1x2x2/,
    );
  });
});
