import * as fs from 'fs';
import * as path from 'path';
import { liveTensorCount, tensor } from '../../src';
import { datasetToDevice, loadDataset, readRawDataset } from '../../src/data/dataset';
import { ZcaWhitening } from '../../src/data/zca';
import { native } from '../../src/native';
import { maxAbsDiff, numbers, randomValues } from '../helpers';
import { smoothImage, tempDir, writeImage, writeMnist } from './fixtures';

const root = tempDir('device');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('datasets on the device', () => {
  test('pixels are normalised with the published statistics; labels are int64; classes indexed', async () => {
    const fx = writeMnist(path.join(root, 'mnist'), { nTrain: 20, nTest: 10 });
    const before = liveTensorCount();
    const ds = await loadDataset({ dataset: 'mnist', dataPath: fx.dir, device: 'cpu' });
    expect(ds.train.images.shape).toEqual([20, 1, 28, 28]);
    expect(ds.train.images.dtype).toBe('float32');
    expect(ds.test.labels.dtype).toBe('int64');
    expect(ds.stats).toEqual({ mean: [0.1307], std: [0.3081] });
    const x = ds.train.images.toArray() as Float32Array;
    for (const i of [0, 1, 783, 5000, 15679]) expect(x[i]).toBeCloseTo((fx.train.pixels[i] / 255 - 0.1307) / 0.3081, 5);
    expect(numbers(ds.test.labels)).toEqual(Array.from(fx.test.labels));
    expect(ds.train.classIndices[3]).toEqual([3, 13]);
    expect(ds.train.classIndices.flat().length).toBe(20);
    ds[Symbol.dispose](); // what `using ds = await loadDataset(...)` calls at the end of its block
    for (const t of [ds.train.images, ds.train.labels, ds.test.images, ds.test.labels]) expect(t.disposed).toBe(true);
    ds.dispose(); // a second dispose is harmless
    // handles of earlier tests may be collected meanwhile, so the count can only fall below `before`
    expect(liveTensorCount()).toBeLessThanOrEqual(before);
  });

  test('image folders are normalised with statistics computed from their training images', async () => {
    const dir = path.join(root, 'folders');
    for (const [ci, cls] of ['a', 'b'].entries()) {
      for (let i = 0; i < 4; i++) await writeImage(path.join(dir, cls, `${i}.png`), smoothImage(3, 8, 8, ci * 4 + i), 3, 8, 8);
    }
    const ds = await loadDataset({ dataset: 'imagefolder', dataPath: dir, imageSize: 8, testFraction: 0.25, device: 'cpu' });
    const x = ds.train.images.toArray() as Float32Array;
    const plane = 64;
    for (let c = 0; c < 3; c++) {
      let s = 0;
      let s2 = 0;
      let n = 0;
      for (let i = 0; i < ds.train.size; i++)
        for (let p = 0; p < plane; p++) {
          const v = x[(i * 3 + c) * plane + p];
          s += v;
          s2 += v * v;
          n++;
        }
      expect(s / n).toBeCloseTo(0, 4);
      expect(Math.sqrt(s2 / n - (s / n) ** 2)).toBeCloseTo(1, 3);
    }
    ds.dispose();
  });

  test('with zca, the raw [0, 1] pixels are whitened as published: statistics match a float64 computation', async () => {
    // 4x4 images (D = 16): mean, covariance and W = (C + eps I)^-1/2 are checked in float64 here.
    const fx = writeMnist(path.join(root, 'mnist-zca'), { nTrain: 40, nTest: 10, h: 4, w: 4 });
    const raw = await readRawDataset({ dataset: 'mnist', dataPath: fx.dir });
    const white = await datasetToDevice(raw, { device: 'cpu', zca: true });
    const D = 16;
    const n = 40;
    const eps = 0.1;
    expect(white.zca!.eps).toBe(eps);
    // no mean/std normalisation with ZCA on: the recorded preprocessing and the stats say so
    expect(white.preprocessing).toEqual({ normalize: null, zca: { eps } });
    expect(white.stats).toEqual({ mean: [0], std: [1] });

    const x = Array.from(fx.train.pixels, (v) => v / 255);
    const mean = Array.from({ length: D }, (_, j) => x.filter((_, i) => i % D === j).reduce((a, b) => a + b, 0) / n);
    const cov = Array.from({ length: D }, (_, a) =>
      Array.from({ length: D }, (_, b) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += (x[i * D + a] - mean[a]) * (x[i * D + b] - mean[b]);
        return s / (n - 1);
      }),
    );
    expect(maxAbsDiff(numbers(white.zca!.mean), mean)).toBeLessThan(1e-6);
    // W is symmetric and W (C + eps I) W = I: the one symmetric positive definite (C + eps I)^-1/2
    const w = numbers(white.zca!.whiten);
    const W = (a: number, b: number) => w[a * D + b];
    for (let a = 0; a < D; a++) for (let b = 0; b < D; b++) expect(Math.abs(W(a, b) - W(b, a))).toBeLessThan(1e-5);
    let worst = 0;
    for (let a = 0; a < D; a++)
      for (let b = 0; b < D; b++) {
        let s = 0;
        for (let k = 0; k < D; k++) for (let l = 0; l < D; l++) s += W(a, k) * (cov[k][l] + (k === l ? eps : 0)) * W(l, b);
        worst = Math.max(worst, Math.abs(s - (a === b ? 1 : 0)));
      }
    expect(worst).toBeLessThan(1e-4);
    // train and test images are (x - mu) W of their raw pixels; the inverse gives the pixels back
    for (const [split, pixels] of [
      [white.train, fx.train.pixels],
      [white.test, fx.test.pixels],
    ] as const) {
      const got = numbers(split.images);
      const want: number[] = [];
      for (let i = 0; i < split.size; i++)
        for (let b = 0; b < D; b++) {
          let s = 0;
          for (let a = 0; a < D; a++) s += (pixels[i * D + a] / 255 - mean[a]) * W(a, b);
          want.push(s);
        }
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-4);
    }
    const back = await white.zca!.invert(white.test.images);
    expect(
      maxAbsDiff(
        numbers(back),
        Array.from(fx.test.pixels, (v) => v / 255),
      ),
    ).toBeLessThan(1e-4);
    back.dispose();
    white.dispose();
  });

  const fashion = '/usr/share/datasets/fashion-mnist';
  // npm install puts Debian's copy in place; CI must have it, elsewhere it may be absent.
  (fs.existsSync(fashion) || process.env.CI ? test : test.skip)('the real Fashion-MNIST loads: 60,000 train and 10,000 test images, 10 classes', async () => {
    const ds = await loadDataset({ device: 'cpu' });
    expect(ds.name).toBe('fashion-mnist');
    expect(ds.train.images.shape).toEqual([60000, 1, 28, 28]);
    expect(ds.test.images.shape).toEqual([10000, 1, 28, 28]);
    expect(ds.classNames).toHaveLength(10);
    expect(ds.train.classIndices.map((c) => c.length)).toEqual(Array(10).fill(6000));
    ds.dispose();
  });
});

