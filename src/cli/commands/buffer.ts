/** `trajmatch buffer`: train the expert trajectories (MTT, MCT or both forms). */
import { Command } from 'commander';
import { loadDataset } from '../../data/dataset';
import { BufferOptions, trainExperts } from '../../trajectory/buffer';
import { storageReport } from '../../trajectory/convert';
import { waypointPlan } from '../../trajectory/waypoints';
import { addDataOptions, addNetworkOptions, addOutputOptions, dataOptionsFrom, integerListArg, networkOptionsFrom, numberArg, pick } from '../options';
import { showExpertTraining } from '../progress';

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
    .action(async (flags: Record<string, unknown>) => {
      const quiet = Boolean(flags.quiet || flags.json);
      const dataset = await loadDataset(dataOptionsFrom(flags), 'cli');
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
      process.once('SIGINT', stop);
      try {
        const result = await trainExperts(dataset, { ...(options as BufferOptions), network: networkOptionsFrom(flags) }, { onEvent, signal: ac.signal });
        const storage = storageReport(result.dir, waypointPlan((options.waypoints as number | undefined) ?? 4, options.waypointEpochs as number[] | undefined));
        const summary = {
          dir: result.dir,
          trained: result.trained.map((t) => ({ expert: t.expert, testAccuracy: t.testAccuracy, secondsPerEpoch: t.secondsPerEpoch })),
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
        process.removeListener('SIGINT', stop);
        progress.close();
        dataset.dispose();
      }
    });
}
