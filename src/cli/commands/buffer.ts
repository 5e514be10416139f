/** `trajmatch buffer`: train the expert trajectories (MTT, MCT or both forms), in one process or several. */
import { Command } from 'commander';
import { parseOptions } from '../../config/validate';
import { loadDataset } from '../../data/dataset';
import { deviceForRank, rankFromEnv } from '../../distributed/env';
import { launchLocal } from '../../distributed/launch';
import { ProcessGroup } from '../../distributed/process-group';
import { expected } from '../../errors';
import { checkOutputDir } from '../../io/output-path';
import { BufferEvent, bufferOptionsSchema, trainExperts } from '../../trajectory/buffer';
import { storageReport } from '../../trajectory/convert';
import { waypointPlan } from '../../trajectory/waypoints';
import { addFlags, COMMAND_FLAGS, givenFlags, inUserTermsOnError } from '../flags';
import { showExpertTraining } from '../progress';
import { onInterrupt } from '../interrupt';
import { errorFields, openOutput, writeJsonLine } from '../output';

/** Processes of a run without --workers, and the seconds of --dist-timeout without it. */
const DEFAULT_WORKERS = 1;
const DEFAULT_DIST_TIMEOUT = 60;

export function registerBuffer(program: Command): void {
  const flags = COMMAND_FLAGS.buffer;
  const cmd = addFlags(program.command('buffer').description('train expert trajectories on the real data (a killed run resumes at the next expert)'), flags);
  cmd.action(async () => {
    const given = givenFlags(cmd, flags);
    await inUserTermsOnError(flags, given.sources, async () => {
      const command = given.groups.command ?? {};
      const rank = rankFromEnv();
      const workers = (command.workers as number | undefined) ?? DEFAULT_WORKERS;
      const timeoutSeconds = (command.distTimeout as number | undefined) ?? DEFAULT_DIST_TIMEOUT;
      if (workers < 1) throw expected('--workers', 'a positive integer', workers);
      if (!(timeoutSeconds > 0)) throw expected('--dist-timeout', 'a positive number of seconds', timeoutSeconds);
      if (rank === undefined && workers > 1) {
        // This process only launches: each rank runs this same command line with its variables set.
        await launchLocal({ nproc: workers, args: [...process.execArgv, ...process.argv.slice(1)], stopSeconds: timeoutSeconds });
        return;
      }
      const options = parseOptions(bufferOptionsSchema, given.groups.buffer ?? {}, 'buffer');
      checkOutputDir(options.bufferPath, 'buffer.bufferPath'); // before loading the data
      const network = given.groups.network ?? {};
      const data = { ...given.groups.data };
      if (rank) data.device = deviceForRank(data.device as string | undefined, rank.localRank);
      const dataset = await loadDataset(data);
      // rank 0 reports for all
      const output = openOutput(given.groups.output, rank !== undefined && rank.rank !== 0);
      const showExperts = showExpertTraining(output.screen);
      const onEvent = (e: BufferEvent) => {
        output.event(e, 'buffer.');
        showExperts(e);
      };
      const ac = new AbortController();
      const stop = () => ac.abort(new Error('interrupted: finished experts are kept; run the same command again to resume'));
      const release = onInterrupt(stop);
      let group: ProcessGroup | undefined;
      try {
        if (rank && rank.worldSize > 1) {
          // Every rank must train the same buffer: the resolved settings are compared at rendezvous.
          // (not the data's path: each host may keep its copy elsewhere; nor the device: one per rank)
          const dataSettings = Object.fromEntries(Object.entries(data).filter(([k]) => k !== 'dataPath' && k !== 'device'));
          group = await ProcessGroup.join({
            rank: rank.rank,
            worldSize: rank.worldSize,
            masterAddr: rank.masterAddr,
            masterPort: rank.masterPort,
            timeoutSeconds,
            agreed: { ...options, ...dataSettings, network, timeoutSeconds },
          });
          // Another rank died, hung or failed: stop now, not after the epoch in progress.
          group.signal.addEventListener(
            'abort',
            () => {
              const message = `${(group!.signal.reason as Error).message}\nfinished experts are kept: run the same command again to resume`;
              if (output.json) writeJsonLine(errorFields(new Error(message), 1));
              else console.error(message);
              process.exit(1);
            },
            { once: true },
          );
        }
        const result = await trainExperts(dataset, { ...options, network }, { onEvent, signal: ac.signal, group });
        await group?.close(); // rank 0 hosts the store: it leaves last
        if (group && group.rank !== 0) return; // rank 0 reports for all
        const storage = storageReport(result.dir, waypointPlan(options.waypoints, options.waypointEpochs));
        const summary = {
          dir: result.dir,
          trained: result.trained.map((t) => ({
            expert: t.expert,
            testAccuracy: t.testAccuracy,
            secondsPerEpoch: t.secondsPerEpoch,
            ...(t.rank !== undefined ? { rank: t.rank } : {}),
          })),
          skipped: result.skipped,
          storage,
        };
        output.result(summary, () => {
          const perEpoch = result.trained.map((t) => t.secondsPerEpoch);
          if (perEpoch.length) output.print(`${(perEpoch.reduce((a, b) => a + b, 0) / perEpoch.length).toFixed(2)} s per expert epoch on ${dataset.device}`);
          if (storage.experts > 0) {
            output.print(
              `storage over ${storage.experts} expert(s): MTT ${storage.mttBytes} bytes, MCT ${storage.mctBytes} bytes (${storage.ratio.toFixed(1)}x smaller)`,
            );
          }
          output.print(`experts in ${result.dir}`);
        });
      } finally {
        release();
        await group?.close(); // after a failure: at once
        output.close();
        dataset.dispose();
      }
    });
  });
}
