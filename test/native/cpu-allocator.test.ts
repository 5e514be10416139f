/**
 * The engine's CPU allocator (native/core/cpu_allocator.cc): freed blocks are reused, so a loop that
 * repeats itself stops mapping and zero-filling fresh memory. Each setting runs in a child process
 * of its own (the allocator is chosen when the addon loads). The page faults per iteration are
 * printed and bounded: a count, not a timing.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { backendInfo } from '../../src/backend/device';

const probe = path.join(__dirname, 'allocator-probe.ts');

function runProbe(env: NodeJS.ProcessEnv, iterations = 3) {
  const r = spawnSync(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), probe, String(iterations)], {
    encoding: 'utf8',
    env: { ...process.env, TRAJMATCH_CPU_ALLOCATOR: undefined, TRAJMATCH_CPU_CACHE_MIB: undefined, ...env },
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`the probe failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    allocator: ReturnType<typeof backendInfo>['cpuAllocator'];
    faultsPerIteration: number;
    userSecondsPerIteration: number;
    systemSecondsPerIteration: number;
    digest: string;
  };
}

describe('the CPU allocator', () => {
  test('is the engine default and reports itself', () => {
    expect(backendInfo().cpuAllocator).toMatchObject({ enabled: true, reason: 'default', cacheLimit: 1024 * 2 ** 20 });
  });

  test("distillation iterations take a bounded number of page faults once warm, and give the same results as libtorch's own allocator", () => {
    const reuse = runProbe({});
    const system = runProbe({ TRAJMATCH_CPU_ALLOCATOR: 'system' });
    // printed for the log: the figure this test guards
    console.log(
      `page faults per iteration (unroll + tesla + adjoint, 5 steps, 20 images, ConvNet width 32): reuse ${reuse.faultsPerIteration}, ` +
        `libtorch's own ${system.faultsPerIteration}; system CPU s per iteration ${reuse.systemSecondsPerIteration.toFixed(3)} vs ${system.systemSecondsPerIteration.toFixed(3)}`,
    );
    expect(reuse.allocator).toMatchObject({ enabled: true, evictions: 0 });
    // misses: the first pass, and sizes of DSA groups first drawn later (libtorch 2.6 without oneDNN: hits 91x misses)
    expect(reuse.allocator.hits).toBeGreaterThan(20 * reuse.allocator.misses);
    expect(reuse.allocator.cachedBytes).toBeLessThanOrEqual(reuse.allocator.cacheLimit);
    expect(system.allocator).toMatchObject({ enabled: false, reason: 'TRAJMATCH_CPU_ALLOCATOR=system', hits: 0 });
    expect(reuse.faultsPerIteration).toBeLessThan(3000);
    expect(reuse.faultsPerIteration * 10).toBeLessThan(system.faultsPerIteration);
    expect(reuse.digest).toBe(system.digest); // bit-identical losses and gradients
  }, 600_000);

  test("a cache limit of 0 keeps nothing (and still computes the same), and bad settings keep libtorch's allocator, saying why", () => {
    const none = runProbe({ TRAJMATCH_CPU_CACHE_MIB: '0' }, 2);
    expect(none.allocator).toMatchObject({ enabled: true, reason: 'TRAJMATCH_CPU_CACHE_MIB', cacheLimit: 0, cachedBytes: 0, hits: 0 });
    expect(none.digest).toBe(runProbe({ TRAJMATCH_CPU_ALLOCATOR: 'system' }, 2).digest);
    expect(runProbe({ TRAJMATCH_CPU_CACHE_MIB: 'lots' }, 1).allocator).toMatchObject({
      enabled: false,
      reason: "TRAJMATCH_CPU_CACHE_MIB must be a whole number of MiB (0 or more), received 'lots'; libtorch's own allocator is kept",
    });
    expect(runProbe({ TRAJMATCH_CPU_ALLOCATOR: 'jemalloc' }, 1).allocator).toMatchObject({
      enabled: false,
      reason: "TRAJMATCH_CPU_ALLOCATOR='jemalloc' is not 'reuse' or 'system'; libtorch's own is kept",
    });
  }, 600_000);
});
