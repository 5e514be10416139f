/**
 * Every long-running library call that takes an AbortSignal rejects with one error,
 * TrajmatchInterrupted (operation, iteration, runDir, the signal's reason as cause), whether the
 * signal was aborted before the call or while it ran.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  Dataset,
  distillDataset,
  DistillInterrupted,
  evaluateSet,
  loadDataset,
  randomRealSubset,
  runDistillJob,
  trainExperts,
  TrajmatchInterrupted,
} from '../../src';
import { convNetForDataset } from '../../src/model/convnet';
import { checkNoLeakedHandles } from '../helpers';
import { tempDir, writeLearnableMnist } from '../data/fixtures';

const root = tempDir('abort');
const dataPath = path.join(root, 'data');
const network = { netWidth: 8, depth: 2 };
const bufferPath = path.join(root, 'buffers');
const buffer = { numExperts: 2, epochs: 4, batchSize: 64, waypoints: 2, bufferPath, network, form: 'mct' as const };
const distill = {
  method: 'mct' as const,
  ipc: 1,
  synSteps: 4,
  expertEpochs: 1,
  maxStartEpoch: 2,
  iterations: 6,
  evalIt: 3,
  numEval: 1,
  evalEpochs: 10,
  lrImg: 10,
  lrLr: 1e-6,
  lrTeacher: 0.01,
  bufferPath,
  waypoints: 2,
};
const { network: _n, ...jobBuffer } = buffer;
let dataset: Dataset;

beforeAll(async () => {
  writeLearnableMnist(dataPath, 200, 100, { noise: 170, signal: 40 });
  dataset = await loadDataset({ dataset: 'mnist', dataPath, device: 'cpu' });
}, 60000);
afterAll(() => {
  dataset.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});
checkNoLeakedHandles();

function aborted(reason = 'stop'): AbortSignal {
  const ac = new AbortController();
  ac.abort(new Error(reason));
  return ac.signal;
}

async function interruption(p: Promise<unknown>): Promise<TrajmatchInterrupted> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof TrajmatchInterrupted)) throw e;
  expect(e).toBeInstanceOf(DistillInterrupted); // the earlier name is the same class
  expect((e as Error).name).toBe('TrajmatchInterrupted');
  return e as TrajmatchInterrupted;
}

test('trainExperts: aborted before and while it runs', async () => {
  const before = await interruption(trainExperts(dataset, buffer, { signal: aborted('early') }));
  expect(before).toMatchObject({ operation: 'trainExperts', iteration: 0 });
  expect(before.runDir).toContain(bufferPath);
  expect((before.cause as Error).message).toBe('early');

  const ac = new AbortController();
  const during = await interruption(
    trainExperts(dataset, buffer, {
      signal: ac.signal,
      onEvent: (e) => {
        if (e.type === 'epoch' && e.expert === 0 && e.epoch === 2) ac.abort();
      },
    }),
  );
  expect(during).toMatchObject({ operation: 'trainExperts', iteration: 0, runDir: before.runDir });
  expect(during.message).toMatch(/expert training interrupted: finished experts are kept in .* \(stopped at expert 0\)/);
}, 60000);

test('evaluateSet: aborted before and while it runs', async () => {
  const spec = convNetForDataset(dataset, network);
  const { images, labels } = randomRealSubset(dataset, 1, 0);
  try {
    const set = { images, labels, lr: 0.01 };
    const before = await interruption(evaluateSet(dataset, set, spec, { numEval: 2, epochs: 4 }, { signal: aborted() }));
    expect(before).toMatchObject({ operation: 'evaluate', iteration: 0, runDir: null });
    const ac = new AbortController();
    const during = await interruption(
      evaluateSet(dataset, set, spec, { numEval: 3, epochs: 4 }, { signal: ac.signal, onNetwork: (k) => k === 0 && ac.abort() }),
    );
    expect(during).toMatchObject({ operation: 'evaluate', iteration: 1, runDir: null });
  } finally {
    images.dispose();
    labels.dispose();
  }
}, 60000);

test('runDistillJob and distillDataset: aborted before, while training experts, and while distilling', async () => {
  const job = (runDir: string) => ({
    noPreset: true,
    data: { dataset: 'mnist' as const, dataPath, device: 'cpu' },
    network,
    buffer: jobBuffer,
    distill: { ...distill, runDir },
  });
  const runDir = path.join(root, 'run');
  const before = await interruption(runDistillJob(job(runDir), { signal: aborted() }));
  expect(before).toMatchObject({ operation: 'distill', iteration: null, runDir });
  expect(fs.existsSync(runDir)).toBe(false); // nothing was done

  const experts = new AbortController();
  const inExperts = await interruption(
    runDistillJob(job(runDir), { signal: experts.signal, onEvent: (e) => e.type === 'buffer' && e.event.type === 'epoch' && experts.abort() }),
  );
  expect(inExperts).toMatchObject({ operation: 'distill', iteration: null, runDir });

  await trainExperts(dataset, buffer);
  const mid = new AbortController();
  const distilling = await interruption(
    runDistillJob(job(runDir), {
      signal: mid.signal,
      onEvent: (e) => e.type === 'distill' && e.event.type === 'iteration' && e.event.iteration === 1 && mid.abort(),
    }),
  );
  expect(distilling).toMatchObject({ operation: 'distill', iteration: 2, runDir });

  // distillDataset pre-aborted: the same error, at the iteration its checkpoint holds
  const again = await interruption(distillDataset(dataset, { ...distill, runDir, network }, { signal: aborted() }));
  expect(again).toMatchObject({ operation: 'distill', iteration: 2, runDir });
}, 120000);
