import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import { Dataset, loadDataset } from '../../src/data/dataset';
import { evaluateSet, randomRealSubset } from '../../src/eval/protocol';
import { convNetForDataset, convNetForward } from '../../src/model/convnet';
import { DistillDiverged, DistillEvent, distillDataset, DistillInterrupted } from '../../src/distill/run';
import { bufferDir, trainExperts } from '../../src/trajectory/buffer';
import { readSyntheticSet } from '../../src/synthetic/file';
import { disposeAll, tensor, TrajmatchInputError } from '../../src';
import { expertFor } from '../../src/distill/sampling';
import { softmaxRows } from '../../src/distill/teacher';
import { listExpertFiles, openTrajectory } from '../../src/trajectory/files';
import { checkNoLeakedHandles } from '../helpers';
import { tempDir, writeLearnableMnist } from '../data/fixtures';

// End to end on a small learnable dataset (10 x 10 images, class c = a bright row c in noise),
// small enough for CI: experts, distillation, evaluation.
const root = tempDir('distill');
let dataset: Dataset;
const network = { netWidth: 8, depth: 2 };
const bufferPath = path.join(root, 'buffers');
const base = {
  ipc: 1,
  synSteps: 8,
  expertEpochs: 2,
  maxStartEpoch: 3,
  lrImg: 10,
  lrLr: 1e-6,
  lrTeacher: 0.01,
  numEval: 2,
  evalEpochs: 150,
  bufferPath,
  waypoints: 3,
};

beforeAll(async () => {
  writeLearnableMnist(path.join(root, 'data'), 500, 300, { noise: 170, signal: 40 });
  dataset = await loadDataset({ dataset: 'mnist', dataPath: path.join(root, 'data'), device: 'cpu' });
  await trainExperts(dataset, { numExperts: 3, epochs: 6, batchSize: 64, waypoints: 3, bufferPath, network, form: 'both' });
}, 120000);
afterAll(() => {
  dataset.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});
checkNoLeakedHandles(); // a run frees its tensors and networks, however it ends

