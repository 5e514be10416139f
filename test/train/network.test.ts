import { convNetInit, convNetSpec } from '../../src/model/convnet';
import { Network } from '../../src/train/network';
import { trainEpoch } from '../../src/train/sgd';
import { evalEpochPlan } from '../../src/eval/protocol';
import { disposeAll, tensor, TrajmatchNativeError } from '../../src';
import { checkNoLeakedHandles, numbers, randomValues } from '../helpers';
import { Tensor } from '../../src/native';

/** Bitwise equality of two tensors' values (jest's deep equality is slow on millions of numbers). */
function same(a: Tensor, b: Tensor): boolean {
  const x = a.toArray();
  const y = b.toArray();
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
}

// Network handles: one epoch per native call, for the ConvNet and the zoo alike.
const spec = convNetSpec({ channels: 1, height: 8, width: 8, numClasses: 3, netWidth: 4, depth: 1 });
const N = 12;
const images = tensor(Float32Array.from(randomValues(N * 64, 7)), [N, 1, 8, 8]);
const labels = tensor(
  BigInt64Array.from({ length: N }, (_, i) => BigInt(i % 3)),
  [N],
);
const epoch = { images, labels, lr: 0.05, momentum: 0.9, weightDecay: 5e-4, batchSize: 5, dsa: 'flip_crop' };
checkNoLeakedHandles();
afterAll(() => disposeAll(images, labels));