describe('ZCA whitening', () => {
  // 600 samples of 12 correlated features with variances well above eps.
  const n = 600;
  const d = 12;
  const z = randomValues(n * d, 31, 10);
  const mix = randomValues(d * d, 32);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      let s = 5 + j; // a non-zero mean
      for (let k = 0; k < d; k++) s += z[i * d + k] * (k === j ? 2 : 0.5 * mix[k * d + j]);
      x[i * d + j] = s;
    }

  const covariance = (v: number[]) => covarianceOf(v, n, d);

  test('whitened training data has (near) identity covariance; inverse(whiten(x)) recovers x', async () => {
    const images = tensor(x, [n, 3, 2, 2]);
    const zca = await ZcaWhitening.fit(images);
    const white = await zca.apply(images);
    expect(white.shape).toEqual([n, 3, 2, 2]);
    const cov = covariance(numbers(white));
    // eigenvalues of the whitened covariance are S / (S + eps): within eps / S of 1
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) expect(Math.abs(cov[a][b] - (a === b ? 1 : 0))).toBeLessThan(0.02);
    const back = await zca.invert(white);
    expect(Math.max(...numbers(back).map((v, i) => Math.abs(v - x[i])))).toBeLessThan(1e-3);
    [images, white, back].forEach((t) => t.dispose());
    zca.dispose();
  });

  test("the inverse is kornia's: U sqrt(S + eps) U^T, whose square is C + eps I (not U sqrt(S) U^T, whose square is C)", async () => {
    // kornia 0.6.3 (pinned by MTT's requirements_11_3.yaml), kornia/enhance/zca.py: zca_mean builds
    // T = U rsqrt(S + eps) U^T (line 250-251) and T_inv = U sqrt(S + eps) U^T (line 255);
    // inverse_transform computes (x - mean_inv) T_inv with mean_inv = -mean T (lines 152-154).
    // Four features with variances near eps = 0.1, where sqrt(S) and sqrt(S + eps) differ most.
    const m = 400;
    const k = 4;
    const noise = randomValues(m * k, 41, 0.5);
    const raw = new Float32Array(m * k);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < k; j++) raw[i * k + j] = 0.3 + j * 0.1 + noise[i * k + j] * (1 + j) * 0.3 + 0.4 * noise[i * k + ((j + 1) % k)];
    const images = tensor(raw, [m, 1, 2, 2]);
    const eps = 0.1;
    const zca = await ZcaWhitening.fit(images, eps);
    const [mean, w, winv] = [numbers(zca.mean), numbers(zca.whiten), numbers(zca.unwhiten)];
    const cov = covarianceOf(Array.from(raw), m, k);
    const product = (a: number[], b: number[]) =>
      Array.from({ length: k * k }, (_, idx) => {
        let s = 0;
        for (let t = 0; t < k; t++) s += a[Math.floor(idx / k) * k + t] * b[t * k + (idx % k)];
        return s;
      });
    const plusEps = cov.flat().map((c, idx) => c + (idx % (k + 1) === 0 ? eps : 0));
    expect(maxAbsDiff(product(winv, winv), plusEps)).toBeLessThan(1e-4);
    // the form without eps would square to the covariance itself: 0.1 away on the diagonal
    expect(maxAbsDiff(product(winv, winv), cov.flat())).toBeGreaterThan(0.09);
    expect(
      maxAbsDiff(
        product(w, winv),
        Array.from({ length: k * k }, (_, idx) => (idx % (k + 1) === 0 ? 1 : 0)),
      ),
    ).toBeLessThan(1e-4);
    // kornia's inverse_transform of arbitrary whitened values, computed here from the two matrices
    const white = randomValues(3 * k, 42, 2);
    const meanInv = Array.from({ length: k }, (_, j) => -mean.reduce((s, v, t) => s + v * w[t * k + j], 0));
    const kornia = Array.from({ length: 3 * k }, (_, idx) => {
      const row = Math.floor(idx / k);
      let s = 0;
      for (let t = 0; t < k; t++) s += (white[row * k + t] - meanInv[t]) * winv[t * k + (idx % k)];
      return s;
    });
    const input = tensor(Float32Array.from(white), [3, 1, 2, 2]);
    const back = await zca.invert(input);
    expect(maxAbsDiff(numbers(back), kornia)).toBeLessThan(1e-4);
    [images, input, back].forEach((t) => t.dispose());
    zca.dispose();
  });

  test('eps regularises: a large eps leaves the covariance far from identity', async () => {
    const images = tensor(x, [n, d]);
    const zca = await ZcaWhitening.fit(images, 1000);
    const white = await zca.apply(images);
    const cov = covariance(numbers(white));
    expect(Math.max(...cov.map((row, a) => Math.abs(row[a] - 1)))).toBeGreaterThan(0.5);
    [images, white].forEach((t) => t.dispose());
    zca.dispose();
  });

  test('bad input is refused with a message', async () => {
    const one = tensor(new Float32Array(12), [1, 12]);
    await expect(ZcaWhitening.fit(one)).rejects.toThrow('zcaFit: ZCA needs at least 2 images, received shape [1, 12]');
    const bytes = tensor(new Uint8Array(24), [2, 12]);
    await expect(ZcaWhitening.fit(bytes)).rejects.toThrow(/ZCA: images must be floating point/);
    const images = tensor(x, [n, d]);
    const zca = await ZcaWhitening.fit(images);
    const other = tensor(new Float32Array(2 * 5), [2, 5]);
    await expect(zca.apply(other)).rejects.toThrow(/images of 5 values each do not match the fitted 12/);
    await expect(native().normalizeImages(images, [0], [1])).rejects.toThrow(/pixels must be uint8/);
    await expect(native().normalizeImages(bytes.to({ dtype: 'uint8' }), [0], [1])).rejects.toThrow(/pixels must have shape \[N, C, H, W\]/);
    [one, bytes, images, other].forEach((t) => t.dispose());
    zca.dispose();
  });
});

/** The unbiased covariance [d][d] of n samples of d features (row-major). */
function covarianceOf(v: number[], n: number, d: number): number[][] {
  const mean = Array.from({ length: d }, (_, j) => v.filter((_, idx) => idx % d === j).reduce((a, b) => a + b, 0) / n);
  return Array.from({ length: d }, (_, a) =>
    Array.from({ length: d }, (_, b) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += (v[i * d + a] - mean[a]) * (v[i * d + b] - mean[b]);
      return s / (n - 1);
    }),
  );
}
