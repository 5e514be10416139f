/**
 * scripts/gpu-acceptance.sh as far as a CPU allows: its dry run prints every step's command and
 * checks it (files, npm scripts, and every flag against the trajmatch command's --help), here
 * against the TypeScript sources so that the check follows the current CLI.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from '../data/fixtures';

const root = path.resolve(__dirname, '..', '..');
const cli = `node -r ts-node/register/transpile-only ${path.join(root, 'src', 'cli', 'main.ts')}`;
const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync('bash', [path.join(root, 'scripts', 'gpu-acceptance.sh'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TRAJMATCH_CLI: cli, ...env },
    timeout: 300_000,
  });

describe('the GPU acceptance script, dry run', () => {
  const dir = tempDir('acceptance');
  const reference = path.join(dir, 'my_reference.py');
  fs.writeFileSync(reference, '# stands in for another reference script\n');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('every step is printed and checks out: build, CUDA tests, bench with the reference, Fashion-MNIST IPC 1 with MCT and MTT', () => {
    const r = run(['--dry-run', '--reference', reference, '--out', path.join(dir, 'out.json')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const steps = r.stdout.split('\n').filter((l) => l.startsWith('['));
    expect(steps.map((l) => l.slice(1, l.indexOf(']')))).toEqual([
      'build',
      'backend',
      'cuda tests',
      'smoke',
      'bench speed and memory',
      'experts',
      'distill mct',
      'distill mtt',
      'report',
    ]);
    expect(r.stdout.match(/^ {2}ok$/gm)).toHaveLength(9);
    const line = (name: string) => steps.find((l) => l.startsWith(`[${name}]`))!;
    expect(line('bench speed and memory')).toContain(`bench --preset full --sections timing,reference --device cuda --reference ${reference}`);
    for (const method of ['mct', 'mtt']) {
      // the published evaluation protocol: 5 networks x 1000 epochs
      expect(line(`distill ${method}`)).toMatch(new RegExp(`--preset fashion-mnist-ipc1 --method ${method} .*--num-eval 5 --eval-epochs 1000`));
    }
    expect(line('cuda tests')).toContain('npx jest --ci --json');
    expect(r.stdout).toContain("dry run: every step's command checks out");
    expect(fs.existsSync(path.join(dir, 'out.json'))).toBe(false);
  }, 300_000);

  test('a flag the command does not accept, or a missing reference, fails the dry run and is named', () => {
    // a stand-in CLI whose distill lacks --eval-epochs
    const fake = path.join(dir, 'fake-cli.js');
    fs.writeFileSync(
      fake,
      `const sub = process.argv[2];
const flags = { bench: ['--preset', '--sections', '--device', '--reference', '--out-dir', '--json'],
  buffer: ['--dataset', '--download', '--device', '--num-experts', '--train-epochs', '--form', '--buffer-path', '--quiet'],
  distill: ['--dataset', '--download', '--device', '--preset', '--method', '--iterations', '--eval-it', '--num-eval', '--max-experts', '--max-start-epoch', '--buffer-path', '--no-train-experts', '--run-dir', '--json'] };
console.log(flags[sub].map((f) => '  ' + f + ' <x>  what it does').join('\\n'));\n`,
    );
    const r = run(['--dry-run', '--reference', path.join(dir, 'missing.py')], { TRAJMATCH_CLI: `node ${fake}` });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`FAIL: the reference ${path.join(dir, 'missing.py')} does not exist`);
    expect(r.stdout.match(/FAIL: 'distill' has no option --eval-epochs/g)).toHaveLength(2);
    expect(r.stdout).toContain('dry run: some steps would fail');
  }, 120_000);

  test('without --reference the bundled eager reference runs beside the bench', () => {
    const r = run(['--dry-run', '--out', path.join(dir, 'out2.json')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--reference scripts/reference/eager_iteration.py');
  }, 300_000);
});
