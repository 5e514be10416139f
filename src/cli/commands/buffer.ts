/** `trajmatch buffer`: train the expert trajectories (MTT, MCT or both forms). */
import { Command } from 'commander';
import { loadDataset } from '../../data/dataset';
import { deviceForRank, rankFromEnv } from '../../distributed/env';
import { launchLocal } from '../../distributed/launch';
import { ProcessGroup } from '../../distributed/process-group';
import { bufferOptionsSchema, BufferOptions, trainExperts } from '../../trajectory/buffer';
import { parseOptions } from '../../config/validate';
import { TrajmatchInputError } from '../../errors';
import { storageReport } from '../../trajectory/convert';
import { waypointPlan } from '../../trajectory/waypoints';
import { addDataOptions, addNetworkOptions, addOutputOptions, dataOptionsFrom, integerListArg, networkOptionsFrom, numberArg, pick } from '../options';
import { showExpertTraining } from '../progress';
import { onInterrupt } from '../interrupt';

export function registerBuffer(program: Command): void {
  const cmd = program.command('buffer').description('train expert trajectories on the real data (a killed run resumes at the next expert)');
  addDataOptions(cmd);
  addNetworkOptions(cmd);
  addOutputOptions(cmd)
    .option('--num-experts <n>', 'experts to train (published: 100)', numberArg('integer'))
    .option('--train-epochs <n>', 'epochs per expert, T (published: 50)', numberArg('integer'))
    .option('--lr-teacher <lr>', 'SGD learning rate of the experts (published: 0.01)', numberArg('number'))
    .option('--mom <m>', 'SGD momentum (published: 0)', numberArg('number'))
    .option('--l2 <wd>', 'weight decay (published: 0)', numberArg('number'))
    .option('--batch-train <n>', 'batch size (published: 256)', numberArg('integer'))
    .option('--dsa-strategy <s>', 'DSA strategy (published: color_crop_cutout_flip_scale_rotate)')
    .option('--no-dsa', 'train the experts without augmentation')
    .option('--seed <n>', 'seed of initialisations, shuffles and augmentations (default 0)', numberArg('integer'))
    .option('--buffer-path <dir>', 'root folder of buffers (default ./buffers)')
    .option('--form <form>', 'mtt (all checkpoints), mct (convexified, written while training) or both (default)')
    .option('--waypoints <k>', 'MCT waypoints K, uniform scheme of trajectory_compression.py (published: 4)', numberArg('integer'))
    .option('--waypoint-epochs <list>', "MCT waypoints at these epochs, convexify.py's scheme (e.g. 0,6,25,50)", integerListArg)
    .option('--train-limit <n>', 'train on a seeded random subset of n training images (quick runs)', numberArg('integer'))
    .option('--workers <n>', 'train the experts in n processes on this host (one per GPU with CUDA); with RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT set, this process is one rank of a run over several hosts', numberArg('integer'))
    .option('--dist-timeout <s>', 'seconds after which a rank that is missing, dead or hung stops the run (default 60)', numberArg('number'))
    .action(async (flags: Record<string, unknown>) => {
      const rank = rankFromEnv();
      const workers = (flags.workers as number | undefined) ?? 1;
      const timeoutSeconds = (flags.distTimeout as number | undefined) ?? 60;
      if (workers < 1) throw new TrajmatchInputError(`Expected a positive integer for --workers but received ${workers}`);
      if (!(timeoutSeconds > 0)) throw new TrajmatchInputError(`Expected a positive number of seconds for --dist-timeout but received ${timeoutSeconds}`);
      if (rank === undefined && workers > 1) {
        // This process only launches: each rank runs this same command line with its variables set.
        await launchLocal({ nproc: workers, args: [...process.execArgv, ...process.argv.slice(1)], stopSeconds: timeoutSeconds });
        return;
      }
      const quiet = Boolean(flags.quiet || flags.json);
      const data = dataOptionsFrom(flags);
      if (rank) data.device = deviceForRank(data.device, rank.localRank);
      const dataset = await loadDataset(data, 'cli');
      const options = {
        ...pick(flags, {
          numExperts: 'numExperts', trainEpochs: 'epochs', lrTeacher: 'lrTeacher', mom: 'momentum', l2: 'weightDecay',
          batchTrain: 'batchSize', seed: 'seed', bufferPath: 'bufferPath', form: 'form', waypoints: 'waypoints', waypointEpochs: 'waypointEpochs', trainLimit: 'trainLimit',
        }),
        ...(flags.dsa === false ? { dsa: null } : flags.dsaStrategy !== undefined ? { dsa: flags.dsaStrategy } : {}),
      };
      const progress = showExpertTraining(quiet);
      const onEvent = progress.onEvent;
      const ac = new AbortController();
      const stop = () => ac.abort(new Error('interrupted: finished experts are kept; run the same command again to resume'));
      const release = onInterrupt(stop);
      let group: ProcessGroup | undefined;
      try {
        const network = networkOptionsFrom(flags);
        if (rank && rank.worldSize > 1) {
          // Every rank must train the same buffer: the resolved settings are compared at rendezvous.
          // (not the data's path: each host may keep its copy elsewhere; nor the device: one per rank)
          const dataSettings = Object.fromEntries(Object.entries(data).filter(([k]) => k !== 'dataPath' && k !== 'device'));
          group = await ProcessGroup.join({
            rank: rank.rank, worldSize: rank.worldSize, masterAddr: rank.masterAddr, masterPort: rank.masterPort, timeoutSeconds,
            agreed: { ...parseOptions(bufferOptionsSchema, options, 'cli'), ...dataSettings, network, timeoutSeconds },
          });
          // Another rank died, hung or failed: stop now, not after the epoch in progress.
          group.signal.addEventListener('abort', () => {
            console.error(`${(group!.signal.reason as Error).message}\nfinished experts are kept: run the same command again to resume`);
            process.exit(1);
          }, { once: true });
        }
        const result = await trainExperts(dataset, { ...(options as BufferOptions), network }, { onEvent, signal: ac.signal, group });
        await group?.close(); // rank 0 hosts the store: it leaves last
        if (group && group.rank !== 0) return; // rank 0 reports for all
        const storage = storageReport(result.dir, waypointPlan((options.waypoints as number | undefined) ?? 4, options.waypointEpochs as number[] | undefined));
        const summary = {
          dir: result.dir,
          trained: result.trained.map((t) => ({ expert: t.expert, testAccuracy: t.testAccuracy, secondsPerEpoch: t.secondsPerEpoch, ...(t.rank !== undefined ? { rank: t.rank } : {}) })),
          skipped: result.skipped,
          storage,
        };
        if (flags.json) console.log(JSON.stringify(summary));
        else {
          const perEpoch = result.trained.map((t) => t.secondsPerEpoch);
          if (perEpoch.length) console.log(`${(perEpoch.reduce((a, b) => a + b, 0) / perEpoch.length).toFixed(2)} s per expert epoch on ${dataset.device}`);
          if (storage.experts > 0) {
            console.log(`storage over ${storage.experts} expert(s): MTT ${storage.mttBytes} bytes, MCT ${storage.mctBytes} bytes (${storage.ratio.toFixed(1)}x smaller)`);
          }
          console.log(`experts in ${result.dir}`);
        }
      } finally {
        release();
        await group?.close(); // after a failure: at once
        progress.close();
        dataset.dispose();
      }
    });
}
