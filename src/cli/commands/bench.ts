/** `trajmatch bench` (npm run bench): MTT vs MCT, with a JSON file of every figure and an HTML report. */
import { Command } from 'commander';
import * as path from 'path';
import { referenceRowFor } from '../../bench/reference';
import { benchOptionsSchema, runBench } from '../../bench/run';
import { parseOptions } from '../../config/validate';
import { checkOutputDir } from '../../io/output-path';
import { addFlags, COMMAND_FLAGS, givenFlags, inUserTermsOnError } from '../flags';
import { interruptExitCode, onInterrupt } from '../interrupt';
import { errorFields, openOutput, writeJsonLine } from '../output';

export function registerBench(program: Command): void {
  const flags = COMMAND_FLAGS.bench;
  const cmd = addFlags(
    program
      .command('bench')
      .description('benchmark MTT against MCT on the same experts: speed, memory, storage, convergence, stability; writes bench.json and report.html'),
    flags,
  );
  cmd.action(async () => {
    const given = givenFlags(cmd, flags);
    await inUserTermsOnError(flags, given.sources, async () => {
      const output = openOutput(given.groups.output);
      const options = parseOptions(benchOptionsSchema, given.groups.bench ?? {}, 'bench');
      // where it writes, before minutes of training and timing
      checkOutputDir(options.outDir, 'bench.outDir');
      if (options.bufferPath !== undefined) checkOutputDir(options.bufferPath, 'bench.bufferPath');
      const ac = new AbortController();
      const stop = () => ac.abort(new Error('interrupted'));
      const release = onInterrupt(stop);
      try {
        const report = await runBench(options, {
          log: (message) => {
            output.event({ type: 'log', message }, 'bench.');
            output.screen.log(message);
          },
          signal: ac.signal,
        });
        output.result(report, () => {
          for (const t of report.timing) {
            const r = referenceRowFor(report.reference, t);
            output.print(
              `${t.gradMethod.padEnd(8)} IPC ${t.ipc}: ${t.msPerIteration.toFixed(1)} ms/iteration, ${Math.round(t.minorFaultsPerIteration)} page faults/iteration, ` +
                `${t.userSeconds.toFixed(2)} s user + ${t.systemSeconds.toFixed(2)} s system, peak ${(t.peakRssBytes / 2 ** 20).toFixed(0)} MiB resident` +
                (r ? `; PyTorch eager ${r.msPerIteration.toFixed(1)} ms/iteration (${(r.msPerIteration / t.msPerIteration).toFixed(2)}x ours)` : ''),
            );
          }
          if (report.reference && !report.reference.available) output.print(`PyTorch reference: not available (${report.reference.reason})`);
          if (report.storage)
            output.print(`storage: MTT ${report.storage.mttBytes} bytes, MCT ${report.storage.mctBytes} bytes (${report.storage.ratio.toFixed(1)}x)`);
          if (report.stability) {
            for (const m of ['mtt', 'mct'] as const) {
              const s = report.stability[m];
              output.print(
                `${m.toUpperCase()}: final ${(100 * s.finalMean).toFixed(2)} +- ${(100 * s.finalStd).toFixed(2)}%, best ${(100 * s.bestMean).toFixed(2)} +- ${(100 * s.bestStd).toFixed(2)}% over ${s.seeds} seeds`,
              );
            }
          }
          for (const m of report.missing) output.print(`missing: ${m}`);
          for (const [section, state] of Object.entries(report.sections)) {
            if (state.status === 'partial') output.print(`partial: ${section} (${state.notes.join('; ')})`);
          }
          output.print(`report: ${path.join(options.outDir, 'report.html')}; figures: ${path.join(options.outDir, 'bench.json')}`);
        });
      } catch (e) {
        if (ac.signal.aborted) {
          const message = `bench interrupted: what was measured is in ${path.join(options.outDir, 'bench.json')} and report.html, whose "missing" says what is not`;
          process.exitCode = interruptExitCode() ?? 130;
          // the library's error (TrajmatchInterrupted), with what the command kept
          if (output.json) writeJsonLine(errorFields(Object.assign(new Error(message), { name: (e as Error).name }), process.exitCode));
          else console.error(message);
          return;
        }
        throw e;
      } finally {
        release();
        output.close();
      }
    });
  });
}
