import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { readExpertInfo } from '../../src/trajectory/files';
import { tempDir, writeLearnableMnist } from '../data/fixtures';

// distill as users run it: what it applies and from where, the experts it trains, its errors.
const root = tempDir('distill-settings');
const data = path.join(root, 'data');
beforeAll(() => writeLearnableMnist(data, 100, 50));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function cli(...args: string[]) {
  const repo = path.resolve(__dirname, '..', '..');
  const r = spawnSync(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), path.join(repo, 'src/cli/main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TS_NODE_PROJECT: path.join(repo, 'tsconfig.json') },
    timeout: 240000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const writeConfig = (name: string, content: unknown) => {
  const file = path.join(root, name);
  fs.writeFileSync(file, JSON.stringify(content));
  return file;
};

describe('distill', () => {
  test('--config keeps the preset: preset < config file < flags, and each setting says where it came from', () => {
    const config = writeConfig('job.json', { distill: { lrImg: 5, ipc: 3 }, buffer: { epochs: 3 } });
    // --net-depth 0 stops the job before any work, after the settings are printed
    const r = cli('distill', '--config', config, '--device', 'cpu', '--ipc', '2', '--net-depth', '0');
    expect(r.code).toBe(1);
    expect(r.err).toContain('preset: fashion-mnist-cpu');
    expect(r.err).toMatch(/from preset fashion-mnist-cpu: .*network\.netWidth=32.*distill\.evalEpochs=300/);
    expect(r.err).not.toMatch(/from preset fashion-mnist-cpu: .*distill\.lrImg/); // the config file's value won
    expect(r.err).toContain(`from the config file ${config}: buffer.epochs=3, distill.lrImg=5`);
    expect(r.err).toMatch(/from flags: .*--ipc 2/);
    expect(r.err).toMatch(/--net-depth: .*\(received 0\)/);

    const none = cli('distill', '--no-preset', '--config', config, '--device', 'cpu', '--net-depth', '0');
    expect(none.err).toContain('preset: none');
    expect(none.err).not.toContain('from preset');
    expect(none.err).toContain(`from the config file ${config}: buffer.epochs=3, distill.lrImg=5, distill.ipc=3`);
  });

  test("a hand-set --lr-img with MCT and tesla gets one line on the published scripts' half step; a preset's or MTT's does not", () => {
    const line = /--lr-img 700 with MCT's tesla gradient: .* their --lr_img 1400 takes the step that --lr-img 700 takes here/;
    const mct = cli('distill', '--device', 'cpu', '--lr-img', '700', '--net-depth', '0');
    expect(mct.err).toMatch(line);
    expect(mct.err.split('\n').filter((l) => /with MCT's tesla gradient/.test(l))).toHaveLength(1);
    const config = writeConfig('lr.json', { distill: { lrImg: 700 } });
    expect(cli('distill', '--device', 'cpu', '--config', config, '--net-depth', '0').err).toContain(`${config}: distill.lrImg 700 with MCT's tesla gradient`);
    for (const other of [
      ['--method', 'mtt'],
      ['--grad-method', 'adjoint'],
    ]) {
      expect(cli('distill', '--device', 'cpu', '--lr-img', '700', ...other, '--net-depth', '0').err).not.toMatch(/tesla gradient/);
    }
    expect(cli('distill', '--device', 'cpu', '--preset', 'cifar10-ipc1-mct', '--net-depth', '0').err).not.toMatch(/tesla gradient/);
  });

  test('errors list every failing group, each named by the flag or the config-file entry that set it', () => {
    const config = writeConfig('bad-data.json', { data: { dataset: 'mnist', imageSize: 20 } });
    const r = cli('distill', '--config', config, '--device', 'cpu', '--net-depth', '0', '--lr-img', '-1', '--train-epochs', '0', '--num-experts', '-2');
    expect(r.code).toBe(1);
    expect(r.err).toContain('Invalid options:');
    expect(r.err).toMatch(/--lr-img: .*\(received -1\)/);
    expect(r.err).toMatch(/--train-epochs: .*\(received 0\)/);
    expect(r.err).toMatch(/--num-experts: .*\(received -2\)/);
    expect(r.err).toMatch(/--net-depth: .*\(received 0\)/);
    expect(r.err).toContain(`${config}: data.imageSize applies only to dataset 'imagefolder', not 'mnist'`);
    expect(r.err).not.toMatch(/(^|\s)(distill|buffer|network)\.\w+:/m); // no library key path left unmapped

    const both = cli('distill', '--preset', 'fashion-mnist-cpu', '--no-preset', '--device', 'cpu', '--net-depth', '0');
    expect(both.err).toContain('preset: none'); // the last of the two wins, as for every flag
  });

  test('--seed reaches the experts it trains (one seed reproduces the job), sized by --num-experts, --train-epochs, --train-limit', () => {
    const job = (seed: number, name: string) =>
      cli(
        'distill',
        ...['--dataset', 'mnist', '--data-path', data, '--device', 'cpu', '--net-width', '4', '--net-depth', '1'],
        ...['--num-experts', '2', '--train-epochs', '2', '--train-limit', '40'],
        ...['--iterations', '1', '--syn-steps', '2', '--max-start-epoch', '1', '--expert-epochs', '1', '--waypoints', '2'],
        ...['--eval-it', '10', '--num-eval', '1', '--eval-epochs', '1', '--seed', String(seed)],
        ...['--buffer-path', path.join(root, name), '--run-dir', path.join(root, `run-${name}`)],
      );
    const files = (name: string) => {
      const dir = path.join(root, name, 'mnist');
      const [net] = fs.readdirSync(dir);
      return fs
        .readdirSync(path.join(dir, net))
        .sort()
        .map((f) => path.join(dir, net, f));
    };
    const a = job(3, 'a');
    expect(a.err).toMatch(/from flags: .*--num-experts 2, --train-epochs 2, --train-limit 40/);
    expect(a.err).toContain("from --seed (the experts' seed follows the run's): buffer.seed=3");
    expect(a.code).toBe(0);
    expect(job(3, 'b').code).toBe(0);
    expect(job(4, 'c').code).toBe(0);
    const [fa, fb, fc] = ['a', 'b', 'c'].map(files);
    expect(fa.map((f) => path.basename(f))).toEqual([
      'expert_000.mct2.safetensors',
      'expert_000.mtt.safetensors',
      'expert_001.mct2.safetensors',
      'expert_001.mtt.safetensors',
    ]);
    for (const f of fa) expect(readExpertInfo(f)).toMatchObject({ seed: 3, epochs: 2 });
    expect(readExpertInfo(fc[0]).seed).toBe(4);
    fa.forEach((f, i) => expect(fs.readFileSync(f).equals(fs.readFileSync(fb[i]))).toBe(true));
    fa.forEach((f, i) => expect(fs.readFileSync(f).equals(fs.readFileSync(fc[i]))).toBe(false));
    // the synthetic sets too: the same seed gives the same job
    const set = (name: string) => fs.readFileSync(path.join(root, `run-${name}`, 'synthetic.safetensors'));
    expect(set('a').equals(set('b'))).toBe(true);
  });
});
