import * as fs from 'fs';
import * as path from 'path';
import { launchLocal, RankFailedError } from '../../src/distributed/launch';
import { listExpertFiles } from '../../src/trajectory/files';
import { tempDir, writeLearnableMnist } from '../data/fixtures';

// Experts in parallel: ranks started by the local launcher (2 CPU ranks over gloo on 127.0.0.1),
// each a process running test/distributed/rank.ts.
const root = tempDir('dist-buffer');
const repo = path.resolve(__dirname, '..', '..');
const options = { numExperts: 6, epochs: 2, batchSize: 32, trainLimit: 64, seed: 3, waypoints: 2, network: { netWidth: 4, depth: 1 } };
const tag = 'convnet-d1-w4-instance-relu-avg';

interface Report {
  rank: number;
  skipped: number[];
  trained: { expert: number; rank: number }[];
  killedDuring?: number;
}

/** Runs the buffer on nproc ranks; the ranks' reports, by rank (also into `reports` as they come). */
async function buffer(nproc: number, bufferPath: string, victim = -1, reports: Report[] = []): Promise<Report[]> {
  await launchLocal({
    nproc,
    args: ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'rank.ts'), 'buffer'],
    env: {
      ...process.env,
      TS_NODE_PROJECT: path.join(repo, 'tsconfig.json'),
      TM_DATA: path.join(root, 'data'),
      TM_TIMEOUT: '20',
      TM_BUFFER: JSON.stringify({ ...options, bufferPath }),
      TM_VICTIM: String(victim),
      OMP_NUM_THREADS: '1', // the same threads per process in every run: bitwise comparable files
    },
    onLine: (_rank, stream, line) => {
      if (stream === 'stdout' && line.startsWith('{')) reports.push(JSON.parse(line) as Report);
    },
  });
  return reports.sort((a, b) => a.rank - b.rank);
}

const files = (bufferPath: string) => [
  ...listExpertFiles(path.join(bufferPath, 'mnist', tag), 'mtt'),
  ...listExpertFiles(path.join(bufferPath, 'mnist', tag), 'mct', 2),
];
const names = (list: string[]) => list.map((f) => path.basename(f));

beforeAll(() => writeLearnableMnist(path.join(root, 'data')));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('experts in parallel', () => {
  const reference = path.join(root, 'one-worker');

  test('one worker: the reference buffer', async () => {
    const [report] = await buffer(1, reference);
    expect(report.trained.map((t) => t.expert)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(files(reference)).toHaveLength(12);
  });

  test('two workers split the experts without overlap and write the files one worker writes, byte for byte', async () => {
    const split = path.join(root, 'two-workers');
    const reports = await buffer(2, split);
    expect(reports.map((r) => r.rank)).toEqual([0, 1]);
    // every rank knows what all did
    expect(reports[1].trained).toEqual(reports[0].trained);
    const experts = reports[0].trained.map((t) => t.expert);
    expect(experts).toEqual([0, 1, 2, 3, 4, 5]); // each once
    for (const rank of [0, 1]) expect(reports[0].trained.filter((t) => t.rank === rank).length).toBeGreaterThan(0);
    expect(names(files(split))).toEqual(names(files(reference)));
    for (const [a, b] of files(split).map((f, i) => [f, files(reference)[i]])) expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
  });

  test('a worker killed mid-expert stops the run, naming it; the next run redoes its expert and finishes the buffer', async () => {
    const resumed = path.join(root, 'killed');
    const reports: Report[] = [];
    await expect(buffer(2, resumed, 1, reports)).rejects.toThrow(new RankFailedError('rank 1 of 2 was killed by SIGKILL', 1));
    const killed = reports.find((r) => r.killedDuring !== undefined)!.killedDuring!;
    const dir = path.join(resumed, 'mnist', tag);
    const complete = (e: number) =>
      fs.existsSync(path.join(dir, `expert_${String(e).padStart(3, '0')}.mtt.safetensors`)) &&
      fs.existsSync(path.join(dir, `expert_${String(e).padStart(3, '0')}.mct2.safetensors`));
    const done = [0, 1, 2, 3, 4, 5].filter(complete);
    expect(done).not.toContain(killed);
    expect(done.length).toBeLessThan(6);

    const [report] = await buffer(2, resumed);
    expect(report.skipped).toEqual(done);
    expect(report.trained.map((t) => t.expert)).toContain(killed);
    expect(names(files(resumed))).toEqual(names(files(reference)));
    for (const [a, b] of files(resumed).map((f, i) => [f, files(reference)[i]])) expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
  });
});
