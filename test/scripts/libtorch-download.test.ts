/**
 * Choosing, downloading and checking a libtorch (scripts/setup.js ensureLibtorch and
 * scripts/libtorch-prebuilt.js), against a local HTTP server that serves zips the test makes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from '../data/fixtures';
import { fakeLibtorchZip } from './archives';
import { closedPort, sha256, startServer, TestServer } from './server';

interface Chosen {
  source: string;
  torchDir: string;
  version: string;
  cuda: boolean;
  why: string;
  description: string;
}
/* eslint-disable @typescript-eslint/no-require-imports */
const { ensureLibtorch } = require('../../scripts/setup') as {
  ensureLibtorch(o: { env: NodeJS.ProcessEnv; log: (line: string) => void }): Promise<Chosen>;
};
const prebuilt = require('../../scripts/libtorch-prebuilt') as {
  PREBUILT: Record<string, Record<string, string | null>>;
  choosePrebuilt(
    driver: string | null,
    env: NodeJS.ProcessEnv,
  ): { version: string; variant: string; url: string; sha256: string | null; sha256Source: string | null; reason: string };
};
/* eslint-enable @typescript-eslint/no-require-imports */

const systemLibtorch = ['/usr/lib/x86_64-linux-gnu/cmake/Torch', '/usr/local/share/cmake/Torch'].some((d) => fs.existsSync(path.join(d, 'TorchConfig.cmake')));

