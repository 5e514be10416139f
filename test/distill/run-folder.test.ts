import * as fs from 'fs';
import * as path from 'path';
import { canonicalPath, readMetrics, RunFolder, RunIdentity, RunState } from '../../src/distill/run-folder';
import { tempDir } from '../data/fixtures';
import { editMetadata } from '../io/edit-metadata';

// The run folder's files under bad input: a checkpoint of other settings, a corrupt checkpoint,
// a torn or corrupt metrics log. Every error names the file and what is wrong.
const root = tempDir('run-folder');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const shape = [2, 1, 2, 2];
const identity = (bufferPath: string, extra: RunIdentity = {}): RunIdentity => ({
  dataset: 'mnist',
  zca: false,
  spec: { depth: 2 },
  ipc: 1,
  lrImg: 10,
  bufferPath,
  ...extra,
});
const state: RunState = { iteration: 4, lr: 0.01, lrBuffer: 0, best: { iteration: 0, mean: 0.5, std: 0.1 }, evals: [{ iteration: 0, mean: 0.5, std: 0.1 }] };
const set = { images: new Float32Array(8).fill(1), imagesMomentum: new Float32Array(8), labels: Int32Array.of(0, 1) };

let n = 0;
async function folderWithCheckpoint(id: RunIdentity = identity(path.join(root, 'buf'))): Promise<RunFolder> {
  const folder = new RunFolder(path.join(root, `run${n++}`), id);
  await folder.writeCheckpoint(state, set, shape);
  return folder;
}

const editCheckpoint = (folder: RunFolder, edit: (metadata: Record<string, string>) => void) => editMetadata(folder.files.checkpoint, edit);

