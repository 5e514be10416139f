/**
 * Child process of cpu-allocator.test.ts: a few distillation iterations of a small ConvNet in this
 * process's own allocator setting (the environment picks it), then one JSON line: the allocator's
 * state, the page faults and CPU time per iteration after the first, and a digest of the results.
 */
import { createHash } from 'crypto';
import { backendInfo } from '../../src/backend/device';
import { convNetInit, convNetLayout, convNetSpec } from '../../src/model/convnet';
import { matchIteration } from '../../src/distill/match';
import { tensor } from '../../src/backend/tensor';
import { randomValues } from '../helpers';

async function main() {
  const iterations = Number(process.argv[2] ?? 6);
  const spec = convNetSpec({ channels: 1, height: 28, width: 28, numClasses: 10, netWidth: 32, depth: 3 });
  const P = convNetLayout(spec).numParams;
  const start = convNetInit(spec, { seed: 0, device: 'cpu' });
  const startValues = start.toArray() as Float32Array;
  const noise = randomValues(P, 1, 0.01);
  const target = tensor(
    Float32Array.from(startValues, (v, i) => v + noise[i]),
    [P],
  );
  const images = tensor(Float32Array.from(randomValues(20 * 784, 2)), [20, 1, 28, 28]);
  const labels = tensor(
    BigInt64Array.from({ length: 20 }, (_, i) => BigInt(i % 10)),
    [20],
    { dtype: 'int64' },
  );
  const digest = createHash('sha256');
  let before = process.resourceUsage();
  for (let i = 0; i < iterations; i++) {
    if (i === 1) before = process.resourceUsage(); // the first iteration fills the cache
    for (const method of ['unroll', 'tesla', 'adjoint'] as const) {
      const r = await matchIteration(spec, {
        images,
        labels,
        start,
        target,
        lr: 0.01,
        synSteps: 5,
        dsa: 'color_crop_cutout_flip_scale_rotate',
        seed: i,
        method,
      });
      digest.update(Buffer.from(new Float64Array([r.loss, r.gradLr]).buffer));
      digest.update(Buffer.from((r.gradImages.toArray() as Float32Array).buffer));
      r.gradImages.dispose();
    }
  }
  const after = process.resourceUsage();
  const n = iterations - 1;
  console.log(
    JSON.stringify({
      allocator: backendInfo().cpuAllocator,
      faultsPerIteration: (after.minorPageFault - before.minorPageFault) / n,
      userSecondsPerIteration: (after.userCPUTime - before.userCPUTime) / 1e6 / n,
      systemSecondsPerIteration: (after.systemCPUTime - before.systemCPUTime) / 1e6 / n,
      digest: digest.digest('hex'),
    }),
  );
  [start, target, images, labels].forEach((t) => t.dispose());
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
