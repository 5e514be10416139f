import { convNetForward, convNetInit, convNetLayout, convNetSpec } from '../../src/model/convnet';
import { evaluate, trainEpoch } from '../../src/train/sgd';
import { disposeAll, tensor } from '../../src';
import { numbers, randomValues } from '../helpers';

// A tiny ConvNet in float64 so that finite differences are exact enough to check the update rule.
const spec = convNetSpec({ channels: 1, height: 4, width: 4, numClasses: 3, netWidth: 2, depth: 1 });
const { numParams } = convNetLayout(spec);
const N = 6;
const images = tensor(randomValues(N * 16, 51), [N, 1, 4, 4]);
const labels = tensor(new BigInt64Array([0n, 1n, 2n, 0n, 1n, 2n]), [N]);
afterAll(() => disposeAll(images, labels));

/** Gradient of the mean loss over the whole set by central differences of evaluate(). */
async function fdGradient(p: number[]): Promise<number[]> {
  const eps = 1e-6;
  const loss = async (v: number[]) => {
    const t = tensor(Float64Array.from(v), [numParams]);
    const r = await evaluate(spec, { params: t, images, labels });
    t.dispose();
    return r.loss;
  };
  const g: number[] = [];
  for (let k = 0; k < p.length; k++) {
    const plus = [...p];
    const minus = [...p];
    plus[k] += eps;
    minus[k] -= eps;
    g.push(((await loss(plus)) - (await loss(minus))) / (2 * eps));
  }
  return g;
}

