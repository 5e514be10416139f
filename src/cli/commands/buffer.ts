/** `trajmatch buffer`: train the expert trajectories (MTT, MCT or both forms). */
import { Command } from 'commander';
import { parseOptions } from '../../config/validate';
import { loadDataset } from '../../data/dataset';
import { bufferOptionsSchema, trainExperts } from '../../trajectory/buffer';
import { storageReport } from '../../trajectory/convert';
import { addFlags, COMMAND_FLAGS, givenFlags, inUserTermsOnError } from '../flags';
import { showExpertTraining } from '../progress';

export function registerBuffer(program: Command): void {
  const flags = COMMAND_FLAGS.buffer;
  const cmd = addFlags(program.command('buffer').description('train expert trajectories on the real data (a killed run resumes at the next expert)'), flags);
  cmd.action(async () => {
    const given = givenFlags(cmd, flags);
    await inUserTermsOnError(flags, given.sources, async () => {
      const out = given.groups.output ?? {};
      const quiet = Boolean(out.quiet || out.json);
      const options = parseOptions(bufferOptionsSchema, given.groups.buffer ?? {}, 'buffer');
      const dataset = await loadDataset(given.groups.data);
      const progress = showExpertTraining(quiet);
      const ac = new AbortController();
      const stop = () => ac.abort(new Error('interrupted: finished experts are kept; run the same command again to resume'));
      process.once('SIGINT', stop);
      try {
        const result = await trainExperts(dataset, { ...options, network: given.groups.network }, { onEvent: progress.onEvent, signal: ac.signal });
        const storage = storageReport(result.dir, options.waypoints);
        const summary = {
          dir: result.dir,
          trained: result.trained.map((t) => ({ expert: t.expert, testAccuracy: t.testAccuracy, secondsPerEpoch: t.secondsPerEpoch })),
          skipped: result.skipped,
          storage,
        };
        if (out.json) console.log(JSON.stringify(summary));
        else {
          const perEpoch = result.trained.map((t) => t.secondsPerEpoch);
          if (perEpoch.length) console.log(`${(perEpoch.reduce((a, b) => a + b, 0) / perEpoch.length).toFixed(2)} s per expert epoch on ${dataset.device}`);
          if (storage.experts > 0) {
            console.log(`storage over ${storage.experts} expert(s): MTT ${storage.mttBytes} bytes, MCT ${storage.mctBytes} bytes (${storage.ratio.toFixed(1)}x smaller)`);
          }
          console.log(`experts in ${result.dir}`);
        }
      } finally {
        process.removeListener('SIGINT', stop);
        progress.close();
        dataset.dispose();
      }
    });
  });
}
