import { convNetLayout, convNetSpec, disposeAll, tensor, TrajmatchInputError, matchIteration } from '../../src';
import { GradMethod, MatchInputs } from '../../src/distill/match';
import { Tensor } from '../../src/native';
import { numbers, randomValues } from '../helpers';

// A small conv net in float64: two conv blocks with instance norm, ReLU and average pooling.
const spec = convNetSpec({ channels: 2, height: 8, width: 8, numClasses: 3, netWidth: 4, depth: 2 });
const { numParams } = convNetLayout(spec);
const N = 6;
const lr = 0.05;
const synSteps = 3;

const x0 = randomValues(N * 2 * 64, 11);
const labels = tensor(new BigInt64Array([0n, 1n, 2n, 0n, 1n, 2n]), [N]);
const startValues = randomValues(numParams, 12, 0.4);
const targetValues = startValues.map((v, i) => v + 0.05 * randomValues(numParams, 13)[i]);
const start = tensor(startValues, [numParams]);
const target = tensor(targetValues, [numParams]);

afterAll(() => disposeAll(labels, start, target));

async function match(pixels: Float64Array, options: Partial<MatchInputs> = {}) {
  const images = tensor(pixels, [N, 2, 8, 8]);
  try {
    const r = await matchIteration(spec, { images, labels, start, target, lr, synSteps, ...options });
    const grad = numbers(r.gradImages);
    r.gradImages.dispose();
    return { loss: r.loss, grad, gradLr: r.gradLr };
  } finally {
    images.dispose();
  }
}

const maxAbs = (v: number[]) => Math.max(...v.map(Math.abs));
const relDiff = (a: number[], b: number[]) => maxAbs(a.map((v, i) => v - b[i])) / maxAbs(b);

