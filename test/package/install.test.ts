/**
 * The README's install, as a user of the package runs it: the package is packed (npm pack), served
 * by a local npm registry under its own name (every other package comes from the real registry
 * through it), and installed into a fresh project with the README's commands, word for word. With
 * npm 11 the install-script policy is made strict, so an approval that did not take would fail the
 * install instead of printing a warning. The native build runs for real, against the libtorch the
 * machine has (or the one LIBTORCH and friends name): this test takes minutes.
 */
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import { tempDir } from '../data/fixtures';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string };

/** The shell lines of the README's install block ("Using it in your own project"). */
function readmeInstallCommands(): string[] {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Using it in your own project'));
  const block = section.match(/```sh\n([\s\S]*?)```/);
  if (!block) throw new Error('README.md: no sh block under "Using it in your own project"');
  return block[1]
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean);
}

const upstream = (() => {
  try {
    return execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim().replace(/\/+$/, '');
  } catch {
    return 'https://registry.npmjs.org';
  }
})();

/** Serves the packed trajmatch under its name and passes every other request to the real registry. */
async function startRegistry(tarball: Buffer) {
  const integrity = `sha512-${crypto.createHash('sha512').update(tarball).digest('base64')}`;
  const shasum = crypto.createHash('sha1').update(tarball).digest('hex');
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const server = http.createServer(async (req, res) => {
    const url = req.url ?? '/';
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      if (url === `/${pkg.name}`) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            name: pkg.name,
            'dist-tags': { latest: pkg.version },
            versions: {
              [pkg.version]: {
                ...manifest,
                _id: `${pkg.name}@${pkg.version}`,
                hasInstallScript: true,
                dist: { tarball: `${base}/${pkg.name}/-/${pkg.name}-${pkg.version}.tgz`, integrity, shasum },
              },
            },
          }),
        );
        return;
      }
      if (url === `/${pkg.name}/-/${pkg.name}-${pkg.version}.tgz`) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': tarball.length });
        res.end(tarball);
        return;
      }
      const r = await fetch(upstream + url, { headers: { accept: String(req.headers.accept ?? '*/*') } });
      const body = Buffer.from(await r.arrayBuffer());
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    } catch (e) {
      res.writeHead(502).end(String(e));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Runs a shell line without blocking the event loop (the registry above lives in this process). */
function run(line: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', line], { cwd, env });
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.stderr.on('data', (c) => {
      out += c;
    });
    child.on('close', (status) => resolve({ status, out }));
  });
}

const npmMajor = Number(execFileSync('npm', ['--version'], { encoding: 'utf8' }).split('.')[0]);
const registryReachable = spawnSync('npm', ['ping', '--registry', upstream], { timeout: 30000 }).status === 0;

describe('the README install into a fresh project', () => {
  // CI always runs it; elsewhere it needs the npm registry.
  (registryReachable || process.env.CI ? test : test.skip)(
    'npm pack, then the README commands in a new project give a working trajmatch',
    async () => {
      const work = tempDir('install');
      try {
        // npm pack runs the prepare script (the TypeScript build), as publishing would.
        const packed = execFileSync('npm', ['pack', '--pack-destination', work, '--silent'], {
          cwd: root,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        })
          .trim()
          .split('\n')
          .pop()!;
        const tarball = fs.readFileSync(path.join(work, packed));
        const registry = await startRegistry(tarball);
        try {
          const project = path.join(work, 'project');
          fs.mkdirSync(project);
          fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'uses-trajmatch', version: '1.0.0', private: true }, null, 2));
          const env = {
            ...process.env,
            npm_config_registry: registry.url,
            npm_config_prefer_offline: 'true', // packages already in npm's cache are not fetched again
            npm_config_audit: 'false',
            npm_config_fund: 'false',
            ...(npmMajor >= 11 ? { npm_config_strict_allow_scripts: 'true' } : {}),
          };
          let output = '';
          for (const line of readmeInstallCommands()) {
            const r = await run(line, project, env);
            output += `$ ${line}\n${r.out}`;
            if (r.status !== 0) throw new Error(`"${line}" failed (exit ${r.status}):\n${output.slice(-6000)}`);
          }
          // The build said what it did: the libtorch chosen and why, the compile steps with the time.
          expect(output).toMatch(/trajmatch: building the native addon against libtorch \S+ \((CPU-only|CUDA), C\+\+11 ABI\) from .*: /);
          expect(output).toMatch(/trajmatch \[\d+:\d\d\] \[\s*\d+(%|\/\d+)\] Building CXX object/);
          expect(output).toMatch(/trajmatch: built build\/Release\/trajmatch\.node in \d+:\d\d/);
          expect(JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8')).allowScripts).toEqual({ [pkg.name]: true });

          // The installed package works: the engine loads and computes.
          const check = spawnSync(
            process.execPath,
            [
              '-e',
              `
          const t = require('trajmatch');
          const x = t.tensor(Float32Array.from([1, 2, 3, 4]), [2, 2]);
          console.log(JSON.stringify({ torch: t.backendInfo().torchVersion, values: Array.from(x.toArray()) }));
        `,
            ],
            { cwd: project, encoding: 'utf8' },
          );
          expect(check.stderr).toBe('');
          const result = JSON.parse(check.stdout.trim());
          expect(result.values).toEqual([1, 2, 3, 4]);
          expect(result.torch).toMatch(/^\d+\.\d+/);
          // what the README links to is in the package
          for (const f of ['LICENSE', 'README.md', 'binding.gyp.md', 'docs/ARCHITECTURE.md', 'docs/BENCHMARKS.md']) {
            expect(fs.existsSync(path.join(project, 'node_modules', pkg.name, f))).toBe(true);
          }
        } finally {
          await registry.close();
        }
      } finally {
        fs.rmSync(work, { recursive: true, force: true });
      }
    },
    40 * 60_000,
  );
});
