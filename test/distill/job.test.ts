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

test('the job reports every setting it applies with its source, and lists the problems of every option group by key path', async () => {
  const events: JobEvent[] = [];
  const bad = runDistillJob(
    { preset: 'fashion-mnist-cpu', data: { device: 'cpu' }, network: { depth: 0 }, buffer: { epochs: 0 }, distill: { lrLr: -1, seed: 5 } },
    { onEvent: (e) => events.push(e) },
  );
  await expect(bad).rejects.toThrow(
    /^Invalid options:\n {2}distill\.lrLr: .*\(received -1\)\n {2}buffer\.epochs: .*\(received 0\)\n {2}network\.depth: .*\(received 0\)$/,
  );
  await expect(bad).rejects.not.toThrow(/--/); // the library names options, never flags
  const settings = events.find((e) => e.type === 'settings');
  expect(settings).toMatchObject({ type: 'settings', preset: 'fashion-mnist-cpu' });
  const applied = settings?.type === 'settings' ? settings.settings : [];
  expect(applied).toEqual(
    expect.arrayContaining([
      { path: 'distill.lrImg', value: 100, from: 'preset' },
      { path: 'distill.lrLr', value: -1, from: 'options' },
      { path: 'buffer.epochs', value: 0, from: 'options' },
      { path: 'buffer.seed', value: 5, from: 'distill.seed' },
      { path: 'data.device', value: 'cpu', from: 'options' },
    ]),
  );
  expect(applied.filter((s) => s.path === 'distill.lrLr')).toHaveLength(1); // the preset's value is replaced, not listed twice
  expect(applied.some((s) => s.path === 'data.download')).toBe(false); // a named preset is not the default job

  // an explicit buffer.seed wins over distill.seed
  const own: JobEvent[] = [];
  await expect(
    runDistillJob({ data: { device: 'cpu' }, network: { depth: 0 }, buffer: { seed: 2 }, distill: { seed: 5 } }, { onEvent: (e) => own.push(e) }),
  ).rejects.toThrow(/network\.depth/);
  const s = own.find((e) => e.type === 'settings');
  expect(s?.type === 'settings' && s.settings.filter((x) => x.path === 'buffer.seed')).toEqual([{ path: 'buffer.seed', value: 2, from: 'options' }]);
  expect(s).toMatchObject({ preset: 'fashion-mnist-cpu' }); // the default job's preset on a CPU
  expect(s?.type === 'settings' && s.settings.find((x) => x.path === 'data.download')).toEqual({ path: 'data.download', value: true, from: 'default job' });

  const none: JobEvent[] = [];
  await expect(runDistillJob({ noPreset: true, data: { device: 'cpu' }, network: { depth: 0 } }, { onEvent: (e) => none.push(e) })).rejects.toThrow(
    /network\.depth/,
  );
  expect(none).toEqual([
    {
      type: 'settings',
      preset: null,
      notes: [],
      settings: [expect.objectContaining({ path: 'data.device' }), expect.objectContaining({ path: 'network.depth' })],
    },
  ]);
  await expect(runDistillJob({ preset: 'fashion-mnist-cpu', noPreset: true })).rejects.toThrow(
    "preset 'fashion-mnist-cpu' and noPreset both given: choose one",
  );
});