describe('the distillation iteration (second-order gradients, in C++)', () => {
  // Minibatches of 4 from permutations of the 6 images, and DSA on every step: the recomputes of
  // tesla and adjoint must replay both exactly.
  const full = { batchSyn: 4, dsa: 'color_crop_cutout_flip_scale_rotate', seed: 9, synSteps: 4 };

  test('unroll: dL/dX matches central finite differences through all steps, with minibatches and DSA', async () => {
    const { grad } = await match(x0, full);
    const scale = maxAbs(grad);
    expect(scale).toBeGreaterThan(0);
    const eps = 1e-6;
    for (const k of [0, 37, 130, 255, 400, 700]) {
      const plus = Float64Array.from(x0);
      const minus = Float64Array.from(x0);
      plus[k] += eps;
      minus[k] -= eps;
      const fd = ((await match(plus, full)).loss - (await match(minus, full)).loss) / (2 * eps);
      expect(Math.abs(fd - grad[k])).toBeLessThan(1e-6 * scale + 1e-10);
    }
  });

  test('unroll: dL/dalpha matches central finite differences', async () => {
    const r = await match(x0, full);
    const eps = 1e-7;
    const fd = ((await match(x0, { ...full, lr: lr + eps })).loss - (await match(x0, { ...full, lr: lr - eps })).loss) / (2 * eps);
    expect(Math.abs(fd - r.gradLr)).toBeLessThan(1e-6 * Math.abs(r.gradLr) + 1e-10);
  });

  test('adjoint gives the same dL/dX and dL/dalpha as unroll to 1e-6 relative', async () => {
    for (const options of [{}, full]) {
      const u = await match(x0, options);
      const a = await match(x0, { ...options, method: 'adjoint' });
      expect(a.loss).toBeCloseTo(u.loss, 12);
      expect(relDiff(a.grad, u.grad)).toBeLessThan(1e-6);
      expect(Math.abs(a.gradLr - u.gradLr)).toBeLessThan(1e-6 * Math.abs(u.gradLr));
    }
  });

  test('tesla: exact for one step; for more, the same loss and an approximate, aligned gradient', async () => {
    const u1 = await match(x0, { ...full, synSteps: 1 });
    const t1 = await match(x0, { ...full, synSteps: 1, method: 'tesla' });
    expect(relDiff(t1.grad, u1.grad)).toBeLessThan(1e-9);
    expect(t1.gradLr).toBeCloseTo(u1.gradLr, 10);

    const u = await match(x0, full);
    const t = await match(x0, { ...full, method: 'tesla' });
    expect(t.loss).toBeCloseTo(u.loss, 12);
    expect(relDiff(t.grad, u.grad)).toBeGreaterThan(1e-6); // later steps' dependence on earlier pixels is dropped
    const dot = t.grad.reduce((s, v, i) => s + v * u.grad[i], 0);
    const cos = dot / Math.sqrt(t.grad.reduce((s, v) => s + v * v, 0) * u.grad.reduce((s, v) => s + v * v, 0));
    expect(cos).toBeGreaterThan(0.5);
  });

  test('tesla: dL/dalpha is that of ||start - alpha G - target||^2 / D with G held constant', async () => {
    // L(a) = 1 - 2 a b + a^2 c with b = (start - target).G / D and c = ||G||^2 / D. The loss and
    // the slope at lr fix b and c; Cauchy-Schwarz then demands b^2 <= c.
    const t = await match(x0, { ...full, method: 'tesla' });
    const c = (t.gradLr * lr - (t.loss - 1)) / (lr * lr);
    const b = (c * lr - t.gradLr / 2);
    expect(c).toBeGreaterThan(0);
    expect(b * b).toBeLessThanOrEqual(c * (1 + 1e-9));
  });

  test('the loss is the normalised distance to the target (1 when the student does not move)', async () => {
    for (const method of ['unroll', 'tesla', 'adjoint'] as GradMethod[]) {
      expect((await match(x0, { lr: 0, method })).loss).toBeCloseTo(1, 12);
    }
  });

  test('the same seed replays the same iteration; another seed draws other batches and augmentations', async () => {
    const a = await match(x0, full);
    const b = await match(x0, full);
    expect(b.grad).toEqual(a.grad);
    const c = await match(x0, { ...full, seed: 10 });
    expect(c.loss).not.toBe(a.loss);
  });

  describe('bad input rejects with a message naming the input', () => {
    let images: Tensor;
    beforeAll(() => { images = tensor(x0, [N, 2, 8, 8]); });
    afterAll(() => images.dispose());

    test('labels of the wrong dtype or count', async () => {
      const int32 = tensor(new Int32Array(N), [N]);
      await expect(matchIteration(spec, { images, labels: int32, start, target, lr, synSteps })).rejects.toThrow(
        /labels must be a 1-D int64 tensor, received Int/,
      );
      const few = tensor(new BigInt64Array(2), [2]);
      await expect(matchIteration(spec, { images, labels: few, start, target, lr, synSteps })).rejects.toThrow(
        /must hold the same, non-zero number of examples/,
      );
      disposeAll(int32, few);
    });

    test('a trajectory point from another network', async () => {
      const other = tensor(new Float64Array(10), [10]);
      await expect(matchIteration(spec, { images, labels, start: other, target, lr, synSteps })).rejects.toThrow(
        `start must have shape [${numParams}] (the network's parameter count), received [10]`,
      );
      other.dispose();
    });

    test('batchSyn larger than the set, an unknown method or augmentation', async () => {
      await expect(matchIteration(spec, { images, labels, start, target, lr, synSteps, batchSyn: 7 })).rejects.toThrow(
        'batchSyn must lie in [1, 6] (0 for all), received 7',
      );
      expect(() => matchIteration(spec, { images, labels, start, target, lr, synSteps, method: 'exact' as never })).toThrow(TrajmatchInputError);
      await expect(matchIteration(spec, { images, labels, start, target, lr, synSteps, dsa: 'zoom' })).rejects.toThrow(/unknown DSA augmentation 'zoom'/);
    });

    test('non-finite lr and non-positive synSteps are refused before the engine runs', () => {
      expect(() => matchIteration(spec, { images, labels, start, target, lr: NaN, synSteps })).toThrow(TrajmatchInputError);
      expect(() => matchIteration(spec, { images, labels, start, target, lr, synSteps: 0 })).toThrow(
        'Expected a positive integer for synSteps but received 0',
      );
    });
  });
});
