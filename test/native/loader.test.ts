import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadAddon, TrajmatchLoadError } from '../../src';
import { defaultAddonPaths } from '../../src/native';

describe('loading the native addon', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajmatch-loader-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the built addon loads', () => {
    const addon = loadAddon();
    expect(typeof addon.backendInfo).toBe('function');
  });

  test('a missing .node gives one message listing what was tried and how to fix it', () => {
    const missing = path.join(dir, 'nowhere', 'trajmatch.node');
    let error: Error | undefined;
    try {
      loadAddon([missing]);
    } catch (e) {
      error = e as Error;
    }
    expect(error).toBeInstanceOf(TrajmatchLoadError);
    expect(error!.message).toContain(`${missing}: not found`);
    expect(error!.message).toContain('npm run build:native');
  });

  test("a broken .node is reported with the loader's reason, not a crash", () => {
    const broken = path.join(dir, 'broken.node');
    fs.writeFileSync(broken, 'this is not a shared library');
    expect(() => loadAddon([broken])).toThrow(new RegExp(`${broken.replace(/[.]/g, '\\.')}: cannot be loaded \\(.*(invalid ELF header|too short)`));
  });

  test('an addon of another version is named as such', () => {
    const other = path.join(dir, 'other.js');
    fs.writeFileSync(other, 'module.exports = { backendInfo() {} };');
    expect(() => loadAddon([other])).toThrow(/built from another version of trajmatch \(missing Tensor, parseDevice/);
  });

  test('TRAJMATCH_NATIVE is tried first', () => {
    const saved = process.env.TRAJMATCH_NATIVE;
    process.env.TRAJMATCH_NATIVE = path.join(dir, 'custom.node');
    try {
      expect(defaultAddonPaths()[0]).toBe(path.join(dir, 'custom.node'));
    } finally {
      if (saved === undefined) delete process.env.TRAJMATCH_NATIVE;
      else process.env.TRAJMATCH_NATIVE = saved;
    }
  });
});
