import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { loadDataset } from '../../src/data/dataset';
import { freePort } from '../../src/distributed/launch';
import { readSafetensors, requireTensor } from '../../src/io/safetensors';
import { trainExperts } from '../../src/trajectory/buffer';
import { tempDir, writeLearnableMnist } from '../data/fixtures';

// Data-parallel distillation: 2 CPU ranks over gloo on 127.0.0.1, each a process running
// test/distributed/rank.ts, against the same trajectory batch in one process.
const root = tempDir('dist-distill');
const repo = path.resolve(__dirname, '..', '..');
const bufferPath = path.join(root, 'buffers');
const network = { netWidth: 4, depth: 1 };
const timeout = 4; // seconds: the group's timeout in these runs
const base = {
  method: 'mct',
  ipc: 1,
  synSteps: 4,
  expertEpochs: 1,
  maxStartEpoch: 2,
  lrImg: 10,
  lrLr: 1e-5,
  lrTeacher: 0.01,
  waypoints: 2,
  iterations: 6,
  checkpointEvery: 2,
  evalIt: 1000,
  numEval: 1,
  evalEpochs: 2,
  bufferPath,
  network,
};

interface Report {
  rank: number;
  lr?: number;
  evals?: number[];
  error?: string;
  seconds?: number;
  fatal?: string;
  killedAfter?: number;
}

/** Runs the distillation on worldSize ranks (1: one process, no group); every rank's report. */
async function distill(
  worldSize: number,
  options: object,
  extra: { victim?: number; killAt?: number; perRank?: (rank: number) => object } = {},
): Promise<Report[]> {
  const port = await freePort();
  const children: ChildProcess[] = [];
  const reports = Array.from(
    { length: worldSize },
    (_, rank) =>
      new Promise<Report[]>((resolve) => {
        const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'rank.ts'), 'distill'], {
          cwd: repo,
          env: {
            ...process.env,
            TS_NODE_PROJECT: path.join(repo, 'tsconfig.json'),
            RANK: String(rank),
            WORLD_SIZE: String(worldSize),
            MASTER_ADDR: '127.0.0.1',
            MASTER_PORT: String(port),
            TM_TIMEOUT: String(timeout),
            TM_DATA: path.join(root, 'data'),
            TM_DISTILL: JSON.stringify({ ...options, ...extra.perRank?.(rank) }),
            TM_VICTIM: String(extra.victim ?? -1),
            TM_KILL_AT: String(extra.killAt ?? -1),
            OMP_NUM_THREADS: '1', // the same threads per process in every run
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        children.push(child);
        const lines: Report[] = [];
        readline.createInterface({ input: child.stdout! }).on('line', (line) => {
          if (line.startsWith('{')) lines.push(JSON.parse(line) as Report);
        });
        child.on('close', () => resolve(lines));
      }),
  );
  // every run stops by itself: nothing outlives this bound
  const guard = setTimeout(() => children.forEach((c) => c.kill('SIGKILL')), 150000);
  try {
    return (await Promise.all(reports)).flat().sort((a, b) => a.rank - b.rank);
  } finally {
    clearTimeout(guard);
    children.forEach((c) => c.kill('SIGKILL'));
  }
}

const images = (runDir: string, file = 'checkpoint.safetensors') => {
  const f = path.join(runDir, file);
  return requireTensor(readSafetensors(f), 'images', f, 'F32', 4).values as Float32Array;
};
const losses = (runDir: string) =>
  fs
    .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((l) => l.type === 'iteration')
    .map((l) => l.loss as number);

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5) {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  expect(worst).toBeLessThanOrEqual(tol);
}

const reference = path.join(root, 'one-process-w2');

beforeAll(async () => {
  writeLearnableMnist(path.join(root, 'data'), 200, 50);
  const dataset = await loadDataset({ dataset: 'mnist', dataPath: path.join(root, 'data'), device: 'cpu' });
  try {
    await trainExperts(dataset, { numExperts: 3, epochs: 3, batchSize: 32, waypoints: 2, bufferPath, network, form: 'mct' });
  } finally {
    dataset.dispose();
  }
  // the reference: the trajectory batch of 2 in one process
  const [one] = await distill(1, { ...base, trajectoryBatch: 2, runDir: reference });
  expect(one.error ?? one.fatal).toBeUndefined();
}, 240000);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('data-parallel distillation over 2 ranks', () => {
  test('equals the trajectory batch of 2 in one process; rank 0 alone writes the run folder', async () => {
    const runDir = path.join(root, 'two-ranks');
    const reports = await distill(2, { ...base, runDir }); // W defaults to the number of ranks
    expect(reports.map((r) => r.error ?? r.fatal)).toEqual([undefined, undefined]);
    expect(reports[1].lr).toBe(reports[0].lr); // every rank ends with the same state and result
    expect(reports[1].evals).toEqual([0, 6]);
    expectClose(images(runDir), images(reference));
    expectClose(losses(runDir), losses(reference));
    expectClose([reports[0].lr!], [JSON.parse(fs.readFileSync(path.join(reference, 'summary.json'), 'utf8')).lr]);
    const lines = fs
      .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === 'iteration')).toHaveLength(6); // one writer
    expect(lines[1].slots).toHaveLength(2);
  });

  test('a run resumes on another number of ranks: 2 ranks for 4 iterations, then one process, as the straight run', async () => {
    const runDir = path.join(root, 'switched');
    const first = await distill(2, { ...base, iterations: 4, runDir });
    expect(first.map((r) => r.error ?? r.fatal)).toEqual([undefined, undefined]);
    const [then] = await distill(1, { ...base, trajectoryBatch: 2, runDir });
    expect(then.error ?? then.fatal).toBeUndefined();
    expectClose(images(runDir), images(reference));
  });

  test('a killed rank stops the other within the timeout, naming it; the run resumes from the last checkpoint', async () => {
    const runDir = path.join(root, 'killed');
    const reports = await distill(2, { ...base, runDir }, { victim: 1, killAt: 3 });
    const survivor = reports.find((r) => r.rank === 0 && r.error !== undefined)!;
    expect(reports.find((r) => r.rank === 1)?.killedAfter).toBe(3);
    expect(survivor.error).toMatch(/rank 1 (sent no heartbeat for \d+\.\d s: it died or hangs|failed)/);
    expect(survivor.seconds).toBeLessThanOrEqual(timeout + 3);
    const state = JSON.parse(readSafetensors(path.join(runDir, 'checkpoint.safetensors')).metadata.state) as { iteration: number };
    expect(state.iteration).toBe(4); // the checkpoint after iteration 3, written before the kill was noticed
    const again = await distill(2, { ...base, runDir });
    expect(again.map((r) => r.error ?? r.fatal)).toEqual([undefined, undefined]);
    expectClose(images(runDir), images(reference));
  });

  test('options that differ between ranks are refused at rendezvous, naming the option', async () => {
    const reports = await distill(2, { ...base, runDir: path.join(root, 'differ') }, { perRank: (rank) => ({ seed: rank }) });
    for (const r of reports) expect(r.error).toMatch(/different options: seed is 0 on rank 0 but 1 on rank 1/);
  });
});
