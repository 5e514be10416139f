import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// The command line as users run it (through ts-node, so the test needs no build).
function cli(...args: string[]) {
  const root = path.resolve(__dirname, '..', '..');
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(root, 'src/cli/main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TS_NODE_PROJECT: path.join(root, 'tsconfig.json') },
    timeout: 120000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('the command line', () => {
  test('bad options are named, with what was expected and received, and exit non-zero', () => {
    const lr = cli('distill', '--lr-img', 'abc');
    expect(lr.code).not.toBe(0);
    expect(lr.err).toContain("option '--lr-img <lr>' argument 'abc' is invalid. expected a number, received 'abc'");

    const preset = cli('distill', '--preset', 'nope');
    expect(preset.code).toBe(1);
    expect(preset.err).toMatch(/unknown preset 'nope'; expected one of fashion-mnist-cpu/);

    const method = cli('distill', '--method', 'dc', '--no-train-experts');
    expect(method.code).toBe(1);
    expect(method.err).toMatch(/--method: .*\(received "dc"\)/);

    const evalArgs = cli('eval');
    expect(evalArgs.code).toBe(1);
    expect(evalArgs.err).toContain('eval needs exactly one of --synthetic <file> or --baseline --ipc <n>');
  });

  test('library errors name the flag or the config-file entry that set the option', () => {
    const flag = cli('distill', '--net-depth', '0', '--device', 'cpu', '--no-train-experts');
    expect(flag.code).toBe(1);
    expect(flag.err).toMatch(/--net-depth: .*\(received 0\)/);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajmatch-cli-'));
    const config = path.join(dir, 'job.json');
    fs.writeFileSync(config, JSON.stringify({ distill: { lrImg: -2 }, network: { depth: 'x' } }));
    const file = cli('distill', '--config', config);
    expect(file.code).toBe(1);
    expect(file.err).toContain(`Invalid options in the config file ${config}:`);
    expect(file.err).toMatch(/network\.depth: .*\(received "x"\)/);
    expect(file.err).toMatch(/distill\.lrImg: .*\(received -2\)/);
    fs.rmSync(dir, { recursive: true, force: true });

    const ipc = cli('eval', '--baseline', '--ipc', '-1');
    expect(ipc.code).toBe(1);
    expect(ipc.err).toMatch(/--ipc: .*\(received -1\)/);
  });

  test('convert: importing and exporting published .pt buffers need their inputs, named', () => {
    const noDataset = cli('convert', '--from-pt', 'replay_buffer_0.pt');
    expect(noDataset.code).toBe(1);
    expect(noDataset.err).toContain('--from-pt needs --dataset: the dataset the experts were trained on (a .pt file does not say)');
    const missing = cli('convert', '--from-pt', '/nonexistent/replay_buffer_0.pt', '--dataset', 'cifar10');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('/nonexistent/replay_buffer_0.pt: no such file');
    const unpaired = cli('convert', '--from-pt', '/nonexistent/waypoint_buffer_ip4_0.pt', '--dataset', 'cifar10');
    expect(unpaired.err).toContain("MCT's buffers come in pairs, and /nonexistent/waypoint_buffer_ip4_0.pt is missing");
    const empty = cli('convert', '--buffer-dir', '/nonexistent', '--to-pt', '/tmp/x');
    expect(empty.err).toContain('/nonexistent: no MTT expert files (expert_NNN.mtt.safetensors) to export');
    const epochs = cli('distill', '--waypoint-epochs', '0,x,50');
    expect(epochs.err).toContain("expected comma-separated integers such as 0,6,25,50, received '0,x,50'");
  });

  test('distill --help says where each preset comes from', () => {
    const r = cli('distill', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/cifar10-ipc1-mct-zca: .*\n\s+from: MCT distill_compressed\.py closing comment \(48\.48%\)/);
    expect(r.out).toMatch(/fashion-mnist-cpu: .*\n\s+from: ours/);
    expect(r.out).toContain('--teacher-label');
  });

  test("eval --help states the defaults that apply: a synthetic set's own metadata, the schemas' with --baseline", () => {
    const r = cli('eval', '--help');
    expect(r.code).toBe(0);
    const help = r.out.replace(/\s+/g, ' ');
    expect(help).toContain("--net-width <n> channels of each conv layer (default the synthetic set's; 128 with --baseline)");
    expect(help).toContain("--net-depth <n> conv blocks (default the synthetic set's; 3 with --baseline)");
    expect(help).toContain("(default the synthetic set's; fashion-mnist with --baseline)");
    expect(help).toContain("--image-size <n> imagefolder: resize images to n x n (default the synthetic set's; 32 with --baseline)");
    expect(help).toContain("--lr <lr> training lr (default: the synthetic set's learned lr; the experts' 0.01 for the baseline)");
    expect(help).toMatch(/--num-eval <n> fresh networks \(default 5\)/);
    expect(help).not.toMatch(/\(default [^)]*\) \(default/); // one default each
  });

  test('info prints the libtorch in use', () => {
    const r = cli('info');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^libtorch \d+\.\d+\.\d+ \((CPU-only|CUDA) build/);
  });
});