describe('training epochs', () => {
  test("full-batch epochs follow PyTorch's SGD rule with weight decay and momentum", async () => {
    const lr = 0.1;
    const momentum = 0.9;
    const weightDecay = 0.01;
    const params = convNetInit(spec, { seed: 3, dtype: 'float64' });
    const buffer = tensor(new Float64Array(numParams), [numParams]);
    const p0 = numbers(params);
    const opts = { params, momentumBuffer: buffer, images, labels, lr, momentum, weightDecay, batchSize: N, seed: 1 };

    await trainEpoch(spec, opts);
    const g0 = await fdGradient(p0);
    const b1 = g0.map((g, i) => g + weightDecay * p0[i]);
    const p1 = p0.map((p, i) => p - lr * b1[i]);
    numbers(params).forEach((v, i) => expect(v).toBeCloseTo(p1[i], 7));

    await trainEpoch(spec, opts);
    const g1 = await fdGradient(p1);
    const b2 = g1.map((g, i) => momentum * b1[i] + g + weightDecay * p1[i]);
    const p2 = p1.map((p, i) => p - lr * b2[i]);
    numbers(params).forEach((v, i) => expect(v).toBeCloseTo(p2[i], 6));
    numbers(buffer).forEach((v, i) => expect(v).toBeCloseTo(b2[i], 6));
    disposeAll(params, buffer);
  });

  test('the loss falls and the same seed repeats the same epoch', async () => {
    const a = convNetInit(spec, { seed: 4 });
    const b = convNetInit(spec, { seed: 4 });
    const x = images.to({ dtype: 'float32' });
    const losses: number[] = [];
    for (let e = 0; e < 15; e++) {
      const stats = await trainEpoch(spec, { params: a, images: x, labels, lr: 0.1, batchSize: 2, dsa: 'flip', seed: e });
      losses.push(stats.loss);
      expect(stats.count).toBe(N);
      await trainEpoch(spec, { params: b, images: x, labels, lr: 0.1, batchSize: 2, dsa: 'flip', seed: e });
    }
    expect(losses.at(-1)!).toBeLessThan(losses[0]);
    expect(numbers(a)).toEqual(numbers(b));
    const c = convNetInit(spec, { seed: 4 });
    await trainEpoch(spec, { params: c, images: x, labels, lr: 0.1, batchSize: 2, dsa: 'flip', seed: 99 });
    const a1 = convNetInit(spec, { seed: 4 });
    await trainEpoch(spec, { params: a1, images: x, labels, lr: 0.1, batchSize: 2, dsa: 'flip', seed: 0 });
    expect(numbers(c)).not.toEqual(numbers(a1));
    disposeAll(a, b, c, a1, x);
  });

  test('evaluate reports the accuracy of the argmax of the logits', async () => {
    const params = convNetInit(spec, { seed: 5, dtype: 'float64' });
    const logits = numbers(await convNetForward(spec, images, params));
    const truth = numbers(labels);
    let correct = 0;
    for (let i = 0; i < N; i++) {
      const row = logits.slice(i * 3, i * 3 + 3);
      if (row.indexOf(Math.max(...row)) === truth[i]) correct++;
    }
    const r = await evaluate(spec, { params, images, labels, batchSize: 4 });
    expect(r.accuracy).toBeCloseTo(correct / N, 12);
    expect(r.count).toBe(N);
    params.dispose();
  });

  test('soft labels train with the soft cross-entropy: one-hot ones step exactly as the classes; others differ', async () => {
    const oneHot = tensor(
      Float64Array.from({ length: N * 3 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0)),
      [N, 3],
    );
    const soft = tensor(
      Float64Array.from({ length: N * 3 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 0.8 : 0.1)),
      [N, 3],
    );
    const run = async (l: typeof labels) => {
      const params = convNetInit(spec, { seed: 8, dtype: 'float64' });
      const stats = await trainEpoch(spec, { params, images, labels: l, lr: 0.1, batchSize: 4, seed: 2 });
      const values = numbers(params);
      params.dispose();
      return { stats, values };
    };
    const hard = await run(labels);
    const one = await run(oneHot);
    const smooth = await run(soft);
    one.values.forEach((v, i) => expect(v).toBeCloseTo(hard.values[i], 12));
    expect(one.stats.loss).toBeCloseTo(hard.stats.loss, 12);
    expect(smooth.stats.accuracy).toBe(hard.stats.accuracy); // the same argmax classes, the same predictions
    expect(Math.max(...smooth.values.map((v, i) => Math.abs(v - hard.values[i])))).toBeGreaterThan(1e-6);
    disposeAll(oneHot, soft);
  });

  test('bad input is refused with the reason', async () => {
    const params = convNetInit(spec, { seed: 6, dtype: 'float64' });
    await expect(trainEpoch(spec, { params, images, labels, lr: 0.1, momentum: 0.9, seed: 0 })).rejects.toThrow(
      /a momentum buffer shaped like params is needed when momentum is 0\.9/,
    );
    const short = tensor(new Float64Array(3), [3]);
    await expect(trainEpoch(spec, { params: short, images, labels, lr: 0.1, seed: 0 })).rejects.toThrow(`params must have shape [${numParams}], received [3]`);
    const few = tensor(new BigInt64Array(2), [2]);
    await expect(evaluate(spec, { params, images, labels: few })).rejects.toThrow(
      /labels must be int64 \[6\] \(class indices\) or floating point \[6, 3\] \(soft labels\), received Long \[2\]/,
    );
    await expect(trainEpoch(spec, { params, images, labels, lr: 0.1, batchSize: 0, seed: 0 })).rejects.toThrow('batchSize must be at least 1, received 0');
    const ignored = tensor(
      BigInt64Array.from({ length: 6 }, (_, i) => (i === 0 ? -100n : 1n)),
      [6],
    );
    await expect(trainEpoch(spec, { params, images, labels: ignored, lr: 0.1, seed: 0 })).rejects.toThrow(
      'labels must be class indices in [0, 3), received values from -100 to 1',
    );
    await expect(evaluate(spec, { params, images, labels: ignored })).rejects.toThrow('labels must be class indices in [0, 3)');
    ignored.dispose();
    disposeAll(params, short, few);
  });
});
