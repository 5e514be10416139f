/** `trajmatch bench` (npm run bench): MTT vs MCT, with a JSON file of every figure and an HTML report. */
import { Command } from 'commander';
import * as path from 'path';
import { BenchOptions, runBench } from '../../bench/run';
import { pick } from '../options';
import { interruptExitCode, onInterrupt } from '../interrupt';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('benchmark MTT against MCT on the same experts: speed, memory, storage, convergence, stability; writes bench.json and report.html')
    .option('--preset <p>', 'quick (minutes on a CPU, the default) or full (GPU-sized, with the PyTorch reference)')
    .option('--out-dir <dir>', 'where bench.json, report.html and the runs go (default ./bench)')
    .option('--device <device>', "'auto' (default), 'cpu', 'cuda' or 'cuda:N'")
    .option('--seeds <list>', 'seeds of the convergence runs, e.g. 0,1,2', (v: string) => v.split(',').map(Number))
    .option('--grad-methods <list>', 'gradient methods to time, e.g. unroll,tesla,adjoint', (v: string) => v.split(','))
    .option('--reference <file>', 'the PyTorch reference script (ref_mtt.py) to run in the same call')
    .option('--sections <list>', 'sections to run, e.g. timing,reference (default: timing,storage,convergence,cross-architecture,reference)', (v: string) => v.split(','))
    .option('--buffer-path <dir>', 'root of the expert buffers (default ./buffers)')
    .option('--data-path <path>', 'Fashion-MNIST files (default /usr/share/datasets/fashion-mnist)')
    .option('--json', 'print the report as JSON instead of a summary')
    .action(async (flags: Record<string, unknown>) => {
      const options = pick(flags, {
        preset: 'preset', outDir: 'outDir', device: 'device', seeds: 'seeds', gradMethods: 'gradMethods',
        reference: 'reference', bufferPath: 'bufferPath', dataPath: 'dataPath', sections: 'sections',
      }) as BenchOptions;
      const ac = new AbortController();
      const stop = () => ac.abort(new Error('interrupted'));
      const release = onInterrupt(stop);
      const outDir = options.outDir ?? 'bench';
      try {
        const report = await runBench(options, { log: flags.json ? undefined : (l) => console.error(l), signal: ac.signal }, 'cli');
        if (flags.json) console.log(JSON.stringify(report));
        else {
          for (const t of report.timing) console.log(`${t.gradMethod.padEnd(8)} IPC ${t.ipc}: ${t.msPerIteration.toFixed(1)} ms/iteration, peak ${(t.peakRssBytes / 2 ** 20).toFixed(0)} MiB resident`);
          if (report.storage) console.log(`storage: MTT ${report.storage.mttBytes} bytes, MCT ${report.storage.mctBytes} bytes (${report.storage.ratio.toFixed(1)}x)`);
          if (report.stability) {
            for (const m of ['mtt', 'mct'] as const) {
              const s = report.stability[m];
              console.log(`${m.toUpperCase()}: final ${(100 * s.finalMean).toFixed(2)} +- ${(100 * s.finalStd).toFixed(2)}%, best ${(100 * s.bestMean).toFixed(2)} +- ${(100 * s.bestStd).toFixed(2)}% over ${s.seeds} seeds`);
            }
          }
          for (const m of report.missing) console.log(`missing: ${m}`);
          console.log(`report: ${path.join(outDir, 'report.html')}; figures: ${path.join(outDir, 'bench.json')}`);
        }
      } catch (e) {
        if (ac.signal.aborted) {
          console.error(`bench interrupted: what was measured is in ${path.join(outDir, 'bench.json')} and report.html, whose "missing" says what is not`);
          process.exitCode = interruptExitCode() ?? 130;
          return;
        }
        throw e;
      } finally {
        release();
      }
    });
}