describe('distillation runs', () => {
  test('a distilled set beats the random-real baseline of the same IPC on the same evaluation', async () => {
    const runDir = path.join(root, 'run-mct');
    const result = await distillDataset(dataset, { ...base, method: 'mct', iterations: 40, evalIt: 40, runDir, network });
    expect(result.evals.map((e) => e.iteration)).toEqual([0, 40]);
    const spec = convNetForDataset(dataset, network);
    const baseline = randomRealSubset(dataset, 1, 12345);
    const random = await evaluateSet(dataset, { images: baseline.images, labels: baseline.labels, lr: 0.01 }, spec, { numEval: 2, epochs: 150, seed: 9 });
    disposeAll(baseline.images, baseline.labels);
    const distilled = result.evals[1].mean;
    expect(distilled).toBeGreaterThan(result.evals[0].mean); // the real images it started from
    expect(distilled).toBeGreaterThan(random.mean); // another random real subset

    // the outputs
    const set = await readSyntheticSet(result.files.best);
    expect(set.info).toMatchObject({ dataset: 'mnist', ipc: 1, method: 'mct', zca: false });
    expect(set.labels.length).toBe(10);
    const png = PNG.sync.read(fs.readFileSync(result.files.grid));
    expect(png.width).toBe(10 * (10 * 6 + 2)); // ten classes side by side, drawn 6x larger
    const lines = fs
      .readFileSync(result.files.metrics, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === 'iteration')).toHaveLength(40);
    expect(JSON.parse(fs.readFileSync(result.files.summary, 'utf8'))).toMatchObject({ method: 'mct', gradMethod: 'tesla', ipc: 1 });
  });

  test('the matching loss falls over the iterations', async () => {
    const runDir = path.join(root, 'run-loss');
    const result = await distillDataset(dataset, { ...base, method: 'mtt', iterations: 24, evalIt: 1000, numEval: 1, evalEpochs: 5, runDir, network });
    expect(result.evals.length).toBe(2);
    const losses = fs
      .readFileSync(result.files.metrics, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'iteration')
      .map((l) => l.loss);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(mean(losses.slice(-8))).toBeLessThan(mean(losses.slice(0, 8)));
  });

  test('a killed run resumes from its checkpoint and ends as an uninterrupted one', async () => {
    const options = { ...base, method: 'mct' as const, iterations: 8, evalIt: 1000, numEval: 1, evalEpochs: 3, checkpointEvery: 2, network };
    const straight = await distillDataset(dataset, { ...options, runDir: path.join(root, 'straight') });

    const runDir = path.join(root, 'resumed');
    const ac = new AbortController();
    const first = distillDataset(
      dataset,
      { ...options, runDir },
      {
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type === 'iteration' && e.iteration === 4) ac.abort();
        },
      },
    );
    await expect(first).rejects.toThrow(DistillInterrupted);
    await expect(first).rejects.toThrow(/interrupted at iteration 5/);
    const events: DistillEvent[] = [];
    const resumed = await distillDataset(dataset, { ...options, runDir }, { onEvent: (e) => events.push(e) });
    expect(events[0]).toMatchObject({ type: 'start', resumedAt: 5, lastEval: { iteration: 0 } }); // the checkpoint's last evaluation
    // the final evaluation is announced, then reported
    expect(events.filter((e) => e.type === 'evaluating' || e.type === 'eval').map((e) => [e.type, (e as { iteration: number }).iteration])).toEqual([
      ['evaluating', 8],
      ['eval', 8],
    ]);
    expect(events.filter((e) => e.type === 'iteration').map((e) => (e as { iteration: number }).iteration)).toEqual([5, 6, 7]);
    expect(Array.from((await readSyntheticSet(resumed.files.synthetic)).images)).toEqual(Array.from((await readSyntheticSet(straight.files.synthetic)).images));
    const its = fs
      .readFileSync(resumed.files.metrics, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'iteration')
      .map((l) => l.iteration);
    expect(its).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test("teacher labels: the softmax of the iteration's expert at maxStartEpoch on the images, saved and resumed", async () => {
    // lr_img so small that the images stay (to float precision) those the labels were made from
    const options = { ...base, method: 'mct' as const, lrImg: 1e-12, evalIt: 1000, numEval: 1, evalEpochs: 2, teacherLabel: true, checkpointEvery: 1, network };
    const one = await distillDataset(dataset, { ...options, iterations: 1, runDir: path.join(root, 'teacher-1') });
    const set = await readSyntheticSet(one.files.synthetic);
    expect(set.softLabels).toHaveLength(10 * 10);
    const spec = convNetForDataset(dataset, network);
    const expert = openTrajectory(listExpertFiles(bufferDir(bufferPath, 'mnist', spec, false), 'mct', 3)[expertFor(0, 3, 0)]);
    const images = tensor(set.images, [10, 1, 10, 10]);
    const params = tensor(expert.paramsAt(3), [expert.numParams]);
    const logits = await convNetForward(spec, images, params);
    const want = softmaxRows(logits.toArray() as Float32Array, 10);
    disposeAll(images, params, logits);
    set.softLabels!.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    // the labels are not one-hot: the expert is unsure of some images
    expect(Math.min(...Array.from({ length: 10 }, (_, r) => Math.max(...set.softLabels!.subarray(r * 10, r * 10 + 10))))).toBeLessThan(0.999);

    // a killed run resumes with the soft labels of its checkpoint and ends as an uninterrupted one
    const straight = await distillDataset(dataset, { ...options, lrImg: 10, iterations: 4, runDir: path.join(root, 'teacher-straight') });
    const runDir = path.join(root, 'teacher-resumed');
    const ac = new AbortController();
    await expect(
      distillDataset(
        dataset,
        { ...options, lrImg: 10, iterations: 4, runDir },
        {
          signal: ac.signal,
          onEvent: (e) => {
            if (e.type === 'iteration' && e.iteration === 1) ac.abort();
          },
        },
      ),
    ).rejects.toThrow(DistillInterrupted);
    const resumed = await distillDataset(dataset, { ...options, lrImg: 10, iterations: 4, runDir });
    const a = await readSyntheticSet(straight.files.synthetic);
    const b = await readSyntheticSet(resumed.files.synthetic);
    expect(Array.from(b.softLabels!)).toEqual(Array.from(a.softLabels!));
    expect(Array.from(b.images)).toEqual(Array.from(a.images));
  });

  describe('bad input', () => {
    const quick = { ...base, iterations: 2, evalIt: 1000, numEval: 1, evalEpochs: 1, network };

    test('a stretch beyond the trajectories, a batch larger than the set, an ipc larger than a class', async () => {
      await expect(distillDataset(dataset, { ...quick, method: 'mtt', maxStartEpoch: 6, expertEpochs: 2, runDir: path.join(root, 'x1') })).rejects.toThrow(
        /maxStartEpoch \(6\) \+ expertEpochs \(2\) reaches epoch 7, beyond the 6 epochs of the trajectories/,
      );
      await expect(distillDataset(dataset, { ...quick, batchSyn: 11, runDir: path.join(root, 'x2') })).rejects.toThrow(
        'batchSyn (11) is larger than the synthetic set (1 per class x 10 classes = 10)',
      );
      await expect(distillDataset(dataset, { ...quick, ipc: 51, runDir: path.join(root, 'x3') })).rejects.toThrow(
        'ipc (51) is larger than the smallest class of mnist (50 training images)',
      );
      await expect(distillDataset(dataset, { ...quick, method: 'mtt', expertEpochs: 1.5, runDir: path.join(root, 'x4') })).rejects.toThrow(
        /MTT matches checkpoints at integer epochs/,
      );
    });

    test('no experts for this network', async () => {
      await expect(distillDataset(dataset, { ...quick, network: { netWidth: 16, depth: 2 }, runDir: path.join(root, 'x5') })).rejects.toThrow(
        /no MCT experts in .*convnet-d2-w16-instance-relu-avg \(expected expert_NNN\.mct3\.safetensors\): train them with npm run buffer/,
      );
    });

    test('a loss that becomes NaN stops the run with its own error, naming the options to lower, and keeps the last checkpoint', async () => {
      const runDir = path.join(root, 'nan');
      const run = distillDataset(dataset, { ...quick, iterations: 6, checkpointEvery: 1, lrImg: 1e30, runDir });
      await expect(run).rejects.toThrow(
        /(the matching loss became NaN at iteration \d|the synthetic images became non-finite before iteration \d).*the last checkpoint in .*nan is kept: lower distill\.lrImg/,
      );
      await expect(run).rejects.toBeInstanceOf(DistillDiverged);
      await expect(run).rejects.not.toBeInstanceOf(TrajmatchInputError);
      await expect(run).rejects.toMatchObject({ name: 'DistillDiverged', runDir, options: expect.arrayContaining(['distill.lrImg']) });
      expect(fs.existsSync(path.join(runDir, 'checkpoint.safetensors'))).toBe(true);
    });

    test('a learned lr that falls to zero stops the run the same way', async () => {
      const runDir = path.join(root, 'lr');
      const run = distillDataset(dataset, { ...quick, iterations: 6, checkpointEvery: 1, lrLr: 1e6, runDir });
      await expect(run).rejects.toThrow(
        /the learned student lr became -?[\d.e+-]+ at iteration \d; the last checkpoint in .*lr is kept: lower distill\.lrLr or distill\.lrImg/,
      );
      await expect(run).rejects.toMatchObject({ name: 'DistillDiverged', options: ['distill.lrLr', 'distill.lrImg'] });
    });

    test('a run folder of another run is refused', async () => {
      const runDir = path.join(root, 'straight');
      await expect(distillDataset(dataset, { ...quick, lrImg: 7, runDir })).rejects.toThrow(/this run folder holds a run with other settings/);
    });

    test('unknown options are named', async () => {
      await expect(distillDataset(dataset, { lrImage: 3 } as never)).rejects.toThrow(/unknown option\(s\) distill\.lrImage/);
    });
  });
});
