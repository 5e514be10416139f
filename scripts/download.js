'use strict';
// The download machinery shared by the prebuilt libtorch (npm install) and the datasets (--download):
// fetch a file over HTTP(S) into the per-user cache, check it against a pinned digest, and unpack it
// atomically. Plain CommonJS: it runs at install time, before the TypeScript is built.
//
// Written here rather than taken from a package because what matters is the combination no
// maintained package offers: a digest checked while streaming, resumption of a cut transfer with an
// HTTP Range request, a bounded number of clean retries, mirrors, and a cache in which nothing
// half-written or half-unpacked is ever visible (files and folders appear by rename when complete).
const { createHash } = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const os = require('os');
const path = require('path');

/** Errors of the download path; `code` says which kind (ENETWORK, ECHECKSUM, EHTTP, EOFFLINE, EUNPACK). */
class DownloadError extends Error {
  constructor(message, code, options) {
    super(message, options);
    this.name = 'DownloadError';
    this.code = code;
  }
}

/** The per-user cache shared by projects: $TRAJMATCH_CACHE, else $XDG_CACHE_HOME/trajmatch, else ~/.cache/trajmatch. */
function cacheDir(env = process.env) {
  if (env.TRAJMATCH_CACHE) return path.resolve(env.TRAJMATCH_CACHE);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(base, 'trajmatch');
}

