/**
 * `--json`: stdout is JSON lines only (each parsed on its own), one per library event, then a
 * result event; a failure is exactly one error event and a non-zero exit; stderr stays empty.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir, writeLearnableMnist } from '../data/fixtures';

const root = path.resolve(__dirname, '..', '..');
const work = tempDir('json');
beforeAll(() => writeLearnableMnist(path.join(work, 'mnist'), 200, 100));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const data = ['--dataset', 'mnist', '--data-path', path.join(work, 'mnist'), '--device', 'cpu', '--net-width', '4', '--net-depth', '1'];
const buffers = path.join(work, 'buffers');

type Line = { event: string } & Record<string, unknown>;

/** Runs the CLI; every stdout line parsed as JSON (a line that is not JSON fails the test). */
function cli(...args: string[]): { code: number | null; lines: Line[]; err: string } {
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(root, 'src/cli/main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TS_NODE_PROJECT: path.join(root, 'tsconfig.json') },
    timeout: 180000,
  });
  expect(r.stdout.endsWith('\n')).toBe(true);
  const lines = r.stdout
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
  for (const l of lines) expect(typeof l.event).toBe('string');
  return { code: r.status, lines, err: r.stderr };
}

const names = (lines: Line[]) => lines.map((l) => l.event);

describe('--json', () => {
  test('buffer, distill and eval: the library events as JSON lines, then the result; nothing on stderr', () => {
    const buffer = cli(
      'buffer',
      ...data,
      '--num-experts',
      '2',
      '--train-epochs',
      '3',
      '--batch-train',
      '64',
      '--waypoints',
      '2',
      '--buffer-path',
      buffers,
      '--json',
    );
    expect(buffer.err).toBe('');
    expect(buffer.code).toBe(0);
    const epoch = ['buffer.epoch', 'buffer.epoch', 'buffer.epoch'];
    expect(names(buffer.lines)).toEqual(['buffer.start', ...epoch, 'buffer.expert', ...epoch, 'buffer.expert', 'result']);
    expect(buffer.lines[0]).toMatchObject({ numExperts: 2, epochs: 3, skipped: [] });
    expect(buffer.lines[1]).toMatchObject({ expert: 0, epoch: 1, epochs: 3, loss: expect.any(Number), accuracy: expect.any(Number) });
    expect(buffer.lines.at(-1)).toMatchObject({ dir: expect.stringContaining(buffers), trained: [{ expert: 0 }, { expert: 1 }] });

    const runDir = path.join(work, 'run');
    const distillArgs = ['distill', ...data, '--no-train-experts', '--max-experts', '2', '--buffer-path', buffers, '--waypoints', '2', '--run-dir', runDir];
    distillArgs.push(
      '--iterations',
      '4',
      '--syn-steps',
      '3',
      '--max-start-epoch',
      '1',
      '--expert-epochs',
      '1',
      '--eval-it',
      '2',
      '--num-eval',
      '1',
      '--eval-epochs',
      '2',
    );
    const distill = cli(...distillArgs, '--json');
    expect(distill.err).toBe('');
    expect(distill.code).toBe(0);
    const seq = names(distill.lines).filter((n) => n !== 'distill.checkpoint');
    const evaluation = ['distill.evaluating', 'distill.eval'];
    const it = 'distill.iteration';
    expect(seq).toEqual(['settings', 'distill.start', ...evaluation, it, it, ...evaluation, it, it, ...evaluation, 'result']);
    expect(distill.lines.find((l) => l.event === 'distill.start')).toMatchObject({ runDir, iterations: 4, resumedAt: 0, lastEval: null });
    const iterations = distill.lines.filter((l) => l.event === it);
    expect(iterations.map((l) => l.iteration)).toEqual([0, 1, 2, 3]);
    expect(iterations[0]).toMatchObject({ loss: expect.any(Number), lr: expect.any(Number), seconds: expect.any(Number) });
    const evals = distill.lines.filter((l) => l.event === 'distill.eval');
    expect(evals.map((l) => l.iteration)).toEqual([0, 2, 4]);
    expect(evals[0]).toMatchObject({ mean: expect.any(Number), std: expect.any(Number), accuracies: [expect.any(Number)], best: true });
    const result = distill.lines.at(-1)!;
    expect(result).toMatchObject({ event: 'result', runDir, evals: evals.map((e) => ({ iteration: e.iteration, mean: e.mean, std: e.std })) });
    expect(fs.existsSync((result.files as { best: string }).best)).toBe(true);

    // the same run again: resumed at its end, its last evaluation read back
    const again = cli(...distillArgs, '--json');
    expect(again.err).toBe('');
    expect(again.lines.find((l) => l.event === 'distill.start')).toMatchObject({ resumedAt: 4, lastEval: { iteration: 4, mean: evals[2].mean } });

    const ev = cli(
      'eval',
      '--synthetic',
      (result.files as { best: string }).best,
      '--data-path',
      path.join(work, 'mnist'),
      '--device',
      'cpu',
      '--num-eval',
      '2',
      '--eval-epochs',
      '2',
      '--json',
    );
    expect(ev.err).toBe('');
    expect(ev.code).toBe(0);
    expect(names(ev.lines)).toEqual(['eval.network', 'eval.network', 'eval.arch', 'result']);
    expect(ev.lines[1]).toMatchObject({ arch: 'convnet', index: 1, accuracy: expect.any(Number) });
    expect(ev.lines.at(-1)).toMatchObject({ dataset: 'mnist', results: { convnet: { accuracies: [expect.any(Number), expect.any(Number)] } } });
  }, 400000);

  test('--verbose: the progress lines on stderr, stdout still JSON only', () => {
    const verbose = ['--buffer-path', path.join(work, 'verbose'), '--json', '--verbose'];
    const r = cli('buffer', ...data, '--num-experts', '1', '--train-epochs', '3', '--batch-train', '64', '--waypoints', '2', ...verbose);
    expect(r.code).toBe(0);
    expect(names(r.lines)).toEqual(['buffer.start', 'buffer.epoch', 'buffer.epoch', 'buffer.epoch', 'buffer.expert', 'result']);
    expect(r.err).toMatch(/^buffer .*: 1 experts x 3 epochs/m);
  }, 200000);

  test('a failure: exactly one error event, a non-zero exit, nothing on stderr', () => {
    const cases: [string[], RegExp, string | undefined][] = [
      [['distill', '--lr-img', 'abc'], /argument 'abc' is invalid/, '--lr-img'],
      [['distill', '--no-such-flag'], /unknown option '--no-such-flag'/, '--no-such-flag'],
      [['eval', '--baseline', '--ipc', '-1', '--device', 'cpu'], /--ipc: .*\(received -1\)/, '--ipc'],
      [['eval', '--baseline', '--ipc', '1', '--dataset', 'mnist', '--data-path', path.join(work, 'missing'), '--device', 'cpu'], /missing/, undefined],
      [['buffer', ...data.slice(0, 2), '--data-path', path.join(work, 'missing'), '--device', 'cpu'], /missing/, undefined],
      [['distill', '--preset', 'nope'], /unknown preset 'nope'/, undefined],
    ];
    for (const [args, message, option] of cases) {
      const r = cli(...args, '--json');
      expect(r.err).toBe('');
      expect(r.code).not.toBe(0);
      expect(r.lines).toHaveLength(1);
      const e = r.lines[0] as { event: string; error: Record<string, unknown> };
      expect(e.event).toBe('error');
      expect(e.error).toMatchObject({ name: expect.any(String), message: expect.stringMatching(message), exitCode: r.code });
      if (option) expect(e.error.option).toBe(option);
    }
  }, 300000);
});