describe('which prebuilt libtorch fits the machine', () => {
  const choose = (driver: string | null, env: NodeJS.ProcessEnv = {}) => prebuilt.choosePrebuilt(driver, env);

  test('every pinned digest is a sha256', () => {
    for (const variants of Object.values(prebuilt.PREBUILT)) {
      for (const digest of Object.values(variants)) if (digest !== null) expect(digest).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  test('without an NVIDIA driver: the CPU build of the newest version with a pinned digest', () => {
    const c = choose(null);
    expect(c).toMatchObject({ variant: 'cpu', version: '2.5.1', sha256Source: 'pinned' });
    expect(c.url).toBe('https://download.pytorch.org/libtorch/cpu/libtorch-cxx11-abi-shared-with-deps-2.5.1%2Bcpu.zip');
    expect(c.reason).toMatch(/no NVIDIA driver/);
  });

  test('a driver picks the newest CUDA build it runs, preferring one with a pinned digest', () => {
    expect(choose('550.54.14')).toMatchObject({ version: '2.6.0', variant: 'cu124', sha256Source: 'pinned' });
    const newer = choose('570.86.10');
    expect(newer).toMatchObject({ version: '2.6.0', variant: 'cu124' });
    expect(newer.reason).toMatch(/runs CUDA builds up to cu126; cu126 of 2.6.0 has no pinned sha256, cu124 has/);
  });

  test('a driver too old for the pinned CUDA builds still gets a CUDA build, whose digest the user must give', () => {
    const c = choose('535.104.05');
    expect(c).toMatchObject({ version: '2.6.0', variant: 'cu118', sha256: null });
    expect(choose('535.104.05', { TRAJMATCH_LIBTORCH_SHA256: 'ab'.repeat(32) })).toMatchObject({
      sha256: 'ab'.repeat(32),
      sha256Source: 'TRAJMATCH_LIBTORCH_SHA256',
    });
  });

  test('a driver older than every CUDA build: the CPU build, and why', () => {
    const c = choose('470.82.01');
    expect(c.variant).toBe('cpu');
    expect(c.reason).toMatch(/driver 470\.82\.01 is too old for the CUDA builds/);
  });

  test('TRAJMATCH_LIBTORCH_VERSION, _VARIANT and _MIRROR choose the build and the address', () => {
    const c = choose('560.28.03', {
      TRAJMATCH_LIBTORCH_VERSION: '2.6.0',
      TRAJMATCH_LIBTORCH_VARIANT: 'cu126',
      TRAJMATCH_LIBTORCH_MIRROR: 'http://mirror.local/torch/',
    });
    expect(c).toMatchObject({ version: '2.6.0', variant: 'cu126', sha256: null });
    expect(c.url).toBe('http://mirror.local/torch/cu126/libtorch-cxx11-abi-shared-with-deps-2.6.0%2Bcu126.zip');
    expect(choose('560.28.03', { TRAJMATCH_LIBTORCH_VARIANT: 'cpu' }).variant).toBe('cpu');
  });

  test('bad choices are errors that say what is wrong', () => {
    expect(() => choose('550.54.14', { TRAJMATCH_LIBTORCH_VARIANT: 'cu126' })).toThrow(
      /cu126 needs NVIDIA driver 560\.28\.03 or newer, this machine has 550\.54\.14/,
    );
    expect(() => choose(null, { TRAJMATCH_LIBTORCH_VARIANT: 'cuda' })).toThrow(/no NVIDIA driver/);
    expect(() => choose(null, { TRAJMATCH_LIBTORCH_VARIANT: 'rocm' })).toThrow(/TRAJMATCH_LIBTORCH_VARIANT=rocm is not a libtorch variant/);
    expect(() => choose(null, { TRAJMATCH_LIBTORCH_VERSION: 'latest' })).toThrow(/not a libtorch version/);
    expect(() => choose('550.54.14', { TRAJMATCH_LIBTORCH_SHA256: 'cd'.repeat(32) })).toThrow(/differs from the sha256 pinned/);
  });
});

describe('the prebuilt libtorch, downloaded from a local server', () => {
  let server: TestServer;
  let cache: string;
  let cpuZip: Buffer;
  let cudaZip: Buffer;
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const base = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
    PATH: '/nonexistent', // no python3: its torch is not a candidate here
    TRAJMATCH_CACHE: cache,
    TRAJMATCH_LIBTORCH_MIRROR: server.url,
    TRAJMATCH_NVIDIA_DRIVER: 'none',
    ...extra,
  });
  beforeAll(async () => {
    server = await startServer();
    cpuZip = await fakeLibtorchZip({ version: '2.6.0' });
    cudaZip = await fakeLibtorchZip({ version: '2.6.0', cuda: true });
    server.serve('/cpu/libtorch-cxx11-abi-shared-with-deps-2.6.0+cpu.zip', cpuZip);
    server.serve('/cu126/libtorch-cxx11-abi-shared-with-deps-2.6.0+cu126.zip', cudaZip);
    server.serve('/cu124/libtorch-cxx11-abi-shared-with-deps-2.6.0+cu124.zip', cudaZip);
  });
  afterAll(() => server.close());
  beforeEach(() => {
    cache = tempDir('libtorch-cache');
    server.requests.length = 0;
    lines.length = 0;
  });
  afterEach(() => fs.rmSync(cache, { recursive: true, force: true }));
  const cacheEntries = () => fs.readdirSync(cache).flatMap((e) => (e === 'downloads' ? fs.readdirSync(path.join(cache, e)).map((f) => `downloads/${f}`) : [e]));

  test('downloaded, checked and unpacked into the cache; the next build reuses it without a request', async () => {
    const env = base({
      TRAJMATCH_LIBTORCH_PREBUILT: '1',
      TRAJMATCH_LIBTORCH_VERSION: '2.6.0',
      TRAJMATCH_LIBTORCH_VARIANT: 'cpu',
      TRAJMATCH_LIBTORCH_SHA256: sha256(cpuZip),
    });
    const t = await ensureLibtorch({ env, log });
    expect(t).toMatchObject({ version: '2.6.0', cuda: false, source: 'the prebuilt libtorch 2.6.0+cpu' });
    expect(t.torchDir).toBe(path.join(cache, 'libtorch-2.6.0-cpu', 'share', 'cmake', 'Torch'));
    expect(t.why).toMatch(/TRAJMATCH_LIBTORCH_PREBUILT is set; TRAJMATCH_LIBTORCH_VARIANT=cpu; downloaded into/);
    expect(fs.readlinkSync(path.join(cache, 'libtorch-2.6.0-cpu', 'lib', 'libtorch.so'))).toBe('libtorch.so.2');
    expect(lines.join('\n')).toMatch(/downloading libtorch 2\.6\.0\+cpu .*sha256 TRAJMATCH_LIBTORCH_SHA256/);
    expect(cacheEntries()).toEqual(['libtorch-2.6.0-cpu']); // the zip is gone once unpacked
    expect(server.requests).toHaveLength(1);

    const again = await ensureLibtorch({ env, log });
    expect(again.why).toMatch(/cached in/);
    expect(server.requests).toHaveLength(1);
  });

  test('with an NVIDIA driver, an installed CPU-only libtorch is passed over for a CUDA one, and it says so', async () => {
    const env = base({
      TRAJMATCH_NVIDIA_DRIVER: '560.28.03',
      TRAJMATCH_LIBTORCH_VERSION: '2.6.0',
      TRAJMATCH_LIBTORCH_VARIANT: 'cu126',
      TRAJMATCH_LIBTORCH_SHA256: sha256(cudaZip),
    });
    const t = await ensureLibtorch({ env, log });
    expect(t).toMatchObject({ version: '2.6.0', cuda: true, source: 'the prebuilt libtorch 2.6.0+cu126' });
    expect(t.description).toBe('libtorch 2.6.0 (CUDA, C++11 ABI)');
    if (systemLibtorch) {
      expect(lines.join('\n')).toMatch(
        /passed over the system libtorch .* is libtorch \S+ \(CPU-only, C\+\+11 ABI\), and TRAJMATCH_LIBTORCH_VARIANT=cu126 asks for CUDA/,
      );
      // Left to choose, the driver's newest pinned build is 2.6.0+cu124, whose digest the fake zip does
      // not match: refused with the reason, and the CPU libtorch is still not taken behind the user's back.
      const auto = await ensureLibtorch({
        env: { ...env, TRAJMATCH_LIBTORCH_VARIANT: undefined, TRAJMATCH_LIBTORCH_VERSION: undefined, TRAJMATCH_LIBTORCH_SHA256: undefined },
        log: () => {},
      }).catch((e: Error) => e);
      expect(String(auto)).toMatch(
        /2\.6\.0%2Bcu124\.zip: not the expected file[\s\S]*Passed over:\n {2}the system libtorch .* is libtorch \S+ \(CPU-only, C\+\+11 ABI\) and this machine has an NVIDIA GPU \(driver 560\.28\.03\): a CUDA libtorch is preferred \(TRAJMATCH_LIBTORCH_VARIANT=cpu would take this one\)/,
      );
    }
  });

  test('a sha256 mismatch is a clear error and leaves nothing half-unpacked in the cache', async () => {
    // 2.6.0+cu124 has a pinned digest, which the fake zip cannot match
    const env = base({ TRAJMATCH_LIBTORCH_PREBUILT: '1', TRAJMATCH_NVIDIA_DRIVER: '550.54.14', TRAJMATCH_LIBTORCH_VERSION: '2.6.0' });
    const err = await ensureLibtorch({ env, log }).catch((e: Error) => e);
    expect(String(err)).toMatch(/libtorch-cxx11-abi-shared-with-deps-2\.6\.0%2Bcu124\.zip: not the expected file: sha256 [0-9a-f]{64}, expected be21b2ad/);
    expect(String(err)).toMatch(/deleted and nothing was unpacked/);
    expect(cacheEntries()).toEqual([]);
  });

  test('a download cut half way is retried cleanly', async () => {
    server.cutAfter('/cpu/libtorch-cxx11-abi-shared-with-deps-2.6.0+cpu.zip', Math.floor(cpuZip.length / 2));
    const env = base({
      TRAJMATCH_LIBTORCH_PREBUILT: '1',
      TRAJMATCH_LIBTORCH_VERSION: '2.6.0',
      TRAJMATCH_LIBTORCH_VARIANT: 'cpu',
      TRAJMATCH_LIBTORCH_SHA256: sha256(cpuZip),
    });
    const t = await ensureLibtorch({ env, log });
    expect(t.version).toBe('2.6.0');
    // the second request resumes where the first stopped (the last bytes written before a reset may be lost)
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0].range).toBeUndefined();
    const resumedAt = Number(server.requests[1].range?.match(/^bytes=(\d+)-$/)?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(Math.floor(cpuZip.length / 2));
    expect(cacheEntries()).toEqual(['libtorch-2.6.0-cpu']);
  });

  test('a build with no pinned digest is not downloaded unchecked: the user is asked for one', async () => {
    const env = base({ TRAJMATCH_LIBTORCH_PREBUILT: '1', TRAJMATCH_LIBTORCH_VERSION: '2.6.0', TRAJMATCH_LIBTORCH_VARIANT: 'cpu' });
    const err = await ensureLibtorch({ env, log }).catch((e: Error) => e);
    expect(String(err)).toMatch(/no sha256 is pinned for libtorch-cxx11-abi-shared-with-deps-2\.6\.0\+cpu\.zip[\s\S]*TRAJMATCH_LIBTORCH_SHA256=<digest>/);
    expect(server.requests).toHaveLength(0);
  });

  test('without a network, the message lists the ways to provide libtorch', async () => {
    const env = base({ TRAJMATCH_LIBTORCH_PREBUILT: '1', TRAJMATCH_LIBTORCH_MIRROR: await closedPort() });
    const err = await ensureLibtorch({ env, log }).catch((e: Error) => e);
    expect(String(err)).toMatch(/no usable libtorch\. could not download libtorch 2\.5\.1\+cpu \(no network, or the server cannot be reached\)/);
    expect(String(err)).toMatch(
      /Provide libtorch in one of these ways:[\s\S]*LIBTORCH=\/path\/to\/libtorch[\s\S]*pip install torch[\s\S]*apt-get install libtorch-dev/,
    );
    const forbidden = await ensureLibtorch({ env: { ...env, TRAJMATCH_NO_DOWNLOAD: '1' }, log }).catch((e: Error) => e);
    expect(String(forbidden)).toMatch(/downloading is forbidden \(TRAJMATCH_NO_DOWNLOAD=1\)[\s\S]*Provide libtorch in one of these ways/);
    expect(cacheEntries()).toEqual([]);
  });
});

