/** The download machinery (scripts/download.js) against a local HTTP server. */
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes, tempDir } from '../data/fixtures';
import { makeZip } from './archives';
import { closedPort, sha256, startServer, TestServer } from './server';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dl = require('../../scripts/download') as {
  fetchVerified(o: {
    urls: string[];
    dest: string;
    sha256?: string;
    md5?: string;
    size?: number;
    label?: string;
    env?: NodeJS.ProcessEnv;
    reporter?: unknown;
  }): Promise<{ file: string; downloaded: boolean }>;
  unzipAtomic(zip: string, dest: string, o?: { top?: string; check?: (dir: string) => void }): Promise<string>;
  cacheDir(env: NodeJS.ProcessEnv): string;
};

const quiet = { start() {}, update() {}, stop() {} };

describe('download machinery', () => {
  let server: TestServer;
  let dir: string;
  const body = Buffer.from(randomBytes(300_000, 3));
  beforeAll(async () => {
    server = await startServer();
    server.serve('/files/data.bin', body);
  });
  afterAll(() => server.close());
  beforeEach(() => {
    dir = tempDir('download');
    server.requests.length = 0;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const leftovers = () => fs.readdirSync(dir).filter((f) => /partial|unpacking/.test(f));

  test('the cache folder follows TRAJMATCH_CACHE, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(dl.cacheDir({ TRAJMATCH_CACHE: '/x/y' })).toBe('/x/y');
    expect(dl.cacheDir({ XDG_CACHE_HOME: '/c' })).toBe('/c/trajmatch');
    expect(dl.cacheDir({})).toMatch(/\.cache\/trajmatch$/);
  });

  test('a file is fetched, checked and put in place; a second fetch reuses the cache without a request', async () => {
    const dest = path.join(dir, 'data.bin');
    const first = await dl.fetchVerified({ urls: [`${server.url}/files/data.bin`], dest, sha256: sha256(body), size: body.length, env: {}, reporter: quiet });
    expect(first.downloaded).toBe(true);
    expect(fs.readFileSync(dest).equals(body)).toBe(true);
    const again = await dl.fetchVerified({ urls: [`${server.url}/files/data.bin`], dest, sha256: sha256(body), env: {}, reporter: quiet });
    expect(again.downloaded).toBe(false);
    expect(server.requests).toHaveLength(1);
    expect(leftovers()).toEqual([]);
  });

  test('a transfer cut half way resumes with a Range request and ends with the right file', async () => {
    server.cutAfter('/files/data.bin', 120_000);
    const dest = path.join(dir, 'data.bin');
    await dl.fetchVerified({ urls: [`${server.url}/files/data.bin`], dest, sha256: sha256(body), size: body.length, env: {}, reporter: quiet });
    expect(fs.readFileSync(dest).equals(body)).toBe(true);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1].range).toMatch(/^bytes=\d+-$/);
    expect(leftovers()).toEqual([]);
  });

  test('a transfer cut every time fails cleanly after its retries, leaving nothing behind', async () => {
    server.cutAfter('/files/data.bin', 1000, 3);
    const dest = path.join(dir, 'data.bin');
    const err = await dl.fetchVerified({ urls: [`${server.url}/files/data.bin`], dest, sha256: sha256(body), env: {}, reporter: quiet }).catch((e) => e);
    expect(err.message).toMatch(/could not download data\.bin[\s\S]*cut after/);
    expect(server.requests).toHaveLength(3);
    expect(server.requests.slice(1).every((r) => /^bytes=\d+-$/.test(r.range ?? ''))).toBe(true);
    expect(fs.existsSync(dest)).toBe(false);
    expect(leftovers()).toEqual([]);
    server.cutAfter('/files/data.bin', 0, 0);
  });

  test('an address that answers 404 is an HTTP error naming it', async () => {
    const err = await dl
      .fetchVerified({ urls: [`${server.url}/files/missing.bin`], dest: path.join(dir, 'm.bin'), sha256: sha256(body), env: {}, reporter: quiet })
      .catch((e) => e);
    expect(err.code).toBe('EHTTP');
    expect(err.message).toMatch(/missing\.bin answered HTTP 404/);
    expect(leftovers()).toEqual([]);
  });

  test('a digest mismatch is a clear error and nothing is left in the cache', async () => {
    const dest = path.join(dir, 'data.bin');
    const wrong = 'a'.repeat(64);
    const err = await dl.fetchVerified({ urls: [`${server.url}/files/data.bin`], dest, sha256: wrong, env: {}, reporter: quiet }).catch((e) => e);
    expect(err.code).toBe('ECHECKSUM');
    expect(err.message).toContain(`sha256 ${sha256(body)}, expected ${wrong}`);
    expect(err.message).toMatch(/deleted and nothing was unpacked/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test('a mirror that fails is followed by the next one', async () => {
    const dest = path.join(dir, 'data.bin');
    await dl.fetchVerified({ urls: [`${server.url}/nowhere/data.bin`, `${server.url}/files/data.bin`], dest, sha256: sha256(body), env: {}, reporter: quiet });
    expect(server.requests.map((r) => r.path)).toEqual(['/nowhere/data.bin', '/files/data.bin']);
  });

  test('without a network the error says so and names the address', async () => {
    const base = await closedPort();
    const err = await dl
      .fetchVerified({ urls: [`${base}/data.bin`], dest: path.join(dir, 'data.bin'), sha256: sha256(body), env: {}, reporter: quiet })
      .catch((e) => e);
    expect(err.code).toBe('ENETWORK');
    expect(err.message).toMatch(/no network, or the server cannot be reached/);
    expect(err.message).toContain(`${base}/data.bin`);
    expect(leftovers()).toEqual([]);
  });

  test('TRAJMATCH_NO_DOWNLOAD forbids the download; an unpinned file is refused', async () => {
    const dest = path.join(dir, 'data.bin');
    await expect(
      dl.fetchVerified({ urls: [`${server.url}/files/data.bin`], dest, sha256: sha256(body), env: { TRAJMATCH_NO_DOWNLOAD: '1' }, reporter: quiet }),
    ).rejects.toThrow(/downloading is forbidden \(TRAJMATCH_NO_DOWNLOAD=1\)/);
    await expect(dl.fetchVerified({ urls: [`${server.url}/files/data.bin`], dest, env: {}, reporter: quiet })).rejects.toThrow(/no digest is pinned/);
    expect(server.requests).toHaveLength(0);
  });

  test('a zip is unpacked atomically, with modes and links; a refused one leaves nothing', async () => {
    const zip = path.join(dir, 'a.zip');
    fs.writeFileSync(
      zip,
      await makeZip([
        { name: 'top/bin/run', data: Buffer.from('#!/bin/sh\n'), mode: 0o100755 },
        { name: 'top/lib/libx.so.1', data: Buffer.from('x') },
        { name: 'top/lib/libx.so', link: 'libx.so.1' },
      ]),
    );
    const dest = path.join(dir, 'unpacked');
    await dl.unzipAtomic(zip, dest, { top: 'top' });
    expect(fs.statSync(path.join(dest, 'bin', 'run')).mode & 0o111).not.toBe(0);
    expect(fs.readlinkSync(path.join(dest, 'lib', 'libx.so'))).toBe('libx.so.1');
    const refused = path.join(dir, 'refused');
    await expect(
      dl.unzipAtomic(zip, refused, {
        top: 'top',
        check: () => {
          throw new Error('not wanted');
        },
      }),
    ).rejects.toThrow(/not wanted/);
    await expect(dl.unzipAtomic(zip, refused, { top: 'elsewhere' })).rejects.toThrow(/does not hold the folder 'elsewhere\/'/);
    expect(fs.readdirSync(dir).sort()).toEqual(['a.zip', 'unpacked']);
  });
});
