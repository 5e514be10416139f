import { convNetLayout, convNetSpec, disposeAll, tensor, matchIteration } from '../../src';
import { randomValues } from '../helpers';

describe('the async pattern', () => {
  const spec = convNetSpec({ channels: 3, height: 32, width: 32, numClasses: 10, netWidth: 32, depth: 3 });
  const { numParams } = convNetLayout(spec);
  const n = 20;
  const images = tensor(new Float32Array(randomValues(n * 3 * 32 * 32, 21)), [n, 3, 32, 32]);
  const labels = tensor(
    BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 10)),
    [n],
  );
  const start = tensor(new Float32Array(randomValues(numParams, 22, 0.1)), [numParams]);
  const target = tensor(new Float32Array(randomValues(numParams, 23, 0.1)), [numParams]);
  afterAll(() => disposeAll(images, labels, start, target));

  test('a long native call runs off the JS thread: a timer keeps ticking meanwhile', async () => {
    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
    }, 5);
    const began = Date.now();
    try {
      const result = await matchIteration(spec, { images, labels, start, target, lr: 0.01, synSteps: 10 });
      result.gradImages.dispose();
    } finally {
      clearInterval(timer);
    }
    const elapsed = Date.now() - began;
    // The call must be long enough for the check to mean something; a blocked loop would give 0 ticks.
    expect(elapsed).toBeGreaterThan(100);
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  test('concurrent calls each settle with their own result', async () => {
    const runs = await Promise.all([0.01, 0.02, 0.01].map((lr) => matchIteration(spec, { images, labels, start, target, lr, synSteps: 2 })));
    expect(runs[0].loss).toBeCloseTo(runs[2].loss, 5);
    expect(runs[0].loss).not.toBeCloseTo(runs[1].loss, 5);
    disposeAll(...runs.map((r) => r.gradImages));
  });

  test('a rejected call leaves the process and the engine usable', async () => {
    const wrong = tensor(new Float32Array(3), [3]);
    await expect(matchIteration(spec, { images, labels, start: wrong, target, lr: 0.01, synSteps: 1 })).rejects.toThrow(/start must have shape/);
    const ok = await matchIteration(spec, { images, labels, start, target, lr: 0.01, synSteps: 1 });
    expect(Number.isFinite(ok.loss)).toBe(true);
    disposeAll(wrong, ok.gradImages);
  });
});