describe('a libtorch that cannot be used is named, with what was found and what to do', () => {
  let root: string;
  beforeEach(() => {
    root = tempDir('libtorch-bad');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { unzipAtomic } = require('../../scripts/download') as { unzipAtomic(zip: string, dest: string, o?: { top?: string }): Promise<string> };
  const unpack = async (opts: Parameters<typeof fakeLibtorchZip>[0]) => {
    const zip = path.join(root, 'l.zip');
    fs.writeFileSync(zip, await fakeLibtorchZip({ padding: 16, ...opts }));
    return unzipAtomic(zip, path.join(root, 'libtorch'), { top: 'libtorch' });
  };
  const env = (dir: string, extra: NodeJS.ProcessEnv = {}) => ({
    PATH: '/nonexistent',
    TRAJMATCH_NVIDIA_DRIVER: 'none',
    TRAJMATCH_CACHE: root,
    LIBTORCH: dir,
    ...extra,
  });
  const quiet = () => {};

  test('too old', async () => {
    const dir = await unpack({ version: '1.12.1' });
    await expect(ensureLibtorch({ env: env(dir), log: quiet })).rejects.toThrow(/LIBTORCH=.*: libtorch 1\.12\.1 is too old: trajmatch needs 1\.13\.0 or newer/);
  });

  test('the pre-C++11 ABI', async () => {
    const dir = await unpack({ abi: 0 });
    await expect(ensureLibtorch({ env: env(dir), log: quiet })).rejects.toThrow(
      /pre-C\+\+11 ABI \(_GLIBCXX_USE_CXX11_ABI=0\)[\s\S]*take the zip named "cxx11-abi"/,
    );
  });

  test('CPU-only where CUDA was asked for', async () => {
    const dir = await unpack({});
    await expect(ensureLibtorch({ env: env(dir, { TRAJMATCH_LIBTORCH_VARIANT: 'cuda' }), log: quiet })).rejects.toThrow(
      /LIBTORCH=.* is libtorch 2\.6\.0 \(CPU-only, C\+\+11 ABI\), but TRAJMATCH_LIBTORCH_VARIANT=cuda asks for CUDA/,
    );
  });

  test('a CPU-only one named on a GPU machine is used, with a warning', async () => {
    const dir = await unpack({});
    const lines: string[] = [];
    const t = await ensureLibtorch({ env: env(dir, { TRAJMATCH_NVIDIA_DRIVER: '550.54.14' }), log: (l) => lines.push(l) });
    expect(t.why).toBe('LIBTORCH is set');
    expect(lines.join('\n')).toMatch(
      /warning: LIBTORCH=.* is libtorch 2\.6\.0 \(CPU-only, C\+\+11 ABI\) but this machine has an NVIDIA GPU \(driver 550\.54\.14\): the engine will run on the CPU only/,
    );
  });

  test('broken: a library missing or a dangling link', async () => {
    const missing = await unpack({ omit: ['libtorch/lib/libc10.so'] });
    await expect(ensureLibtorch({ env: env(missing), log: quiet })).rejects.toThrow(/it is incomplete: .*libc10\.so missing or a broken link/);
    fs.rmSync(missing, { recursive: true });
    const dangling = await unpack({ omit: ['libtorch/lib/libtorch.so.2'] });
    await expect(ensureLibtorch({ env: env(dangling), log: quiet })).rejects.toThrow(/incomplete: .*lib\/libtorch\.so missing or a broken link/);
  });
});
