import { convNetLayout, convNetSpec, disposeAll, tensor, TrajmatchInputError, unrollMatch } from '../../src';
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

async function match(pixels: Float64Array, alpha = lr) {
  const images = tensor(pixels, [N, 2, 8, 8]);
  try {
    return await unrollMatch(spec, { images, labels, start, target, lr: alpha, synSteps });
  } finally {
    images.dispose();
  }
}

describe('unrolled student with exact gradients (second order, in C++)', () => {
  test('dL/dX matches central finite differences through all unrolled steps', async () => {
    const result = await match(x0);
    expect(result.gradImages.shape).toEqual([N, 2, 8, 8]);
    const grad = numbers(result.gradImages);
    result.gradImages.dispose();
    const scale = Math.max(...grad.map(Math.abs));
    expect(scale).toBeGreaterThan(0);

    const eps = 1e-6;
    const coords = [0, 37, 130, 255, 400, 700];
    for (const k of coords) {
      const plus = Float64Array.from(x0);
      const minus = Float64Array.from(x0);
      plus[k] += eps;
      minus[k] -= eps;
      const lp = await match(plus);
      const lm = await match(minus);
      disposeAll(lp.gradImages, lm.gradImages);
      const fd = (lp.loss - lm.loss) / (2 * eps);
      expect(Math.abs(fd - grad[k])).toBeLessThan(1e-6 * scale + 1e-10);
    }
  });

  test('dL/dalpha matches central finite differences', async () => {
    const result = await match(x0);
    const eps = 1e-7;
    const lp = await match(x0, lr + eps);
    const lm = await match(x0, lr - eps);
    disposeAll(result.gradImages, lp.gradImages, lm.gradImages);
    const fd = (lp.loss - lm.loss) / (2 * eps);
    expect(Math.abs(fd - result.gradLr)).toBeLessThan(1e-6 * Math.abs(result.gradLr) + 1e-10);
  });

  test('the loss is the normalised distance to the target (1 when the student does not move)', async () => {
    const still = await match(x0, 0);
    expect(still.loss).toBeCloseTo(1, 12);
    const moved = await match(x0);
    expect(moved.loss).not.toBeCloseTo(1, 6);
    disposeAll(still.gradImages, moved.gradImages);
  });

  describe('bad input rejects with a message naming the input', () => {
    let images: Tensor;
    beforeAll(() => { images = tensor(x0, [N, 2, 8, 8]); });
    afterAll(() => images.dispose());

    test('labels out of range', async () => {
      const bad = tensor(new BigInt64Array([0n, 1n, 2n, 0n, 1n, 5n]), [N]);
      await expect(unrollMatch(spec, { images, labels: bad, start, target, lr, synSteps })).rejects.toThrow(
        'unrollMatch: labels must lie in [0, 3), found values from 0 to 5',
      );
      bad.dispose();
    });

    test('labels of the wrong dtype or count', async () => {
      const int32 = tensor(new Int32Array(N), [N]);
      await expect(unrollMatch(spec, { images, labels: int32, start, target, lr, synSteps })).rejects.toThrow(
        /labels must be a 1-D int64 tensor, received Int/,
      );
      const few = tensor(new BigInt64Array(2), [2]);
      await expect(unrollMatch(spec, { images, labels: few, start, target, lr, synSteps })).rejects.toThrow(
        /must hold the same number of examples/,
      );
      disposeAll(int32, few);
    });

    test('a trajectory point from another network', async () => {
      const other = tensor(new Float64Array(10), [10]);
      await expect(unrollMatch(spec, { images, labels, start: other, target, lr, synSteps })).rejects.toThrow(
        `start must have shape [${numParams}] (the network's parameter count), received [10]`,
      );
      other.dispose();
    });

    test('non-finite lr and non-positive synSteps are refused before the engine runs', () => {
      expect(() => unrollMatch(spec, { images, labels, start, target, lr: NaN, synSteps })).toThrow(TrajmatchInputError);
      expect(() => unrollMatch(spec, { images, labels, start, target, lr, synSteps: 0 })).toThrow(
        'Expected a positive integer for synSteps but received 0',
      );
    });
  });
});
