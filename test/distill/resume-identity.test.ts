import * as fs from 'fs';
import * as path from 'path';
import { JobEvent, runDistillJob } from '../../src/distill/job';
import { tempDir, writeLearnableMnist } from '../data/fixtures';

// A run resumes with the same buffer however it is spelled (relative, ./, absolute, a link), and
// is refused with other settings, naming each one.
const root = tempDir('resume-identity');
const cwd = process.cwd();
beforeAll(() => {
  writeLearnableMnist(path.join(root, 'data'), 200, 100);
  process.chdir(root);
});
afterAll(() => {
  process.chdir(cwd);
  fs.rmSync(root, { recursive: true, force: true });
});

const job = (bufferPath: string, iterations: number, extra: object = {}) => ({
  data: { dataset: 'mnist' as const, dataPath: path.join(root, 'data'), device: 'cpu' },
  network: { netWidth: 4, depth: 1 },
  buffer: { numExperts: 1, epochs: 3, batchSize: 64 },
  distill: {
    iterations,
    synSteps: 2,
    maxStartEpoch: 1,
    expertEpochs: 1,
    lrImg: 10,
    evalIt: 100,
    numEval: 1,
    evalEpochs: 2,
    waypoints: 2,
    checkpointEvery: 1,
    bufferPath,
    runDir: 'run',
    ...extra,
  },
});
const resumedAt = (events: JobEvent[]) => events.flatMap((e) => (e.type === 'distill' && e.event.type === 'start' ? [e.event.resumedAt] : []))[0];

test('the same buffer spelled buf, ./buf, /abs/buf or through a link resumes; other settings are named', async () => {
  await runDistillJob(job('buf', 1));
  fs.symlinkSync(path.join(root, 'buf'), path.join(root, 'buf-link'));
  const spellings = ['./buf', path.join(root, 'buf'), 'buf-link/', path.join(root, 'buf-link')];
  for (let k = 0; k < spellings.length; k++) {
    const events: JobEvent[] = [];
    await runDistillJob(job(spellings[k], k + 2), { onEvent: (e) => events.push(e) });
    expect(resumedAt(events)).toBe(k + 1);
    expect(events.some((e) => e.type === 'buffer')).toBe(false); // the same experts: none trained
  }
  const other = await runDistillJob(job('buf', 9, { lrImg: 100, synSteps: 3 })).catch((e: Error) => e);
  expect(other).toBeInstanceOf(Error);
  const message = (other as Error).message;
  expect(message).toContain(path.join('run', 'checkpoint.safetensors'));
  expect(message).toMatch(/distill\.lrImg: expected 10 \(the checkpoint's run\), received 100/);
  expect(message).toMatch(/distill\.synSteps: expected 2 \(the checkpoint's run\), received 3/);
  expect(message).not.toMatch(/bufferPath/);
}, 120000);
