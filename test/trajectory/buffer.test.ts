import * as fs from 'fs';
import * as path from 'path';
import { Dataset, loadDataset } from '../../src/data/dataset';
import { encodeSafetensors, readSafetensors } from '../../src/io/safetensors';
import { convNetForDataset, convNetLayout } from '../../src/model/convnet';
import { BufferEvent, trainExperts } from '../../src/trajectory/buffer';
import { convertBuffer, storageReport } from '../../src/trajectory/convert';
import { listExpertFiles, MCT_FORMAT, MTT_FORMAT, openTrajectory } from '../../src/trajectory/files';
import { MctTrajectory } from '../../src/trajectory/mct';
import { tempDir, writeLearnableMnist } from '../data/fixtures';
import { checkNoLeakedHandles } from '../helpers';

const root = tempDir('buffer');
let dataset: Dataset;
const network = { netWidth: 4, depth: 1 };
const P = () => convNetLayout(convNetForDataset(dataset, network)).numParams;
const base = { epochs: 4, batchSize: 32, trainLimit: 64, seed: 1, waypoints: 3 };

beforeAll(async () => {
  writeLearnableMnist(path.join(root, 'data'));
  dataset = await loadDataset({ dataset: 'mnist', dataPath: path.join(root, 'data'), device: 'cpu' });
});
afterAll(() => {
  dataset.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});
checkNoLeakedHandles(); // the engine's handles of every test are freed (tfjs-node's habit)