describe('network handles', () => {
  test('a ConvNet network starts from convNetInit of its seed and trains as trainEpoch on adopted parameters', async () => {
    const net = await Network.create({ arch: 'convnet', ...spec }, { seed: 11 });
    const init = convNetInit(spec, { seed: 11 });
    const p0 = net.parameters();
    expect(numbers(p0)).toEqual(numbers(init));
    expect(net.numParams).toBe(init.numel);
    const buffer = tensor(new Float32Array(init.numel), [init.numel]);
    for (let e = 0; e < 3; e++) {
      const a = await net.trainEpoch({ ...epoch, seed: e });
      const b = await trainEpoch(spec, { ...epoch, params: init, momentumBuffer: buffer, seed: e });
      expect(a).toEqual(b);
    }
    const p3 = net.parameters();
    expect(numbers(p3)).toEqual(numbers(init));
    expect(numbers(p3)).not.toEqual(numbers(p0));
    net.dispose();
    expect(net.disposed).toBe(true);
    disposeAll(init, buffer, p0, p3);
  });

  test('resetMomentum makes the next epoch start from a zero buffer', async () => {
    const a = await Network.create({ arch: 'convnet', ...spec }, { seed: 3 });
    const b = await Network.create({ arch: 'convnet', ...spec }, { seed: 3 });
    await a.trainEpoch({ ...epoch, seed: 1 });
    await b.trainEpoch({ ...epoch, seed: 1 });
    const after1 = a.parameters();
    a.resetMomentum();
    await a.trainEpoch({ ...epoch, seed: 2 });
    await b.trainEpoch({ ...epoch, seed: 2 });
    // the same second epoch from the same parameters with a fresh buffer
    const fresh = tensor(new Float32Array(after1.numel), [after1.numel]);
    const c = await Network.adopt(spec, after1, fresh);
    await c.trainEpoch({ ...epoch, seed: 2 });
    const pa = a.parameters();
    const pb = b.parameters();
    expect(numbers(pa)).toEqual(numbers(after1));
    expect(numbers(pb)).not.toEqual(numbers(pa)); // without the reset, the momentum carries over
    disposeAll(pa, pb, after1, fresh);
    for (const n of [a, b, c]) n.dispose();
  });

  test.each(['alexnet', 'vgg11', 'resnet18'] as const)('%s: seeded, trained per epoch, evaluated without changing', async (arch) => {
    const zoo = { arch, channels: 1, height: 32, width: 32, numClasses: 3 };
    const x = tensor(Float32Array.from(randomValues(6 * 1024, 9)), [6, 1, 32, 32]);
    const y = tensor(
      BigInt64Array.from({ length: 6 }, (_, i) => BigInt(i % 3)),
      [6],
    );
    const a = await Network.create(zoo, { seed: 5 });
    const b = await Network.create(zoo, { seed: 5 });
    const pa = a.parameters();
    const pb = b.parameters();
    expect(same(pa, pb)).toBe(true);
    const s1 = await a.trainEpoch({ images: x, labels: y, lr: 0.01, momentum: 0.9, weightDecay: 5e-4, batchSize: 4, seed: 1 });
    const s2 = await b.trainEpoch({ images: x, labels: y, lr: 0.01, momentum: 0.9, weightDecay: 5e-4, batchSize: 4, seed: 1 });
    expect(s1).toEqual(s2);
    expect(s1.count).toBe(6);
    const trained = a.parameters();
    expect(same(trained, pa)).toBe(false);
    const e1 = await a.evaluate({ images: x, labels: y });
    const e2 = await a.evaluate({ images: x, labels: y, batchSize: 2 });
    expect(e2.accuracy).toBeCloseTo(e1.accuracy, 12);
    expect(e2.loss).toBeCloseTo(e1.loss, 5);
    const still = a.parameters();
    expect(same(still, trained)).toBe(true);
    disposeAll(x, y, pa, pb, trained, still);
    a.dispose();
    b.dispose();
  });

  test('bad calls are refused with the method named', async () => {
    const net = await Network.create({ arch: 'convnet', ...spec }, { seed: 1 });
    const wrong = tensor(new Float32Array(N * 16), [N, 1, 4, 4]);
    const bad = net.trainEpoch({ ...epoch, images: wrong, seed: 0 });
    await expect(bad).rejects.toThrow('Network.trainEpoch: images must have shape [N, 1, 8, 8], received [12, 1, 4, 4]');
    await expect(bad).rejects.toMatchObject({ name: 'TrajmatchNativeError', operation: 'Network.trainEpoch' });
    await expect(bad).rejects.toBeInstanceOf(TrajmatchNativeError);
    // two epochs at once on one network would race on its parameters
    const first = net.trainEpoch({ ...epoch, seed: 0 });
    await expect(net.trainEpoch({ ...epoch, seed: 1 })).rejects.toThrow(/Network\.trainEpoch: trainEpoch: another call on this network is still running/);
    expect(() => net.parameters()).toThrow(/another call on this network is still running/);
    await first;
    net.dispose();
    await expect(net.evaluate({ images, labels })).rejects.toThrow(/Network\.evaluate: evaluate: the Network handle was disposed/);
    await expect(Network.create({ arch: 'lenet' } as never, { seed: 0 })).rejects.toThrow(
      /createNetwork: network.channels is missing|createNetwork: unknown architecture/,
    );
    await expect(Network.create({ arch: 'vgg11', channels: 1, height: 8, width: 8, numClasses: 3 }, { seed: 0 })).rejects.toThrow(
      'createNetwork: vgg11: the images are too small for its pooling layers',
    );
    const short = tensor(new Float32Array(3), [3]);
    await expect(Network.adopt(spec, short)).rejects.toThrow(/createNetwork: params must have shape \[\d+\], received \[3\]/);
    disposeAll(wrong, short);
  });
});

describe('the evaluation schedule', () => {
  test("evaluate_synset's epochs + 1 epochs, the lr falls tenfold after epoch E / 2 + 1, the momentum restarted there", () => {
    const plan = evalEpochPlan(5, 0.02);
    expect(plan.map((p) => +p.lr.toFixed(12))).toEqual([0.02, 0.02, 0.02, 0.02, 0.002, 0.002]);
    expect(plan.map((p) => p.restartMomentum)).toEqual([false, false, false, false, true, false]);
    expect(evalEpochPlan(1, 0.1)).toEqual([
      { lr: 0.1, restartMomentum: false },
      { lr: 0.1, restartMomentum: false },
    ]);
  });
});
