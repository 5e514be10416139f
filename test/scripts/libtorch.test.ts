import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// scripts/ is plain CommonJS (it runs before TypeScript is built); load it as such.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { findLibtorch } = require('../../scripts/libtorch') as {
  findLibtorch(env: Record<string, string | undefined>): { source: string; torchDir: string; prefix: string } | null;
};

describe('libtorch discovery', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trajmatch-libtorch-'));
  const fake = (dir: string) => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'TorchConfig.cmake'), '# fake');
    return dir;
  };
  const prefix = path.join(root, 'wheel', 'share', 'cmake');
  const prefixTorch = fake(path.join(prefix, 'Torch'));
  const unzipped = path.join(root, 'libtorch');
  const unzippedTorch = fake(path.join(unzipped, 'share', 'cmake', 'Torch'));
  const torchDir = fake(path.join(root, 'custom', 'Torch'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('LIBTORCH_CMAKE_PREFIX comes first', () => {
    const found = findLibtorch({ LIBTORCH_CMAKE_PREFIX: prefix, LIBTORCH: unzipped, Torch_DIR: torchDir });
    expect(found).toEqual({ source: 'LIBTORCH_CMAKE_PREFIX', torchDir: prefixTorch, prefix });
  });

  test('then LIBTORCH, the root of an unzipped libtorch', () => {
    expect(findLibtorch({ LIBTORCH: unzipped, Torch_DIR: torchDir })).toMatchObject({ source: 'LIBTORCH', torchDir: unzippedTorch });
  });

  test('then Torch_DIR', () => {
    expect(findLibtorch({ Torch_DIR: torchDir })).toMatchObject({ source: 'Torch_DIR', torchDir });
  });

  test('a variable that points at no libtorch is an error naming it, not a silent fall-through', () => {
    expect(() => findLibtorch({ LIBTORCH: path.join(root, 'missing') })).toThrow(
      /LIBTORCH=.*missing does not hold a libtorch: expected the root of an unzipped libtorch[\s\S]*Provide libtorch in one of these ways/,
    );
    expect(() => findLibtorch({ Torch_DIR: root })).toThrow(/Torch_DIR=.* expected the folder that holds TorchConfig\.cmake/);
  });

  const system = ['/usr', '/usr/local'].some(
    (p) =>
      fs.existsSync(path.join(p, 'lib')) &&
      fs.readdirSync(path.join(p, 'lib')).some((d) => fs.existsSync(path.join(p, 'lib', d, 'cmake', 'Torch', 'TorchConfig.cmake'))),
  );
  (system ? test : test.skip)('without variables or python3 torch, the system package is found', () => {
    const found = findLibtorch({ PATH: '/nonexistent' });
    expect(found?.source).toBe('the system libtorch');
  });
});

describe('what an installed libtorch is', () => {
  const {
    inspectLibtorch,
    usabilityProblem,
    describe: describeLibtorch,
    // eslint-disable-next-line @typescript-eslint/no-require-imports
  } = require('../../scripts/libtorch') as {
    inspectLibtorch(torchDir: string): { version: string; cxx11Abi: boolean | null; cuda: boolean; missing: string[]; libDir: string; installPrefix: string };
    usabilityProblem(info: object): string | null;
    describe(info: object): string;
  };
  const debian = '/usr/lib/x86_64-linux-gnu/cmake/Torch';
  (fs.existsSync(path.join(debian, 'TorchConfig.cmake')) ? test : test.skip)("Debian's libtorch-dev: its version, ABI, CPU-only, complete", () => {
    const info = inspectLibtorch(debian);
    expect(info).toMatchObject({ cxx11Abi: true, cuda: false, missing: [], libDir: '/usr/lib/x86_64-linux-gnu', installPrefix: '/usr' });
    expect(info.version).toMatch(/^(1\.13|2\.\d+)\.\d+$/);
    expect(usabilityProblem(info)).toBeNull();
    expect(describeLibtorch(info)).toMatch(/^libtorch \S+ \(CPU-only, C\+\+11 ABI\)$/);
  });
});
