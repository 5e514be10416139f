import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir, writeLearnableMnist } from '../data/fixtures';

// `trajmatch buffer --workers N` as users run it (through ts-node, so the test needs no build).
const repo = path.resolve(__dirname, '..', '..');
const root = tempDir('dist-cli');

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(repo, 'src/cli/main.ts'), ...args], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 240000,
    env: { ...process.env, TS_NODE_PROJECT: path.join(repo, 'tsconfig.json'), RANK: '', WORLD_SIZE: '', MASTER_ADDR: '', MASTER_PORT: '', ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => writeLearnableMnist(path.join(root, 'data')));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const tiny = [
  '--dataset',
  'mnist',
  '--data-path',
  path.join(root, 'data'),
  '--device',
  'cpu',
  '--net-width',
  '4',
  '--net-depth',
  '1',
  '--train-epochs',
  '2',
  '--batch-train',
  '32',
  '--train-limit',
  '64',
  '--waypoints',
  '2',
];

test('buffer --workers 2 trains every expert once over two local ranks; rank 0 reports for both', () => {
  const r = cli(['buffer', ...tiny, '--num-experts', '4', '--buffer-path', path.join(root, 'buffers'), '--workers', '2', '--json', '--dist-timeout', '20']);
  expect(r.err).not.toMatch(/Error|failed/);
  expect(r.code).toBe(0);
  const events = r.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string });
  const summary = events.at(-1) as unknown as { event: string; trained: { expert: number; rank: number }[]; storage: { experts: number } };
  expect(summary.event).toBe('result');
  expect(summary.trained.map((t) => t.expert)).toEqual([0, 1, 2, 3]);
  expect(new Set(summary.trained.map((t) => t.rank))).toEqual(new Set([0, 1]));
  expect(summary.storage.experts).toBe(4);
});

test('bad launch settings are refused, naming them', () => {
  const partial = cli(['buffer', ...tiny, '--buffer-path', path.join(root, 'none')], { RANK: '1' });
  expect(partial.code).toBe(1);
  expect(partial.err).toContain('RANK is set but WORLD_SIZE, MASTER_ADDR, MASTER_PORT are not');
  const workers = cli(['buffer', ...tiny, '--workers', '0']);
  expect(workers.code).toBe(1);
  expect(workers.err).toContain('Expected a positive integer for --workers but received 0');
});

test('distill --nproc 2 distils over two local ranks (after the buffer above); rank 0 alone reports', () => {
  const runDir = path.join(root, 'run');
  const distill = [
    'distill',
    '--dataset',
    'mnist',
    '--data-path',
    path.join(root, 'data'),
    '--device',
    'cpu',
    '--net-width',
    '4',
    '--net-depth',
    '1',
    '--waypoints',
    '2',
    '--buffer-path',
    path.join(root, 'buffers'),
    '--max-experts',
    '4',
    '--method',
    'mct',
    '--max-start-epoch',
    '1',
    '--expert-epochs',
    '1',
    '--syn-steps',
    '2',
    '--iterations',
    '2',
    '--eval-it',
    '1000',
    '--num-eval',
    '1',
    '--eval-epochs',
    '1',
    '--run-dir',
    runDir,
    '--json',
    '--dist-timeout',
    '20',
    '--nproc',
    '2',
  ];
  const r = cli(distill);
  expect(r.err).not.toMatch(/Error|failed/);
  expect(r.code).toBe(0);
  const out = r.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string });
  expect(out.filter((l) => l.event === 'result')).toHaveLength(1); // rank 0 reports, once
  expect(out.at(-1)).toMatchObject({ event: 'result', runDir, evals: [{ iteration: 0 }, { iteration: 2 }] });
  const lines = fs
    .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(lines.filter((l) => l.type === 'iteration').map((l) => l.slots.length)).toEqual([2, 2]); // W defaults to the ranks

  const odd = cli([...distill, '--trajectory-batch', '3', '--run-dir', path.join(root, 'odd')]);
  expect(odd.code).toBe(1);
  expect(odd.out).toContain('--trajectory-batch (3) must be a multiple of the number of ranks (2)'); // --json: an error event
});