/** Whether downloading is forbidden (TRAJMATCH_NO_DOWNLOAD set to anything but '', '0' or 'false'). */
function downloadsForbidden(env = process.env) {
  const v = env.TRAJMATCH_NO_DOWNLOAD;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

const MiB = 1024 * 1024;
function formatBytes(n) {
  return n >= 1024 * MiB ? `${(n / (1024 * MiB)).toFixed(2)} GiB` : `${(n / MiB).toFixed(1)} MiB`;
}
function formatSeconds(s) {
  if (!Number.isFinite(s)) return '?';
  s = Math.round(s);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
}

/**
 * Progress of one transfer on stderr: bytes, rate and ETA. On a terminal, a cli-progress bar; in a
 * log (CI, npm --foreground-scripts), one line every few seconds so that nothing looks stuck.
 */
function progressReporter(label, { stream = process.stderr, intervalMs = 5000 } = {}) {
  const created = Date.now();
  let began = created;
  let total = 0;
  let done = 0;
  let startedAt = 0;
  let bar = null;
  let lastLine = 0;
  // bytes per second over this transfer (a resumed one counts only what it fetched)
  const rate = () => (done - startedAt) / Math.max((Date.now() - began) / 1000, 1e-3);
  const line = () => {
    const pct = total ? ` (${((100 * done) / total).toFixed(0)}%)` : '';
    const eta = total && done > startedAt ? `, ETA ${formatSeconds((total - done) / rate())}` : '';
    return `${label}: ${formatBytes(done)}${total ? ` / ${formatBytes(total)}` : ''}${pct}, ${formatBytes(rate())}/s${eta}`;
  };
  return {
    start(totalBytes, already = 0) {
      total = totalBytes || 0;
      done = already;
      startedAt = already;
      began = Date.now();
      if (stream.isTTY) {
        const { SingleBar } = require('cli-progress');
        bar = new SingleBar({
          stream,
          format: (_o, p) => {
            done = p.value;
            return line();
          },
          hideCursor: false,
          clearOnComplete: false,
        });
        bar.start(total || 1, done);
      } else {
        stream.write(`${line()}\n`);
        lastLine = Date.now();
      }
    },
    update(bytes) {
      done = bytes;
      if (bar) bar.update(bytes);
      else if (Date.now() - lastLine >= intervalMs) {
        stream.write(`${line()}\n`);
        lastLine = Date.now();
      }
    },
    stop(ok) {
      if (bar) bar.stop();
      if (ok) stream.write(`${label}: ${formatBytes(done)} in ${formatSeconds((Date.now() - created) / 1000)}\n`);
    },
  };
}

const NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** One GET, following redirects; resolves with the response (status 200 or 206). */
function get(url, headers, timeoutMs, redirects = 5) {
  return new Promise((resolve, reject) => {
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      reject(new DownloadError(`not a valid URL: ${url}`, 'EHTTP'));
      return;
    }
    const lib = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : null;
    if (!lib) {
      reject(new DownloadError(`unsupported URL scheme in ${url} (expected http or https)`, 'EHTTP'));
      return;
    }
    const req = lib.get(parsed, { headers: { 'user-agent': 'trajmatch-download', ...headers }, timeout: timeoutMs }, (res) => {
      const status = res.statusCode || 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        if (redirects <= 0) {
          reject(new DownloadError(`too many redirects from ${url}`, 'EHTTP'));
          return;
        }
        resolve(get(new URL(res.headers.location, parsed).toString(), headers, timeoutMs, redirects - 1));
        return;
      }
      if (status !== 200 && status !== 206) {
        res.resume();
        reject(Object.assign(new DownloadError(`${url} answered HTTP ${status}`, 'EHTTP'), { status }));
        return;
      }
      resolve(res);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer from ${parsed.host} for ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

/**
 * Streams one URL into `partial`, resuming from the bytes already there when the server honours a
 * Range request; `hash` (and `md5`) are fed every byte of the file. Rejects when the connection is
 * cut before the announced length.
 */
async function transfer(url, partial, hashes, state, reporter, timeoutMs) {
  const headers = state.bytes > 0 ? { range: `bytes=${state.bytes}-` } : {};
  const res = await get(url, headers, timeoutMs);
  if (state.bytes > 0 && res.statusCode !== 206) {
    // The server sent the whole file again: start over.
    state.bytes = 0;
    fs.truncateSync(partial, 0);
    for (const k of Object.keys(hashes)) hashes[k] = createHash(k);
  }
  const length = Number(res.headers['content-length']);
  const total = Number.isFinite(length) ? state.bytes + length : 0;
  reporter.start(total, state.bytes);
  const out = fs.createWriteStream(partial, { flags: 'a' });
  await new Promise((resolve, reject) => {
    let failed = false;
    // Everything received so far is flushed before the retry resumes after it: the file, the byte
    // count and the digest stay in step.
    const fail = (e, writeError = false) => {
      if (failed) return;
      failed = true;
      res.destroy();
      if (writeError) {
        out.destroy();
        reject(e);
      } else {
        out.end(() => reject(e));
      }
    };
    res.setTimeout(timeoutMs, () =>
      fail(Object.assign(new Error(`the transfer from ${new URL(url).host} stalled for ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })),
    );
    res.on('data', (chunk) => {
      for (const h of Object.values(hashes)) h.update(chunk);
      state.bytes += chunk.length;
      reporter.update(state.bytes);
      if (!out.write(chunk)) {
        res.pause();
        out.once('drain', () => res.resume());
      }
    });
    res.on('aborted', () => fail(Object.assign(new Error(`the connection was cut after ${state.bytes} bytes`), { code: 'ECONNRESET' })));
    res.on('error', fail);
    out.on('error', (e) => fail(e, true));
    res.on('end', () => {
      if (failed) return;
      if (total && state.bytes < total) {
        fail(Object.assign(new Error(`the connection was cut after ${state.bytes} of ${total} bytes`), { code: 'ECONNRESET' }));
        return;
      }
      out.end(() => resolve());
    });
  });
}

/** Removes leftovers of transfers by processes that are gone (a killed download or unpack). */
function removeStaleParts(dir) {
  let entries;
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const m = name.match(/\.(\d+)\.(partial|unpacking)$/);
    if (!m) continue;
    let alive = true;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      alive = e.code === 'EPERM';
    }
    if (!alive) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

/**
 * Downloads `urls` (mirrors, tried in order) into the file `dest`, which appears only once its
 * digest matched. A file already at `dest` is the cache: nothing is downloaded again.
 *   sha256 / md5: the pinned digest (at least one is required); size: the expected byte count.
 *   label: what the progress lines call it; attempts: tries per URL (each resumes the last).
 * Returns { file, downloaded }.
 */
async function fetchVerified({ urls, dest, sha256, md5, size, label, attempts = 3, timeoutMs = 60000, env = process.env, reporter }) {
  if (fs.existsSync(dest)) return { file: dest, downloaded: false };
  if (!sha256 && !md5) throw new DownloadError(`no digest is pinned for ${label || dest}: refusing to download it unchecked`, 'ECHECKSUM');
  if (downloadsForbidden(env)) {
    throw new DownloadError(
      `${label || path.basename(dest)} is not in the cache (${dest}) and downloading is forbidden (TRAJMATCH_NO_DOWNLOAD=${env.TRAJMATCH_NO_DOWNLOAD})`,
      'EOFFLINE',
    );
  }
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  removeStaleParts(path.dirname(dest));
  const partial = `${dest}.${process.pid}.partial`;
  const failures = [];
  try {
    for (const url of urls) {
      fs.writeFileSync(partial, '');
      const state = { bytes: 0 };
      const hashes = {};
      if (sha256) hashes.sha256 = createHash('sha256');
      if (md5) hashes.md5 = createHash('md5');
      const report = reporter || progressReporter(`trajmatch: downloading ${label || path.basename(dest)} from ${new URL(url).host}`);
      let attempt = 0;
      for (;;) {
        attempt += 1;
        try {
          await transfer(url, partial, hashes, state, report, timeoutMs);
          report.stop(true);
          break;
        } catch (e) {
          report.stop(false);
          // A name that does not resolve or a port that refuses is not retried: there is no network.
          const retriable = NETWORK_CODES.has(e.code) && !(state.bytes === 0 && ['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED'].includes(e.code));
          if (retriable && attempt < attempts) {
            process.stderr.write(`trajmatch: ${e.message}; retrying (${attempt + 1}/${attempts})${state.bytes ? `, resuming at byte ${state.bytes}` : ''}\n`);
            await new Promise((r) => setTimeout(r, Math.min(1000 * attempt, 5000)));
            continue;
          }
          failures.push({ url, error: e });
          break;
        }
      }
      if (failures.length && failures[failures.length - 1].url === url) continue;

      const got = {};
      for (const [k, h] of Object.entries(hashes)) got[k] = h.digest('hex');
      const problems = [];
      if (size !== undefined && state.bytes !== size) problems.push(`${state.bytes} bytes, expected ${size}`);
      if (sha256 && got.sha256 !== sha256.toLowerCase()) problems.push(`sha256 ${got.sha256}, expected ${sha256.toLowerCase()}`);
      if (md5 && got.md5 !== md5.toLowerCase()) problems.push(`md5 ${got.md5}, expected ${md5.toLowerCase()}`);
      if (problems.length) {
        failures.push({ url, error: new DownloadError(`not the expected file: ${problems.join('; ')}`, 'ECHECKSUM') });
        continue;
      }
      fs.renameSync(partial, dest);
      return { file: dest, downloaded: true };
    }
  } finally {
    fs.rmSync(partial, { force: true });
  }
  const listed = failures.map((f) => `  ${f.url}: ${f.error.message}`).join('\n');
  if (failures.some((f) => f.error.code === 'ECHECKSUM')) {
    throw new DownloadError(
      `could not download ${label || path.basename(dest)}:\n${listed}\nWhat was downloaded was deleted and nothing was unpacked; ` +
        'a mirror may serve another file, or the transfer was altered. Check the address, or the digest you gave.',
      'ECHECKSUM',
    );
  }
  const offline = failures.every((f) => NETWORK_CODES.has(f.error.code));
  throw new DownloadError(
    `could not download ${label || path.basename(dest)}${offline ? ' (no network, or the server cannot be reached)' : ''}:\n${listed}`,
    offline ? 'ENETWORK' : failures[failures.length - 1].error.code || 'EHTTP',
    { cause: failures[failures.length - 1]?.error },
  );
}

/**
 * Unpacks a zip into `destDir` atomically: into a scratch folder beside it first, then one rename.
 * `top`: the single folder the archive holds (e.g. 'libtorch'), which becomes destDir.
 * `check(dir)`: called on the unpacked folder before the rename; throw to refuse it.
 */
async function unzipAtomic(zipFile, destDir, { top, check } = {}) {
  if (fs.existsSync(destDir)) return destDir;
  const yauzl = require('yauzl');
  const parent = path.dirname(destDir);
  fs.mkdirSync(parent, { recursive: true });
  removeStaleParts(parent);
  const scratch = `${destDir}.${process.pid}.unpacking`;
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(scratch);
  try {
    const zip = await yauzl.openPromise(zipFile, { lazyEntries: true, decodeStrings: true });
    await new Promise((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', resolve);
      zip.on('entry', (entry) => {
        const name = entry.fileName;
        // yauzl refuses absolute names and '..' itself (validateFileName); keep them inside scratch anyway.
        const target = path.join(scratch, name);
        if (!target.startsWith(scratch + path.sep)) {
          reject(new DownloadError(`${zipFile} holds an entry outside its folder: ${name}`, 'EUNPACK'));
          return;
        }
        const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
        const isDir = name.endsWith('/') || (mode & 0o170000) === 0o040000;
        const isLink = (mode & 0o170000) === 0o120000;
        if (isDir) {
          fs.mkdirSync(target, { recursive: true });
          zip.readEntry();
          return;
        }
        fs.mkdirSync(path.dirname(target), { recursive: true });
        zip.openReadStream(entry, (err, stream) => {
          if (err) {
            reject(err);
            return;
          }
          if (isLink) {
            const parts = [];
            stream.on('data', (c) => parts.push(c));
            stream.on('error', reject);
            stream.on('end', () => {
              const link = Buffer.concat(parts).toString('utf8');
              if (path.isAbsolute(link) || !path.resolve(path.dirname(target), link).startsWith(scratch + path.sep)) {
                reject(new DownloadError(`${zipFile} holds a link that points outside it: ${name} -> ${link}`, 'EUNPACK'));
                return;
              }
              fs.symlinkSync(link, target);
              zip.readEntry();
            });
            return;
          }
          const out = fs.createWriteStream(target, { mode: mode & 0o777 || 0o644 });
          stream.on('error', reject);
          out.on('error', reject);
          out.on('finish', () => zip.readEntry());
          stream.pipe(out);
        });
      });
      zip.readEntry();
    });
    const unpacked = top ? path.join(scratch, top) : scratch;
    if (top && !fs.existsSync(unpacked)) {
      throw new DownloadError(`${zipFile} does not hold the folder '${top}/' expected at its top`, 'EUNPACK');
    }
    if (check) check(unpacked);
    try {
      fs.renameSync(unpacked, destDir);
    } catch (e) {
      // Another process finished the same unpack first: its copy is as good as ours.
      if (!fs.existsSync(destDir)) throw e;
    }
    return destDir;
  } catch (e) {
    if (e instanceof DownloadError) throw e;
    throw new DownloadError(`could not unpack ${zipFile}: ${e.message}`, 'EUNPACK', { cause: e });
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

module.exports = { DownloadError, cacheDir, downloadsForbidden, fetchVerified, unzipAtomic, progressReporter, formatBytes, removeStaleParts };
