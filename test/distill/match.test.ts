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
    const b = c * lr - t.gradLr / 2;
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

  test('minibatches come in the published order: the remainder chunk of each permutation first (indices_chunks.pop())', async () => {
    // 6 images in chunks of 4 split as [4, 2]; pop() takes the 2 first, then the 4, then a new permutation.
    const imagesUsed = (grad: number[]) => Array.from({ length: N }, (_, i) => grad.slice(i * 128, (i + 1) * 128).some((v) => v !== 0)).filter(Boolean).length;
    for (const method of ['unroll', 'tesla', 'adjoint'] as GradMethod[]) {
      for (const seed of [0, 1, 2]) {
        expect(imagesUsed((await match(x0, { batchSyn: 4, synSteps: 1, seed, method })).grad)).toBe(2);
        expect(imagesUsed((await match(x0, { batchSyn: 4, synSteps: 2, seed, method })).grad)).toBe(N);
      }
    }
  });

  describe('soft labels (teacher labels): every gradient method against finite differences', () => {
    // class probabilities, as a softmax of an expert's outputs gives them
    const probs = Float64Array.from(randomValues(N * 3, 21), (v) => Math.exp(2 * v));
    for (let i = 0; i < N; i++) {
      const z = probs[i * 3] + probs[i * 3 + 1] + probs[i * 3 + 2];
      for (let c = 0; c < 3; c++) probs[i * 3 + c] /= z;
    }
    let soft: Tensor;
    beforeAll(() => {
      soft = tensor(probs, [N, 3]);
    });
    afterAll(() => soft.dispose());
    const full = { batchSyn: 4, dsa: 'color_crop_cutout_flip_scale_rotate', seed: 9, synSteps: 4 };

    async function checkFd(options: Partial<MatchInputs>) {
      const o = { labels: soft, ...options };
      const r = await match(x0, o);
      const scale = maxAbs(r.grad);
      expect(scale).toBeGreaterThan(0);
      const eps = 1e-6;
      for (const k of [3, 64, 191, 300, 511, 767]) {
        const plus = Float64Array.from(x0);
        const minus = Float64Array.from(x0);
        plus[k] += eps;
        minus[k] -= eps;
        const fd = ((await match(plus, o)).loss - (await match(minus, o)).loss) / (2 * eps);
        expect(Math.abs(fd - r.grad[k])).toBeLessThan(1e-6 * scale + 1e-10);
      }
      const h = 1e-7;
      const fdLr = ((await match(x0, { ...o, lr: lr + h })).loss - (await match(x0, { ...o, lr: lr - h })).loss) / (2 * h);
      expect(Math.abs(fdLr - r.gradLr)).toBeLessThan(1e-6 * Math.abs(r.gradLr) + 1e-10);
      return r;
    }

    test('unroll: dL/dX and dL/dalpha match central finite differences (minibatches, DSA)', async () => {
      await checkFd(full);
    });

    test('adjoint: dL/dX and dL/dalpha match central finite differences, and unroll', async () => {
      const a = await checkFd({ ...full, method: 'adjoint' });
      const u = await match(x0, { ...full, labels: soft });
      expect(relDiff(a.grad, u.grad)).toBeLessThan(1e-6);
    });

    test('tesla: exact (finite differences) for one step; for more, the loss of unroll', async () => {
      await checkFd({ ...full, synSteps: 1, method: 'tesla' });
      const t = await match(x0, { ...full, labels: soft, method: 'tesla' });
      const u = await match(x0, { ...full, labels: soft });
      expect(t.loss).toBeCloseTo(u.loss, 12);
    });

    test('one-hot soft labels give exactly what the class indices give', async () => {
      const oneHot = tensor(
        Float64Array.from({ length: N * 3 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0)),
        [N, 3],
      );
      for (const method of ['unroll', 'tesla', 'adjoint'] as GradMethod[]) {
        const a = await match(x0, { ...full, method });
        const b = await match(x0, { ...full, method, labels: oneHot });
        expect(b.loss).toBeCloseTo(a.loss, 12);
        expect(relDiff(b.grad, a.grad)).toBeLessThan(1e-10);
      }
      oneHot.dispose();
    });
  });

  describe('bad input rejects with a message naming the input', () => {
    let images: Tensor;
    beforeAll(() => {
      images = tensor(x0, [N, 2, 8, 8]);
    });
    afterAll(() => images.dispose());

    test('labels of the wrong dtype, count or shape', async () => {
      const int32 = tensor(new Int32Array(N), [N]);
      await expect(matchIteration(spec, { images, labels: int32, start, target, lr, synSteps })).rejects.toThrow(
        /labels must be int64 \[6\] \(class indices\) or floating point \[6, 3\] \(soft labels\), received Int \[6\]/,
      );
      const few = tensor(new BigInt64Array(2), [2]);
      await expect(matchIteration(spec, { images, labels: few, start, target, lr, synSteps })).rejects.toThrow(
        /labels must be int64 \[6\].*received Long \[2\]/,
      );
      const softWrong = tensor(new Float64Array(N * 4), [N, 4]);
      await expect(matchIteration(spec, { images, labels: softWrong, start, target, lr, synSteps })).rejects.toThrow(/soft labels\), received Double \[6, 4\]/);
      disposeAll(int32, few, softWrong);
    });

    test('start == target is an error, not Infinity or NaN', async () => {
      await expect(matchIteration(spec, { images, labels, start, target: start, lr, synSteps })).rejects.toThrow(
        'start and target must be different points of the trajectory (||start - target||^2 is 0)',
      );
    });

    test("labels outside [0, numClasses): -100 (PyTorch's ignore_index) and a class past the last", async () => {
      for (const bad of [-100n, 3n]) {
        const values = new BigInt64Array(N);
        values[2] = bad;
        const labelsBad = tensor(values, [N]);
        await expect(matchIteration(spec, { images, labels: labelsBad, start, target, lr, synSteps })).rejects.toThrow(
          `labels must be class indices in [0, 3), received values from ${bad < 0n ? bad : 0} to ${bad < 0n ? 0 : bad}`,
        );
        labelsBad.dispose();
      }
      const negative = tensor(
        Float64Array.from({ length: N * 3 }, (_, i) => (i === 4 ? -0.5 : 0.5)),
        [N, 3],
      );
      await expect(matchIteration(spec, { images, labels: negative, start, target, lr, synSteps })).rejects.toThrow(
        'labels (soft labels) must be class probabilities in [0, 1], received values from -0.5 to 0.5',
      );
      negative.dispose();
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
      expect(() => matchIteration(spec, { images, labels, start, target, lr, synSteps: 0 })).toThrow('Expected a positive integer for synSteps but received 0');
    });
  });
});
