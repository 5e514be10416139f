import * as fs from 'fs';
import * as path from 'path';
import { Dataset, loadDataset } from '../../src/data/dataset';
import { evaluateSetOnArch, randomRealSubset } from '../../src/eval/protocol';
import { convNetForDataset } from '../../src/model/convnet';
import { disposeAll } from '../../src';
import { tempDir, writeLearnableMnist, writeMnist } from '../data/fixtures';
import { checkNoLeakedHandles } from '../helpers';

const root = tempDir('arch');
let small: Dataset;
let mnist: Dataset;
beforeAll(async () => {
  writeLearnableMnist(path.join(root, 'small'), 300, 100);
  small = await loadDataset({ dataset: 'mnist', dataPath: path.join(root, 'small'), device: 'cpu' });
  writeMnist(path.join(root, 'mnist'), { nTrain: 20, nTest: 10 });
  mnist = await loadDataset({ dataset: 'mnist', dataPath: path.join(root, 'mnist'), device: 'cpu' });
});
afterAll(() => {
  small.dispose();
  mnist.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});
checkNoLeakedHandles(); // the engine's handles of every test are freed (tfjs-node's habit)

describe('cross-architecture evaluation', () => {
  test.each(['alexnet', 'resnet18'] as const)(
    '%s learns from a small real set and beats chance on the test split',
    async (arch) => {
      const set = randomRealSubset(small, 10, 1);
      const r = await evaluateSetOnArch(small, { ...set, lr: 0.01 }, arch, convNetForDataset(small), { numEval: 1, epochs: 8, batchSize: 10, dsa: null });
      expect(r.accuracies).toHaveLength(1);
      expect(r.mean).toBeGreaterThan(0.3); // chance is 0.1
      disposeAll(set.images, set.labels);
    },
    240000,
  ); // 30 epochs of a real CNN: minutes on 2 busy cores

  test('every architecture takes 28x28 single-channel images, repeatably by seed', async () => {
    const set = randomRealSubset(mnist, 1, 1);
    for (const arch of ['alexnet', 'vgg11', 'resnet18', 'convnet'] as const) {
      const options = { numEval: 1, epochs: 2, seed: 4 };
      const a = await evaluateSetOnArch(mnist, { ...set, lr: 0.01 }, arch, convNetForDataset(mnist, { netWidth: 8 }), options);
      const b = await evaluateSetOnArch(mnist, { ...set, lr: 0.01 }, arch, convNetForDataset(mnist, { netWidth: 8 }), options);
      expect(a.mean).toBeGreaterThanOrEqual(0);
      expect(a.mean).toBeLessThanOrEqual(1);
      expect(b.accuracies).toEqual(a.accuracies);
    }
    disposeAll(set.images, set.labels);
  });

  test('an unknown architecture and images too small for one are named', async () => {
    const set = randomRealSubset(small, 1, 1);
    await expect(evaluateSetOnArch(small, { ...set, lr: 0.01 }, 'lenet' as never, convNetForDataset(small))).rejects.toThrow(
      'Expected one of convnet, alexnet, vgg11, resnet18 for arch but received "lenet"',
    );
    await expect(evaluateSetOnArch(small, { ...set, lr: 0.01 }, 'vgg11', convNetForDataset(small), { numEval: 1, epochs: 1 })).rejects.toThrow(
      'createNetwork: vgg11: the images are too small for its pooling layers',
    );
    disposeAll(set.images, set.labels);
  });
});
