/**
 * Datasets downloaded into the cache (scripts/datasets.js through src/data/download.ts and
 * loadDataset's `download` option), against a local HTTP server.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readRawDataset } from '../../src/data/dataset';
import { randomBytes, tempDir, writeMnist } from './fixtures';
import { makeZip } from '../scripts/archives';
import { closedPort, md5, sha256, startServer, TestServer } from '../scripts/server';

interface CatalogEntry {
  bases: string[];
  files: { name: string; size: number; sha256?: string; md5?: string; unzip?: string }[];
  dataPath(dir: string): string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const datasets = require('../../scripts/datasets') as {
  CATALOG: Record<string, CatalogEntry>;
  fetchDataset(
    name: string,
    o: { env: NodeJS.ProcessEnv; catalog?: Record<string, CatalogEntry>; log?: (l: string) => void },
  ): Promise<{ dataPath: string; downloaded: boolean }>;
};

const MNIST_FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

describe('the dataset catalog', () => {
  test('every dataset that can be downloaded has official addresses, sizes and digests', () => {
    expect(Object.keys(datasets.CATALOG).sort()).toEqual(['cifar10', 'cifar100', 'fashion-mnist', 'mnist', 'tiny-imagenet']);
    for (const entry of Object.values(datasets.CATALOG)) {
      for (const base of entry.bases) expect(base).toMatch(/^https?:\/\/[^/]+\/.*\/$|^https?:\/\/[^/]+\/$/);
      for (const f of entry.files) {
        expect(f.size).toBeGreaterThan(0);
        expect(f.sha256 ?? f.md5).toBeDefined();
        if (f.sha256) expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
        if (f.md5) expect(f.md5).toMatch(/^[0-9a-f]{32}$/);
      }
    }
    expect(datasets.CATALOG['fashion-mnist'].files.map((f) => f.name).sort()).toEqual([...MNIST_FILES].sort());
  });
});

describe('dataset downloads from a local server', () => {
  let server: TestServer;
  let cache: string;
  let source: string;
  const files = new Map<string, Buffer>();
  let testCatalog: Record<string, CatalogEntry>;
  const quiet = () => {};
  beforeAll(async () => {
    server = await startServer();
    source = tempDir('dl-source');
    writeMnist(path.join(source, 'mnist'), { nTrain: 30, nTest: 10 });
    for (const f of MNIST_FILES) files.set(f, fs.readFileSync(path.join(source, 'mnist', f)));
    // what the test catalog serves: the IDX files, and a zip that unpacks into a folder
    for (const [name, body] of files) server.serve(`/mnist/${name}`, body);
    const zip = await makeZip([
      { name: 'tiny/readme.txt', data: Buffer.from('hello') },
      { name: 'tiny/data.bin', data: Buffer.from(randomBytes(50_000, 9)) },
    ]);
    server.serve('/tiny/tiny.zip', zip);
    testCatalog = {
      mnist: {
        bases: ['unused'],
        files: MNIST_FILES.map((name) => ({ name, size: files.get(name)!.length, sha256: sha256(files.get(name)!) })),
        dataPath: (d) => d,
      },
      tiny: { bases: ['unused'], files: [{ name: 'tiny.zip', size: zip.length, md5: md5(zip), unzip: 'tiny' }], dataPath: (d) => path.join(d, 'tiny') },
    };
  });
  afterAll(async () => {
    await server.close();
    fs.rmSync(source, { recursive: true, force: true });
  });
  beforeEach(() => {
    cache = tempDir('dl-cache');
    server.requests.length = 0;
  });
  afterEach(() => fs.rmSync(cache, { recursive: true, force: true }));
  const env = (extra: NodeJS.ProcessEnv = {}) => ({ TRAJMATCH_CACHE: cache, TRAJMATCH_DATASETS_MIRROR: server.url, ...extra });
  const leftovers = (dir: string): string[] =>
    fs
      .readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => /partial|unpacking/.test(f));

  test('every file is fetched and checked into the cache; a second call downloads nothing', async () => {
    const r = await datasets.fetchDataset('mnist', { env: env(), catalog: testCatalog, log: quiet });
    expect(r).toEqual({ dataPath: path.join(cache, 'datasets', 'mnist'), downloaded: true });
    for (const f of MNIST_FILES) expect(fs.readFileSync(path.join(r.dataPath, f)).equals(files.get(f)!)).toBe(true);
    expect(server.requests).toHaveLength(4);
    const again = await datasets.fetchDataset('mnist', { env: env(), catalog: testCatalog, log: quiet });
    expect(again.downloaded).toBe(false);
    expect(server.requests).toHaveLength(4);
  });

  test('a zip is unpacked into its folder and removed', async () => {
    const r = await datasets.fetchDataset('tiny', { env: env(), catalog: testCatalog, log: quiet });
    expect(r.dataPath).toBe(path.join(cache, 'datasets', 'tiny', 'tiny'));
    expect(fs.readFileSync(path.join(r.dataPath, 'readme.txt'), 'utf8')).toBe('hello');
    expect(fs.readdirSync(path.join(cache, 'datasets', 'tiny'))).toEqual(['tiny']);
  });

  test('a transfer cut half way is resumed and the dataset is complete', async () => {
    const name = 'train-images-idx3-ubyte.gz';
    server.cutAfter(`/mnist/${name}`, Math.floor(files.get(name)!.length / 2));
    const r = await datasets.fetchDataset('mnist', { env: env(), catalog: testCatalog, log: quiet });
    expect(fs.readFileSync(path.join(r.dataPath, name)).equals(files.get(name)!)).toBe(true);
    expect(server.requests.filter((q) => q.path === `/mnist/${name}`).map((q) => q.range === undefined)).toEqual([true, false]);
    expect(leftovers(cache)).toEqual([]);
  });

  test('the official digests refuse other bytes: a clear error, nothing left in the cache', async () => {
    // the real catalog, pointed at the local server, which serves the test's files instead of MNIST's
    const err = await datasets.fetchDataset('mnist', { env: env(), log: quiet }).catch((e: Error) => e);
    expect(String(err)).toMatch(
      /\/mnist\/train-images-idx3-ubyte\.gz: not the expected file: \d+ bytes, expected 9912422; sha256 [0-9a-f]{64}, expected 440fcabf/,
    );
    expect(fs.readdirSync(path.join(cache, 'datasets', 'mnist'))).toEqual([]);
  });

  test('without a network, or with downloads forbidden, the error says so', async () => {
    const offline = await datasets.fetchDataset('mnist', { env: env({ TRAJMATCH_DATASETS_MIRROR: await closedPort() }), log: quiet }).catch((e: Error) => e);
    expect(String(offline)).toMatch(/could not download mnist train-images-idx3-ubyte\.gz \(no network, or the server cannot be reached\)/);
    const forbidden = await datasets.fetchDataset('mnist', { env: env({ TRAJMATCH_NO_DOWNLOAD: '1' }), log: quiet }).catch((e: Error) => e);
    expect(String(forbidden)).toMatch(/downloading is forbidden/);
  });

  describe('through loadDataset', () => {
    const saved = { ...process.env };
    beforeEach(() => {
      process.env.TRAJMATCH_CACHE = cache;
      process.env.TRAJMATCH_DATASETS_MIRROR = server.url;
    });
    afterEach(() => {
      for (const k of ['TRAJMATCH_CACHE', 'TRAJMATCH_DATASETS_MIRROR']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    });

    test('a dataset already in the cache is read from there without a data path, and without a request', async () => {
      const dir = path.join(cache, 'datasets', 'mnist');
      writeMnist(dir, { nTrain: 12, nTest: 6 });
      const raw = await readRawDataset({ dataset: 'mnist' });
      expect(raw.train.labels.length).toBe(12);
      expect(raw.source).toContain(dir);
      expect(server.requests).toHaveLength(0);
    });

    test('missing and not asked to download: the error says how to provide it, naming the option', async () => {
      // the library names options by key path; the CLI turns them into its flags (test/cli/cli.test.ts)
      await expect(readRawDataset({ dataset: 'mnist' })).rejects.toThrow(
        /dataset 'mnist' needs a data path \(data\.dataPath\).*, or data\.download to download it into .*datasets\/mnist/,
      );
      expect(server.requests).toHaveLength(0);
    });

    test('download: true fetches it, and the official digests are enforced', async () => {
      server.serve('/cifar10/cifar-10-binary.tar.gz', Buffer.from(randomBytes(1000, 4)));
      await expect(readRawDataset({ dataset: 'cifar10', download: true })).rejects.toThrow(
        /dataset 'cifar10': could not download cifar10 cifar-10-binary\.tar\.gz[\s\S]*expected 170052171; sha256/,
      );
      expect(server.requests.map((r) => r.path)).toEqual(['/cifar10/cifar-10-binary.tar.gz']);
      expect(fs.readdirSync(path.join(cache, 'datasets', 'cifar10'))).toEqual([]);
    });
  });
});
