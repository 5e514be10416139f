import * as fs from 'fs';
import * as path from 'path';
import { Dataset, loadDataset } from '../../src/data/dataset';
import { convNetForDataset } from '../../src/model/convnet';
import { evaluateSet, evaluateSetOnArch, randomRealSubset } from '../../src/eval/protocol';
import { evalSchedule } from '../../src/eval/schedule';
import { Network } from '../../src/train/network';
import { disposeAll } from '../../src';
import { tempDir, writeLearnableMnist } from '../data/fixtures';

/** evaluate_synset's loop as the published utils.py runs it: the lr of each epoch, and where a new optimiser starts. */
function publishedLoop(epochEvalTrain: number): { lrs: number[]; freshOptimiser: number[] } {
  const lrSchedule = [Math.floor(epochEvalTrain / 2) + 1];
  let lr = 1;
  const lrs: number[] = [];
  const freshOptimiser = [0];
  for (let ep = 0; ep < epochEvalTrain + 1; ep++) {
    lrs.push(lr);
    if (lrSchedule.includes(ep)) {
      lr *= 0.1;
      freshOptimiser.push(ep + 1);
    }
  }
  return { lrs, freshOptimiser: freshOptimiser.filter((e) => e < lrs.length) };
}

describe("evaluate_synset's schedule", () => {
  test('epoch_eval_train 1000: 502 epochs at the lr, then 499 at a tenth, with a fresh optimiser', () => {
    expect(evalSchedule(1000)).toEqual([
      { epochs: 502, lrScale: 1 },
      { epochs: 499, lrScale: 0.1 },
    ]);
  });

  test('matches the published loop for every epoch count up to 300', () => {
    for (let n = 1; n <= 300; n++) {
      const phases = evalSchedule(n);
      const lrs = phases.flatMap((p) => Array(p.epochs).fill(p.lrScale));
      const starts = phases.map((_, i) => phases.slice(0, i).reduce((a, p) => a + p.epochs, 0));
      const want = publishedLoop(n);
      expect(lrs.map((v) => +v.toFixed(12))).toEqual(want.lrs.map((v) => +v.toFixed(12)));
      expect(starts).toEqual(want.freshOptimiser);
    }
    // short schedules never reach the decay: the published loop decays after its last epoch
    expect(evalSchedule(1)).toEqual([{ epochs: 2, lrScale: 1 }]);
    expect(evalSchedule(2)).toEqual([{ epochs: 3, lrScale: 1 }]);
    expect(evalSchedule(3)).toEqual([
      { epochs: 3, lrScale: 1 },
      { epochs: 1, lrScale: 0.1 },
    ]);
    expect(() => evalSchedule(0)).toThrow('evaluation epochs must be a positive integer, received 0');
  });
});

describe('the protocol runs that schedule', () => {
  const root = tempDir('schedule');
  let dataset: Dataset;
  beforeAll(async () => {
    writeLearnableMnist(path.join(root, 'data'), 100, 40);
    dataset = await loadDataset({ dataset: 'mnist', dataPath: path.join(root, 'data'), device: 'cpu' });
  });
  afterAll(() => {
    dataset.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** The protocol's epochs on its network handles: the lr of each, and where the momentum was zeroed before it. */
  function watchEpochs() {
    const calls: { lr: number; freshMomentum: boolean }[] = [];
    let reset = true; // a fresh network starts with zero momentum
    const { trainEpoch, resetMomentum } = Network.prototype;
    const train = jest.spyOn(Network.prototype, 'trainEpoch').mockImplementation(function (this: Network, o) {
      calls.push({ lr: o.lr, freshMomentum: reset });
      reset = false;
      return trainEpoch.call(this, o);
    });
    const zero = jest.spyOn(Network.prototype, 'resetMomentum').mockImplementation(function (this: Network) {
      reset = true;
      resetMomentum.call(this);
    });
    return {
      calls,
      restore: () => {
        train.mockRestore();
        zero.mockRestore();
      },
    };
  }

  test('ConvNet: epochs + 1 epochs, the lr decayed after epoch epochs/2 + 1, the momentum buffer zero again there', async () => {
    const spec = convNetForDataset(dataset, { netWidth: 4, depth: 1 });
    const subset = randomRealSubset(dataset, 2, 1);
    const watch = watchEpochs();
    try {
      await evaluateSet(dataset, { ...subset, lr: 0.02 }, spec, { numEval: 1, epochs: 6 });
    } finally {
      watch.restore();
    }
    // 7 epochs: 0..4 at 0.02 (the decay follows epoch 6 // 2 + 1 = 4), 5..6 at 0.002
    expect(watch.calls.map((c) => +c.lr.toFixed(10))).toEqual([0.02, 0.02, 0.02, 0.02, 0.02, 0.002, 0.002]);
    expect(watch.calls.map((c) => c.freshMomentum)).toEqual([true, false, false, false, false, true, false]);
    disposeAll(subset.images, subset.labels);
  });

  test('other architectures get the same phases, through the same protocol', async () => {
    const spec = convNetForDataset(dataset, { netWidth: 4, depth: 1 });
    const subset = randomRealSubset(dataset, 1, 1);
    const watch = watchEpochs();
    let r;
    try {
      r = await evaluateSetOnArch(dataset, { ...subset, lr: 0.01 }, 'alexnet', spec, { numEval: 1, epochs: 3 });
    } finally {
      watch.restore();
    }
    expect(r.accuracies).toHaveLength(1);
    expect(watch.calls.map((c) => c.lr)).toEqual([0.01, 0.01, 0.01, expect.closeTo(0.001, 12)]);
    expect(watch.calls.map((c) => c.freshMomentum)).toEqual([true, false, false, true]);
    disposeAll(subset.images, subset.labels);
  });
});
