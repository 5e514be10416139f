import { spawnSync } from 'child_process';
import { backendInfo, resolveDevice, tensor, TrajmatchInputError } from '../../src';
import { numbers } from '../helpers';
import { native } from '../../src/native';

const info = backendInfo();

describe('device selection', () => {
  test('backendInfo describes the libtorch in use', () => {
    expect(info.torchVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(info.cudaDeviceCount).toBe(info.cudaAvailable ? info.cudaDeviceCount : 0);
  });

  test("'auto' is CUDA when available, else the CPU", () => {
    expect(resolveDevice('auto')).toBe(info.cudaAvailable ? 'cuda:0' : 'cpu');
    expect(resolveDevice()).toBe(resolveDevice('auto'));
  });

  test("'cpu' is always available", () => {
    expect(resolveDevice('cpu')).toBe('cpu');
  });

  test('malformed device names are errors that name the option', () => {
    expect(() => resolveDevice('gpu')).toThrow(TrajmatchInputError);
    expect(() => resolveDevice('gpu')).toThrow("device: unknown device 'gpu': expected 'cpu', 'cuda' or 'cuda:N'");
    expect(() => resolveDevice('cpu:1', 'eval.device')).toThrow(/^eval\.device: unknown device 'cpu:1'/);
    expect(() => resolveDevice(3 as never)).toThrow(/for device but received number/);
  });

  test('the device peak is reported for CUDA with allocator statistics, and is null on the CPU', () => {
    expect(native().devicePeakBytes('cpu')).toBeNull();
    expect(native().devicePeakBytes('cpu', { reset: true })).toBeNull();
    if (info.cudaAvailable && info.deviceMemoryStats) {
      native().devicePeakBytes('cuda:0', { reset: true });
      const t = tensor(new Float32Array(1 << 20), [1 << 20], { device: 'cuda' });
      expect(native().devicePeakBytes('cuda:0')).toBeGreaterThanOrEqual(4 << 20);
      t.dispose();
    }
    expect(() => native().devicePeakBytes('gpu')).toThrow("unknown device 'gpu'");
  });

  (info.cudaAvailable ? test.skip : test)('a CUDA request without CUDA says so', () => {
    const why = info.builtWithCuda ? /no CUDA device is visible/ : /was built without CUDA/;
    expect(() => resolveDevice('cuda')).toThrow(why);
    expect(() => resolveDevice('cuda:0')).toThrow(/device 'cuda:0' was requested/);
    expect(() => tensor(new Float32Array(2), [2], { device: 'cuda' })).toThrow(why);
  });

  (info.cudaAvailable ? test : test.skip)('tensors move to CUDA and back with equal values', () => {
    const t = tensor(new Float32Array([1, 2, 3, 4]), [2, 2], { device: 'cuda' });
    expect(t.device).toBe('cuda:0');
    expect(numbers(t)).toEqual([1, 2, 3, 4]);
    const c = t.to({ device: 'cpu' });
    expect(c.device).toBe('cpu');
    expect(() => resolveDevice(`cuda:${info.cudaDeviceCount}`)).toThrow(/CUDA device\(s\) are visible/);
    t.dispose();
    c.dispose();
  });

  test('oneDNN: its version, whether the engine uses it, and why; TRAJMATCH_ONEDNN decides', () => {
    const o = info.oneDnn;
    if (o.version === null) {
      expect(o).toEqual({ version: null, enabled: false, reason: 'this libtorch has no oneDNN' });
      return;
    }
    expect(o.version).toMatch(/^\d+(\.\d+)*$/);
    if (process.env.TRAJMATCH_ONEDNN) expect(o.reason).toBe(`TRAJMATCH_ONEDNN=${process.env.TRAJMATCH_ONEDNN}`);
    else if (o.version === '3.7.2')
      expect(o).toMatchObject({ enabled: false, reason: expect.stringMatching(/NaN convolution gradients.*TRAJMATCH_ONEDNN=1 turns it on/) });
    else expect(o).toMatchObject({ enabled: true, reason: 'no known problem' });
    const addon = require.resolve('../../build/Release/trajmatch.node');
    for (const [value, enabled] of [
      ['0', false],
      ['1', true],
    ] as const) {
      const r = spawnSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(addon)}).backendInfo().oneDnn))`], {
        encoding: 'utf8',
        env: { ...process.env, TRAJMATCH_ONEDNN: value },
      });
      expect(JSON.parse(r.stdout)).toEqual({ version: o.version, enabled, reason: `TRAJMATCH_ONEDNN=${value}` });
    }
  });
});