describe('the expert buffer', () => {
  const bufferPath = path.join(root, 'buffers');
  let dir: string;

  test('trains E experts with T + 1 checkpoints each, in both forms, with the settings in the metadata', async () => {
    const events: BufferEvent[] = [];
    const result = await trainExperts(dataset, { ...base, numExperts: 2, bufferPath, network }, { onEvent: (e) => events.push(e) });
    dir = result.dir;
    expect(dir).toBe(path.join(bufferPath, 'mnist', 'convnet-d1-w4-instance-relu-avg'));
    expect(result.trained.map((t) => t.expert)).toEqual([0, 1]);
    expect(events.filter((e) => e.type === 'epoch')).toHaveLength(8);
    expect(listExpertFiles(dir, 'mtt')).toHaveLength(2);
    expect(listExpertFiles(dir, 'mct', 3)).toHaveLength(2);

    const mttFile = listExpertFiles(dir, 'mtt')[0];
    const content = readSafetensors(mttFile);
    expect(content.metadata.format).toBe(MTT_FORMAT);
    expect(content.tensors.get('checkpoints')!.shape).toEqual([5, P()]);
    const mtt = openTrajectory(mttFile);
    expect(mtt.info).toMatchObject({
      dataset: 'mnist',
      epochs: 4,
      lrTeacher: 0.01,
      momentum: 0,
      batchSize: 32,
      seed: 1,
      expert: 0,
      dsa: 'color_crop_cutout_flip_scale_rotate',
    });
    expect(mtt.info.trainAccuracy).toHaveLength(4);
    expect(mtt.info.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(content.metadata.param_layout)[0]).toEqual(['features.0.conv.weight', [4, 1, 3, 3]]);

    const mct = openTrajectory(listExpertFiles(dir, 'mct', 3)[0]) as MctTrajectory;
    expect(readSafetensors(mct.file).metadata.format).toBe(MCT_FORMAT);
    expect(mct.data.waypointEpochs).toEqual([0, 2, 4]);
    // the two forms agree at the waypoints: theta_0 exactly, the others as the smoothed means
    expect(Array.from(mct.paramsAt(0))).toEqual(Array.from(mtt.paramsAt(0)));
    const smooth = (a: Float32Array, b: Float32Array) => a.map((v, i) => (v + b[i]) / 2);
    const near = (a: Float32Array, b: Float32Array) => a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 6));
    near(mct.paramsAt(2), smooth(mtt.paramsAt(1), mtt.paramsAt(3)));
    near(mct.paramsAt(4), smooth(mtt.paramsAt(3), mtt.paramsAt(4)));
    // written directly while training = converted from the MTT file afterwards
    const converted = path.join(root, 'converted');
    fs.mkdirSync(converted);
    fs.copyFileSync(mttFile, path.join(converted, path.basename(mttFile)));
    await convertBuffer(converted, 3);
    const again = openTrajectory(listExpertFiles(converted, 'mct', 3)[0]) as MctTrajectory;
    expect(Array.from(again.data.waypoints)).toEqual(Array.from(mct.data.waypoints));
    expect(Array.from(again.data.fractions)).toEqual(Array.from(mct.data.fractions));
  });

  test("convexify.py's scheme (explicit waypoint epochs): streamed while training = converted from the MTT file", async () => {
    const plan = { scheme: 'convexify' as const, epochs: [0, 1, 4] };
    const other = path.join(root, 'convexify');
    const result = await trainExperts(dataset, { ...base, numExperts: 1, bufferPath: other, network, waypointEpochs: [0, 1, 4] });
    const streamed = openTrajectory(listExpertFiles(result.dir, 'mct', plan)[0]) as MctTrajectory;
    expect(path.basename(streamed.file)).toBe('expert_000.mct-0-1-4.safetensors');
    expect(streamed.data.waypointEpochs).toEqual([0, 1, 4]);
    const mtt = openTrajectory(listExpertFiles(result.dir, 'mtt')[0]);
    // waypoint 1 = theta_1/2 + (theta_0 + theta_2)/4; last = theta_4/2 + (theta_2 + theta_3)/4
    const w1 = mtt.paramsAt(1).map((v, i) => v / 2 + (mtt.paramsAt(0)[i] + mtt.paramsAt(2)[i]) / 4);
    streamed.waypoint(1).forEach((v, i) => expect(v).toBeCloseTo(w1[i], 6));
    const converted = path.join(root, 'convexify-converted');
    fs.mkdirSync(converted);
    fs.copyFileSync(mtt.file, path.join(converted, path.basename(mtt.file)));
    await convertBuffer(converted, plan);
    const again = openTrajectory(listExpertFiles(converted, 'mct', plan)[0]) as MctTrajectory;
    expect(Array.from(again.data.waypoints)).toEqual(Array.from(streamed.data.waypoints));
    expect(Array.from(again.data.fractions)).toEqual(Array.from(streamed.data.fractions));
    // a run that asks for other waypoints does not take this file
    expect(() => openTrajectory(streamed.file, { dataset: 'mnist', convnet: mtt.info.convnet, waypoints: 3 })).toThrow(
      /holds waypoints at epochs 0, 1, 4 \(convexify\.py\), but the run asks for K = 3 uniform waypoints/,
    );
  });

  test('the preprocessing is part of an expert: recorded, and experts of the old ZCA rule are refused', async () => {
    const file = listExpertFiles(dir, 'mtt')[0];
    const mtt = openTrajectory(file);
    expect(mtt.info.preprocessing).toEqual(dataset.preprocessing);
    // an expert written before the preprocessing was recorded, trained with ZCA
    const content = readSafetensors(file);
    const legacy = JSON.parse(content.metadata.trajmatch_expert);
    delete legacy.preprocessing;
    legacy.zca = true;
    const old = path.join(root, 'old-zca.mtt.safetensors');
    const values = new Float32Array(new Uint8Array(content.tensors.get('checkpoints')!.bytes).buffer);
    fs.writeFileSync(old, encodeSafetensors({ checkpoints: { values, shape: [5, P()] } }, { ...content.metadata, trajmatch_expert: JSON.stringify(legacy) }));
    const expected = { dataset: 'mnist', convnet: mtt.info.convnet, zca: true, preprocessing: { normalize: null, zca: { eps: 0.1 } } };
    expect(() => openTrajectory(old, expected)).toThrow(
      /old-zca\.mtt\.safetensors: it was trained before ZCA followed the published rule \(its ZCA was fitted on mean\/std-normalised pixels, not on the raw \[0, 1\] pixels\); retrain the experts/,
    );
    // and an expert of other inputs is refused, saying which
    expect(() => openTrajectory(file, { ...expected, zca: false, preprocessing: { normalize: { mean: [0.5], std: [0.5] }, zca: null } })).toThrow(
      /its inputs were preprocessed by normalisation with mean 0\.1307 and std 0\.3081, not normalisation with mean 0\.5 and std 0\.5/,
    );
  });

  test('the experts learn: the last train accuracy beats the first', () => {
    const mtt = openTrajectory(listExpertFiles(dir, 'mtt')[1]);
    expect(mtt.info.trainAccuracy.at(-1)!).toBeGreaterThan(mtt.info.trainAccuracy[0]);
  });

  test('a second run resumes at the next expert without redoing finished ones', async () => {
    const before = fs.statSync(listExpertFiles(dir, 'mtt')[0]).mtimeMs;
    const result = await trainExperts(dataset, { ...base, numExperts: 3, bufferPath, network });
    expect(result.skipped).toEqual([0, 1]);
    expect(result.trained.map((t) => t.expert)).toEqual([2]);
    expect(fs.statSync(listExpertFiles(dir, 'mtt')[0]).mtimeMs).toBe(before);
  });

  test('an interrupted run keeps the finished experts and loses at most the one in progress', async () => {
    const other = path.join(root, 'interrupted');
    const ac = new AbortController();
    const run = trainExperts(
      dataset,
      { ...base, numExperts: 3, bufferPath: other, network },
      {
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type === 'epoch' && e.expert === 1 && e.epoch === 2) ac.abort(new Error('stop'));
        },
      },
    );
    await expect(run).rejects.toMatchObject({ name: 'TrajmatchInterrupted', operation: 'trainExperts', iteration: 1, cause: new Error('stop') });
    const d = path.join(other, 'mnist', 'convnet-d1-w4-instance-relu-avg');
    expect(fs.readdirSync(d).sort()).toEqual(['expert_000.mct3.safetensors', 'expert_000.mtt.safetensors']);
    // a run killed between its two writes left only the MTT file: the MCT form is derived, not retrained
    fs.rmSync(path.join(d, 'expert_000.mct3.safetensors'));
    const events: BufferEvent[] = [];
    const resumed = await trainExperts(dataset, { ...base, numExperts: 3, bufferPath: other, network }, { onEvent: (e) => events.push(e) });
    expect(events.find((e) => e.type === 'expert' && e.expert === 0)).toMatchObject({ converted: true });
    expect(resumed.trained.map((t) => t.expert)).toEqual([1, 2]);
  });

  test('storage of both forms is reported', async () => {
    const report = storageReport(dir, 3);
    expect(report.experts).toBe(3);
    const mttBytes = listExpertFiles(dir, 'mtt').reduce((a, f) => a + fs.statSync(f).size, 0);
    expect(report.mttBytes).toBe(mttBytes);
    expect(report.ratio).toBeCloseTo(report.mttBytes / report.mctBytes, 10);
  });

  describe('bad input', () => {
    test('other settings in the same buffer folder are refused, naming the file', async () => {
      await expect(trainExperts(dataset, { ...base, epochs: 5, numExperts: 1, bufferPath, network })).rejects.toThrow(
        /expert_000\.mtt\.safetensors: this buffer was trained with other settings \(epochs 4, not 5\)/,
      );
      // the training subset is part of an expert: another train limit (or none) is another buffer
      await expect(trainExperts(dataset, { ...base, trainLimit: 50, numExperts: 1, bufferPath, network })).rejects.toThrow(
        /expert_000\.mtt\.safetensors: this buffer was trained with other settings \(trainLimit 64, not 50\)/,
      );
      await expect(trainExperts(dataset, { ...base, trainLimit: undefined, numExperts: 1, bufferPath, network })).rejects.toThrow(
        /\(trainLimit 64, not null\)/,
      );
    });

    test('a trajectory from another dataset or network is refused, naming the file', () => {
      const file = listExpertFiles(dir, 'mct', 3)[0];
      const other = convNetForDataset({ channels: 3, height: 32, width: 32, numClasses: 10 });
      expect(() => openTrajectory(file, { dataset: 'cifar10', convnet: other })).toThrow(
        /expert_000\.mct3\.safetensors: this expert does not fit the run: it was trained on mnist, not cifar10; its network is ConvNet depth 1 width 4/,
      );
    });

    test('corrupt, truncated and diverged files are named', () => {
      const file = listExpertFiles(dir, 'mtt')[2];
      const bytes = fs.readFileSync(file);
      const truncated = path.join(root, 'truncated.mtt.safetensors');
      fs.writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
      expect(() => openTrajectory(truncated)).toThrow(/truncated\.mtt\.safetensors: not a valid safetensors file: tensor checkpoints ends at byte/);

      const content = readSafetensors(file);
      const values = new Float32Array(new Uint8Array(content.tensors.get('checkpoints')!.bytes).buffer);
      values[P() * 3 + 7] = NaN;
      const nan = path.join(root, 'nan.mtt.safetensors');
      fs.writeFileSync(nan, encodeSafetensors({ checkpoints: { values, shape: [5, P()] } }, content.metadata));
      expect(() => openTrajectory(nan)).toThrow('nan.mtt.safetensors: the checkpoint of epoch 3 holds a non-finite value at parameter 7');

      const plain = path.join(root, 'plain.safetensors');
      fs.writeFileSync(plain, encodeSafetensors({ x: { values: new Float32Array(2), shape: [2] } }));
      expect(() => openTrajectory(plain)).toThrow(/plain\.safetensors: not a trajmatch expert file/);
    });

    test('more waypoints than the trajectory has epochs', async () => {
      await expect(trainExperts(dataset, { ...base, numExperts: 1, waypoints: 9, bufferPath: path.join(root, 'k'), network })).rejects.toThrow(
        'waypoints: 9 waypoints need at least 8 epochs, the trajectory has 4',
      );
    });

    test('unknown options are named', async () => {
      await expect(trainExperts(dataset, { numExpert: 2 } as never)).rejects.toThrow(/unknown option\(s\) buffer\.numExpert/);
      await expect(trainExperts(dataset, { network: { norm: 'batchnorm' } } as never)).rejects.toThrow(/network\.norm/);
    });
  });
});