describe('resuming: the same settings', () => {
  const cwd = process.cwd();
  afterEach(() => process.chdir(cwd));

  test('the buffer spelled buf, ./buf, /abs/buf or through a symlink is the same run', async () => {
    fs.mkdirSync(path.join(root, 'buf'), { recursive: true });
    fs.symlinkSync(path.join(root, 'buf'), path.join(root, 'buf-link'));
    process.chdir(root);
    const dir = path.join(root, 'run-spelled');
    await new RunFolder(dir, identity('buf')).writeCheckpoint(state, set, shape);
    for (const spelling of ['./buf', path.join(root, 'buf'), 'buf/', path.join(root, 'buf-link'), '../' + path.basename(root) + '/buf']) {
      const resumed = await new RunFolder(dir, identity(spelling)).resume(10, shape, 100);
      expect(resumed.state).toEqual(state);
    }
    expect(canonicalPath('buf-link/not-yet')).toBe(path.join(fs.realpathSync(root), 'buf', 'not-yet'));
  });

  test('another setting is refused, naming each setting that differs, expected vs received', async () => {
    const folder = await folderWithCheckpoint();
    const other = new RunFolder(folder.dir, identity(path.join(root, 'other-buf'), { lrImg: 100, spec: { depth: 3 } }));
    const err = await other.resume(10, shape, 100).catch((e: Error) => e);
    expect((err as Error).message).toContain(folder.files.checkpoint);
    expect((err as Error).message).toMatch(/distill\.lrImg: expected 10 \(the checkpoint's run\), received 100/);
    expect((err as Error).message).toMatch(/network\.depth: expected 2 \(the checkpoint's run\), received 3/);
    expect((err as Error).message).toMatch(/distill\.bufferPath: expected ".*buf" \(the checkpoint's run\), received ".*other-buf"/);
    expect((err as Error).message).not.toMatch(/ipc/);
  });
});

describe('resuming: a corrupt checkpoint names the file and what is wrong', () => {
  const cases: [string, (m: Record<string, string>) => void, RegExp][] = [
    ['state not JSON', (m) => (m.state = '{"iteration": 4,'), /"state" metadata is not JSON/],
    ['no state', (m) => delete m.state, /no "state" entry/],
    ['iteration "six"', (m) => (m.state = JSON.stringify({ ...state, iteration: 'six' })), /state\.iteration: .*received "six"/],
    ['negative iteration', (m) => (m.state = JSON.stringify({ ...state, iteration: -1 })), /state\.iteration: .*received -1/],
    ['fractional iteration', (m) => (m.state = JSON.stringify({ ...state, iteration: 2.5 })), /state\.iteration: .*received 2\.5/],
    [
      'iteration beyond the run',
      (m) => (m.state = JSON.stringify({ ...state, iteration: 1000 })),
      /iteration 1000, beyond this run's 100 iterations \(distill\.iterations\)/,
    ],
    ['lr missing', (m) => (m.state = JSON.stringify({ ...state, lr: undefined })), /state\.lr: .*received undefined/],
    ['lr zero', (m) => (m.state = JSON.stringify({ ...state, lr: 0 })), /state\.lr: .*received 0/],
    ['evals not an array', (m) => (m.state = JSON.stringify({ ...state, evals: 3 })), /state\.evals: .*received 3/],
    ['an eval after its iteration', (m) => (m.state = JSON.stringify({ ...state, evals: [{ iteration: 9, mean: 0.1, std: 0 }] })), /evaluation at iteration 9/],
    ['run not JSON', (m) => (m.run = 'nope'), /no valid "run" entry/],
    ['no run', (m) => delete m.run, /no valid "run" entry/],
  ];
  test.each(cases)('%s', async (_name, edit, message) => {
    const folder = await folderWithCheckpoint();
    editCheckpoint(folder, edit);
    const err = (await folder.resume(10, shape, 100).catch((e: Error) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain(folder.files.checkpoint);
    expect(err.message).toMatch(message);
    expect(err.message).not.toMatch(/Unexpected token|SyntaxError/);
  });

  test('a set of another shape, or labels out of range, are refused', async () => {
    const folder = await folderWithCheckpoint();
    await expect(folder.resume(10, [2, 1, 3, 3], 100)).rejects.toThrow(/tensor images has shape \[2,1,2,2\], expected \[2,1,3,3\]/);
    await expect(folder.resume(1, shape, 100)).rejects.toThrow(/labels\[1\] is 1, expected a class index in \[0, 1\)/);
  });

  test('a file that is not a safetensors file', async () => {
    const folder = await folderWithCheckpoint();
    fs.writeFileSync(folder.files.checkpoint, 'garbage!');
    await expect(folder.resume(10, shape, 100)).rejects.toThrow(folder.files.checkpoint);
  });
});

describe('metrics.jsonl', () => {
  const iterationLine = (i: number) => JSON.stringify({ type: 'iteration', iteration: i, loss: 1, lr: 0.01, seconds: 0.1, expert: 0, start: 0, target: 2 });
  const evalLine = JSON.stringify({ type: 'eval', iteration: 0, mean: 0.5, std: 0.1, accuracies: [0.4, 0.6], lr: 0.01 });

  test('a last line torn by a kill is dropped with a note; later iterations are dropped too', async () => {
    const folder = await folderWithCheckpoint();
    const whole = [evalLine, ...[0, 1, 2, 3, 4, 5].map(iterationLine)].join('\n');
    fs.writeFileSync(folder.files.metrics, `${whole}\n{"type":"itera`);
    const { notes } = await folder.resume(10, shape, 100);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(folder.files.metrics);
    expect(notes[0]).toMatch(/dropped its last line 8/);
    expect(readMetrics(folder.files.metrics).map((l) => `${l.type}${l.iteration}`)).toEqual(['eval0', 'iteration0', 'iteration1', 'iteration2', 'iteration3']);
    // a whole last line without its newline is kept
    fs.writeFileSync(folder.files.metrics, iterationLine(0));
    expect((await folder.resume(10, shape, 100)).notes).toEqual([]);
    expect(readMetrics(folder.files.metrics)).toHaveLength(1);
  });

  test.each([
    ['not JSON', '{"type": "iteration", oops}', /line 2 is not a metrics record: not JSON/],
    ['a wrong type', JSON.stringify({ type: 'iteration', iteration: 'x', loss: 1, lr: 1, seconds: 1 }), /line 2 is not a metrics record: iteration: /],
    ['an unknown record', JSON.stringify({ type: 'party' }), /line 2 is not a metrics record: type: /],
  ])('garbage in the middle (%s) is an error naming the file and the line', async (_name, bad, message) => {
    const folder = await folderWithCheckpoint();
    fs.writeFileSync(folder.files.metrics, [evalLine, bad, iterationLine(0), ''].join('\n'));
    const err = (await folder.resume(10, shape, 100).catch((e: Error) => e)) as Error;
    expect(err.message).toContain(folder.files.metrics);
    expect(err.message).toMatch(message);
    expect(() => readMetrics(folder.files.metrics)).toThrow(message);
  });
});
