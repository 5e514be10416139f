import * as fs from 'fs';
import * as path from 'path';
import { JobEvent, runDistillJob } from '../../src/distill/job';
import { readSyntheticSet } from '../../src/synthetic/file';
import { tempDir, writeLearnableMnist } from '../data/fixtures';

const root = tempDir('job');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

test('the job trains experts when the buffer lacks them, then distils and evaluates', async () => {
  writeLearnableMnist(path.join(root, 'data'), 200, 100);
  const events: JobEvent[] = [];
  const options = {
    data: { dataset: 'mnist' as const, dataPath: path.join(root, 'data'), device: 'cpu' },
    network: { netWidth: 4, depth: 1 },
    buffer: { numExperts: 2, epochs: 4, batchSize: 64 },
    distill: {
      iterations: 3,
      synSteps: 4,
      maxStartEpoch: 2,
      expertEpochs: 1.5,
      lrImg: 10,
      lrLr: 1e-6,
      evalIt: 100,
      numEval: 1,
      evalEpochs: 5,
      waypoints: 2,
      bufferPath: path.join(root, 'buffers'),
      runDir: path.join(root, 'run'),
    },
  };
  const result = await runDistillJob(options, { onEvent: (e) => events.push(e) });
  expect(result.preset).toBeNull(); // another dataset than Fashion-MNIST: no default preset
  expect(events.find((e) => e.type === 'experts')).toMatchObject({ have: 0, wanted: 2 });
  expect(events.filter((e) => e.type === 'buffer' && e.event.type === 'expert')).toHaveLength(2);
  expect(result.evals.map((e) => e.iteration)).toEqual([0, 3]);
  expect((await readSyntheticSet(result.files.synthetic)).info.iteration).toBe(3);

  // a second job finds the experts and the finished run
  const again: JobEvent[] = [];
  await runDistillJob(options, { onEvent: (e) => again.push(e) });
  expect(again.some((e) => e.type === 'experts')).toBe(false);
  expect(again.find((e) => e.type === 'distill' && e.event.type === 'start')).toMatchObject({ event: { resumedAt: 3 } });
  await expect(runDistillJob({ ...options, preset: 'cifar11' })).rejects.toThrow(/unknown preset 'cifar11'; expected one of fashion-mnist-cpu/);
});

test('the experts a job trains are the ones it distils from: one buffer folder', async () => {
  writeLearnableMnist(path.join(root, 'data2'), 100, 50);
  const own = path.join(root, 'own-buffers');
  const events: JobEvent[] = [];
  // only buffer.bufferPath given: the experts go there, and the distillation reads them there
  const result = await runDistillJob(
    {
      data: { dataset: 'mnist' as const, dataPath: path.join(root, 'data2'), device: 'cpu' },
      network: { netWidth: 4, depth: 1 },
      buffer: { bufferPath: own, numExperts: 1, epochs: 3, batchSize: 50 },
      distill: { iterations: 1, synSteps: 2, maxStartEpoch: 1, expertEpochs: 1, evalIt: 10, numEval: 1, evalEpochs: 1, runDir: path.join(root, 'run2') },
    },
    { onEvent: (e) => events.push(e) },
  );
  expect(events.find((e) => e.type === 'experts')).toMatchObject({ dir: expect.stringContaining(own) });
  expect(events.find((e) => e.type === 'distill' && e.event.type === 'start')).toMatchObject({ event: { bufferDir: expect.stringContaining(own) } });
  expect(result.evals.map((e) => e.iteration)).toEqual([0, 1]);
});
