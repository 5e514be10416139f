/**
 * The CLI's progress display in a real terminal: tmux runs `distill` in an 80x30 pane and the
 * screen is read back (capture-pane) while it runs and after it ends. CI installs tmux
 * (.ci/steps); there (CI=true) a missing tmux fails this test, elsewhere it is skipped, saying so.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir, writeLearnableMnist } from '../data/fixtures';

const root = path.resolve(__dirname, '..', '..');
const WIDTH = 80;
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const inCi = process.env.CI === 'true';
if (!hasTmux && !inCi) console.warn('test/cli/terminal.test.ts skipped: tmux is not installed (apt-get install tmux; CI installs it)');

const work = tempDir('terminal');
const socket = `trajmatch-test-${process.pid}`;
const data = ['--dataset', 'mnist', '--data-path', path.join(work, 'mnist'), '--device', 'cpu', '--net-width', '4', '--net-depth', '1'];
const cliArgs = ['-r', 'ts-node/register/transpile-only', path.join(root, 'src/cli/main.ts')];
const env = { ...process.env, TS_NODE_PROJECT: path.join(root, 'tsconfig.json') };

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, '-f', '/dev/null', '-u', ...args], { encoding: 'utf8', env });
}

/** Runs `distill` with `extra` in the pane; the screens seen while it ran, and the last. */
async function runInPane(extra: string[]): Promise<{ seen: string[]; screen: string }> {
  const script = path.join(work, 'run.sh');
  const args = [...cliArgs, 'distill', ...data, '--no-train-experts', '--max-experts', '2', '--buffer-path', path.join(work, 'buffers')];
  args.push(
    ...['--run-dir', path.join(work, 'run'), '--syn-steps', '4', '--max-start-epoch', '2', '--expert-epochs', '1.5', '--lr-img', '10', '--waypoints', '2'],
    ...extra,
  );
  const quoted = args.map((a) => `'${a}'`).join(' ');
  fs.writeFileSync(script, `cd '${root}'\nclear\n'${process.execPath}' ${quoted}\necho "EXIT=$?"\n`);
  tmux('send-keys', '-t', 'cli', `clear; bash '${script}'`, 'Enter');
  const seen: string[] = [];
  const deadline = Date.now() + 150000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 150));
    const screen = tmux('capture-pane', '-p', '-t', 'cli');
    seen.push(screen);
    if (/EXIT=\d+/.test(screen) || Date.now() > deadline) return { seen, screen };
  }
}

const barLines = (screens: string[]) => screens.flatMap((s) => s.split('\n')).filter((l) => l.startsWith('distill |'));

(hasTmux || inCi ? describe : describe.skip)('the terminal display (tmux, 80 columns)', () => {
  beforeAll(() => {
    if (!hasTmux) throw new Error('tmux is missing: install it with apt-get install tmux (CI installs it in .ci/steps)');
    writeLearnableMnist(path.join(work, 'mnist'), 200, 100);
    const buffer = spawnSync(
      process.execPath,
      [
        ...cliArgs,
        'buffer',
        ...data,
        '--num-experts',
        '2',
        '--train-epochs',
        '4',
        '--batch-train',
        '64',
        '--waypoints',
        '2',
        '--buffer-path',
        path.join(work, 'buffers'),
        '--quiet',
      ],
      { cwd: root, env, encoding: 'utf8' },
    );
    expect(buffer.stderr).toBe('');
    tmux('new-session', '-d', '-x', String(WIDTH), '-y', '30', '-s', 'cli', 'bash --norc --noprofile');
  }, 120000);
  afterAll(() => {
    if (hasTmux) spawnSync('tmux', ['-L', socket, 'kill-server']);
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('every line stays, whole and within the width; the bar shows elapsed time, it/s, ETA and "evaluating"', async () => {
    const { seen, screen } = await runInPane(['--iterations', '12', '--eval-it', '6', '--num-eval', '1', '--eval-epochs', '150']);
    expect(screen).toContain('EXIT=0');
    const lines = screen.split('\n');
    // lines kept after the bar ended: where the run went, every evaluation, the bar's own summary, the result
    expect(lines.some((l) => l.startsWith('distilling into '))).toBe(true);
    for (const it of [0, 6, 12]) expect(lines.some((l) => new RegExp(`^iteration ${it}: \\d+\\.\\d\\d \\+- \\d+\\.\\d\\d%`).test(l))).toBe(true);
    expect(lines.find((l) => l.startsWith('distill: '))).toMatch(/^distill: 12\/12, 12 it in \d+s \([\d.]+ (it\/s|s\/it)\)$/);
    expect(lines.some((l) => l.startsWith('best: '))).toBe(true);
    // no line reaches the edge: none was cut by the terminal nor broken by it mid-word
    for (const s of seen) for (const l of s.split('\n')) expect(l.trimEnd().length).toBeLessThan(WIDTH);
    // the run folder's path is whole on one line (a wrapped line breaks at a space)
    expect(screen).toContain(path.join(work, 'run', 'synthetic_best.safetensors'));
    // while it ran: elapsed time, rate, a real ETA, and the evaluation said as such
    const bars = barLines(seen);
    expect(bars.length).toBeGreaterThan(0);
    expect(bars.every((l) => /\| \d+(s|m\d\ds) \| (-|[\d.]+) (it\/s|s\/it)/.test(l))).toBe(true);
    expect(bars.some((l) => /ETA \d+s/.test(l))).toBe(true);
    expect(bars.some((l) => l.includes('evaluating iteration'))).toBe(true);
    for (const s of seen) expect(s).not.toMatch(/LL|NaN|Infinity|undefined/);
  }, 200000);

  test('a resumed run: the ETA counts from this session and the last evaluation is read back', async () => {
    const { seen, screen } = await runInPane(['--iterations', '24', '--eval-it', '6', '--num-eval', '1', '--eval-epochs', '150']);
    expect(screen).toContain('EXIT=0');
    expect(screen).toMatch(/resuming at iteration 12/);
    const bars = barLines(seen);
    expect(bars.length).toBeGreaterThan(0);
    expect(bars.some((l) => l.includes('last eval -'))).toBe(false);
    expect(bars.some((l) => /ETA 0s/.test(l) && !l.includes('24/24'))).toBe(false);
    expect(screen).toMatch(/distill: 24\/24 \(resumed at 12\), 12 it in/);
  }, 200000);
});
