import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir, writeLearnableMnist } from '../data/fixtures';

const root = path.resolve(__dirname, '..', '..');
const work = tempDir('interrupt');
beforeAll(() => writeLearnableMnist(path.join(work, 'mnist'), 200, 50));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Starts `buffer` (long: many epochs), sends `signal` once the first expert file exists, resolves with the exit. */
function interruptBuffer(signal: NodeJS.Signals, bufferPath: string): Promise<{ code: number | null; err: string }> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      path.join(root, 'src/cli/main.ts'),
      'buffer',
      '--dataset',
      'mnist',
      '--data-path',
      path.join(work, 'mnist'),
      '--device',
      'cpu',
      '--net-width',
      '4',
      '--num-experts',
      '50',
      '--train-epochs',
      '3',
      '--batch-train',
      '50',
      '--buffer-path',
      bufferPath,
      '--quiet',
    ],
    { cwd: root, env: { ...process.env, TS_NODE_PROJECT: path.join(root, 'tsconfig.json') } },
  );
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const poll = setInterval(() => {
    const dir = fs.existsSync(bufferPath) ? fs.readdirSync(bufferPath, { recursive: true }).map(String) : [];
    if (dir.some((f) => f.endsWith('.safetensors'))) {
      clearInterval(poll);
      child.kill(signal);
    }
  }, 100);
  const guard = setTimeout(() => child.kill('SIGKILL'), 100000);
  return new Promise((resolve) =>
    child.on('exit', (code, sig) => {
      if (code === null) err += `killed by ${sig}`;
      clearInterval(poll);
      clearTimeout(guard);
      resolve({ code, err });
    }),
  );
}

describe('an interrupted command', () => {
  test.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s stops at a safe point, keeps what was finished and exits %d',
    async (signal, exitCode) => {
      const bufferPath = path.join(work, `buffers-${signal}`);
      const r = await interruptBuffer(signal, bufferPath);
      expect(r.code).toBe(exitCode);
      expect(r.err).toContain('interrupted: finished experts are kept');
      const files = fs.readdirSync(bufferPath, { recursive: true }).map(String);
      expect(files.some((f) => f.endsWith('.safetensors'))).toBe(true);
      expect(files.filter((f) => f.includes('.tmp'))).toEqual([]); // no half-written file
    },
    120000,
  );

  test('--version prints the package version', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(root, 'src/cli/main.ts'), '--version'], {
      cwd: root,
      env: { ...process.env, TS_NODE_PROJECT: path.join(root, 'tsconfig.json') },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(out.trim()).toBe(version);
  }, 60000);
});
