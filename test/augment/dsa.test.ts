import { applyDsa, DSA_GROUPS } from '../../src/augment/dsa';
import { disposeAll, tensor } from '../../src';
import { numbers, randomValues } from '../helpers';

const N = 4;
const C = 3;
const H = 8;
const W = 8;
const x0 = randomValues(N * C * H * W, 41);
const images = tensor(x0, [N, C, H, W]);
afterAll(() => images.dispose());

async function run(strategy: string, seed: number, input = images) {
  const out = await applyDsa(input, { strategy, seed });
  const v = numbers(out.images);
  out.images.dispose();
  return v;
}

describe('DSA', () => {
  test.each(DSA_GROUPS)('%s keeps the shape and replays identically with the same seed', async (group) => {
    const a = await run(group, 5);
    const b = await run(group, 5);
    expect(a).toHaveLength(x0.length);
    expect(a).toEqual(b);
    const others = await Promise.all([6, 7, 8].map((s) => run(group, s)));
    expect(others.some((o) => o.some((v, i) => v !== a[i]))).toBe(true);
  });

  test('flip gives each image either itself or its mirror, and mirrors some', async () => {
    let mirrored = 0;
    for (const seed of [1, 2, 3]) {
      const out = await run('flip', seed);
      for (let n = 0; n < N; n++) {
        let same = true;
        let flipped = true;
        for (let c = 0; c < C; c++)
          for (let y = 0; y < H; y++)
            for (let x = 0; x < W; x++) {
              const v = out[((n * C + c) * H + y) * W + x];
              same &&= v === x0[((n * C + c) * H + y) * W + x];
              flipped &&= v === x0[((n * C + c) * H + y) * W + (W - 1 - x)];
            }
        expect(same || flipped).toBe(true);
        if (flipped) mirrored++;
      }
    }
    expect(mirrored).toBeGreaterThan(0);
    expect(mirrored).toBeLessThan(3 * N);
  });

  test('crop translates by at most round(0.125 * size) pixels with zero fill', async () => {
    const out = await run('crop', 11);
    const inputs = new Set(Array.from(x0));
    expect(out.every((v) => v === 0 || inputs.has(v))).toBe(true);
    // one shift per image: image 0 equals the input moved by some (dy, dx) with |d| <= 1 (0.125 * 8)
    const n = 0;
    const matches = [-1, 0, 1]
      .flatMap((dy) => [-1, 0, 1].map((dx) => [dy, dx]))
      .filter(([dy, dx]) => {
        for (let c = 0; c < C; c++)
          for (let y = 0; y < H; y++)
            for (let x = 0; x < W; x++) {
              const sy = y + dy;
              const sx = x + dx;
              const expectedV = sy < 0 || sy >= H || sx < 0 || sx >= W ? 0 : x0[((n * C + c) * H + sy) * W + sx];
              if (out[((n * C + c) * H + y) * W + x] !== expectedV) return false;
            }
        return true;
      });
    expect(matches.length).toBeGreaterThanOrEqual(1);
  });

  test('cutout zeroes one square of at most half the side per image, the same across channels', async () => {
    const out = await run('cutout', 13);
    for (let n = 0; n < N; n++) {
      const zeros: number[] = [];
      for (let p = 0; p < H * W; p++) {
        const cleared = out[n * C * H * W + p] === 0;
        for (let c = 1; c < C; c++) expect(out[(n * C + c) * H * W + p] === 0).toBe(cleared);
        if (cleared) zeros.push(p);
        else expect(out[n * C * H * W + p]).toBe(x0[n * C * H * W + p]);
      }
      expect(zeros.length).toBeLessThanOrEqual(4 * 4);
    }
  });

  test.each([...DSA_GROUPS, 'color_crop_cutout_flip_scale_rotate'])('%s is differentiable: its gradient matches finite differences', async (strategy) => {
    const cot = tensor(randomValues(x0.length, 42), [N, C, H, W]);
    const cotangent = numbers(cot);
    const { images: out, grad } = await applyDsa(images, { strategy, seed: 17, cotangent: cot });
    const g = numbers(grad!);
    disposeAll(out, grad, cot);
    const f = async (x: Float64Array) => {
      const t = tensor(x, [N, C, H, W]);
      const y = await run(strategy, 17, t);
      t.dispose();
      return y.reduce((s, v, i) => s + v * cotangent[i], 0);
    };
    const eps = 1e-6;
    for (const k of [0, 17, 100, 191, 250]) {
      const plus = Float64Array.from(x0);
      const minus = Float64Array.from(x0);
      plus[k] += eps;
      minus[k] -= eps;
      const fd = ((await f(plus)) - (await f(minus))) / (2 * eps);
      expect(Math.abs(fd - g[k])).toBeLessThan(1e-6 * Math.max(1, Math.abs(g[k])));
    }
  });

  test('single mode draws one group per call: different seeds pick different groups', async () => {
    const flipOnly = await run('flip', 1);
    const outputs = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((s) => run('color_crop_cutout_flip_scale_rotate', s)));
    expect(new Set(outputs.map((o) => o.slice(0, 8).join(','))).size).toBeGreaterThan(1);
    expect(flipOnly).toHaveLength(x0.length);
  });

  test('an unknown group is named', async () => {
    await expect(applyDsa(images, { strategy: 'color_blur', seed: 1 })).rejects.toThrow(
      "dsaApply: unknown DSA augmentation 'blur' in strategy 'color_blur': expected groups from color, crop, cutout, flip, scale, rotate joined by '_'",
    );
  });
});
