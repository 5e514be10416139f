/**
 * `trajmatch distill` (npm run distill): with no arguments, the whole default job on Fashion-MNIST
 * with MCT: a preset that fits the device, experts trained first if the buffer lacks them, the
 * distillation with evaluations, and where the results are.
 */
import { Command } from 'commander';
import { PRESETS } from '../../distill/presets';
import { DistillOptions } from '../../distill/options';
import { JobEvent, runDistillJob } from '../../distill/job';
import { readConfigFile } from '../config-file';
import { addDataOptions, addNetworkOptions, addOutputOptions, dataOptionsFrom, integerListArg, networkOptionsFrom, numberArg, pick } from '../options';
import { progressBar, showExpertTraining } from '../progress';
import { onInterrupt } from '../interrupt';

const DISTILL_FLAGS = {
  method: 'method', ipc: 'ipc', iterations: 'iterations', synSteps: 'synSteps', expertEpochs: 'expertEpochs',
  maxStartEpoch: 'maxStartEpoch', lrImg: 'lrImg', lrLr: 'lrLr', lrTeacher: 'lrTeacher', batchSyn: 'batchSyn',
  gradMethod: 'gradMethod', pixInit: 'pixInit', evalIt: 'evalIt', numEval: 'numEval', evalEpochs: 'evalEpochs',
  checkpointEvery: 'checkpointEvery', seed: 'seed', runDir: 'runDir', bufferPath: 'bufferPath', waypoints: 'waypoints',
  waypointEpochs: 'waypointEpochs', maxExperts: 'maxExperts', teacherLabel: 'teacherLabel',
} as const;

export function registerDistill(program: Command): void {
  const cmd = program
    .command('distill')
    .description('distil a synthetic set with MCT or MTT (no arguments: the default Fashion-MNIST job, sized for this device)');
  addDataOptions(cmd);
  addNetworkOptions(cmd);
  addOutputOptions(cmd)
    .option('--preset <name>', `named settings: ${Object.keys(PRESETS).join(', ')} (default for Fashion-MNIST without --config: fashion-mnist-cpu on a CPU, fashion-mnist-ipc10 on CUDA); flags override it`)
    .option('--config <file>', 'a JSON file of options ({"data": {...}, "network": {...}, "buffer": {...}, "distill": {...}}); flags override it')
    .option('--method <m>', 'mct (convexified trajectories, continuous starts) or mtt')
    .option('--ipc <n>', 'images per class', numberArg('integer'))
    .option('--iterations <n>', 'distillation iterations', numberArg('integer'))
    .option('--syn-steps <n>', 'student steps per iteration', numberArg('integer'))
    .option('--expert-epochs <m>', 'epochs of expert trajectory to match', numberArg('number'))
    .option('--max-start-epoch <e>', 'starts are drawn below this epoch', numberArg('number'))
    .option('--lr-img <lr>', 'lr of the pixels', numberArg('number'))
    .option('--lr-lr <lr>', 'lr of the learnable student lr', numberArg('number'))
    .option('--lr-teacher <lr>', 'initial student lr', numberArg('number'))
    .option('--batch-syn <n>', 'synthetic images per student step (default: all)', numberArg('integer'))
    .option('--grad-method <g>', 'unroll (exact, MTT), tesla (constant memory, MCT) or adjoint (exact, recomputed)')
    .option('--pix-init <p>', 'real (random real images of each class) or noise')
    .option('--eval-it <n>', 'evaluate every n iterations (published: 100)', numberArg('integer'))
    .option('--num-eval <n>', 'networks per evaluation (published: 5 in MTT\'s distill.py, 3 in MCT\'s)', numberArg('integer'))
    .option('--eval-epochs <n>', 'epoch_eval_train of each evaluation network: it trains n + 1 epochs, as evaluate_synset (published: 1000)', numberArg('integer'))
    .option('--checkpoint-every <n>', 'iterations between checkpoints', numberArg('integer'))
    .option('--seed <n>', 'seed of the run', numberArg('integer'))
    .option('--run-dir <dir>', 'the run folder (default runs/<dataset>_<method>_ipc<ipc>)')
    .option('--buffer-path <dir>', 'root of the expert buffers (default ./buffers)')
    .option('--waypoints <k>', 'K of the MCT expert files, uniform scheme (published: 4)', numberArg('integer'))
    .option('--waypoint-epochs <list>', "MCT expert files with waypoints at these epochs, convexify.py's scheme (e.g. 0,6,25,50)", integerListArg)
    .option('--teacher-label', "soft labels: the softmax of the iteration's expert at --max-start-epoch on the images (MCT's and TESLA's --teacher_label)")
    .option('--max-experts <n>', 'use only the first n experts', numberArg('integer'))
    .option('--no-train-experts', 'fail instead of training experts when the buffer has too few')
    .addHelpText('after', () => [
      '',
      'Presets and where their settings come from (docs/PUBLISHED.md has the full table):',
      ...Object.entries(PRESETS).map(([name, p]) => `  ${name}: ${p.description}\n      from: ${p.source}`),
      '',
      'Defaults without a preset are ours except where a flag says "published".',
    ].join('\n'))
    .action(async (flags: Record<string, unknown>) => {
      const quiet = Boolean(flags.quiet || flags.json);
      const say = (line: string) => { if (!quiet) console.error(line); };
      const config = flags.config ? readConfigFile(String(flags.config)) : {};
      const data = { ...config.data, ...dataOptionsFrom(flags) };
      const network = { ...config.network, ...networkOptionsFrom(flags) };
      const distill = { ...config.distill, ...(pick(flags, DISTILL_FLAGS) as DistillOptions) };
      const given = (o: object) => (Object.keys(o).length > 0 ? o : undefined);
      const experts = showExpertTraining(quiet);
      const bar = progressBar('distill |{bar}| {value}/{total} | loss {loss} | lr {lr} | last eval {evalAcc} | ETA {eta_formatted}', !quiet);
      let lastEval = '-';
      const onEvent = (j: JobEvent) => {
        if (j.type === 'preset') say(`preset ${j.name}: ${j.description}`);
        else if (j.type === 'experts') say(`${j.dir} holds ${j.have} of ${j.wanted} experts${flags.trainExperts === false ? '' : ': training the rest first'}`);
        else if (j.type === 'buffer') experts.onEvent(j.event);
        else {
          const e = j.event;
          if (e.type === 'start') {
            say(`distilling into ${e.runDir} from ${e.experts} experts in ${e.bufferDir} (${e.gradMethod})${e.resumedAt ? `, resuming at iteration ${e.resumedAt}` : ''}`);
            bar.start(e.iterations, { loss: '-', lr: '-', evalAcc: lastEval });
            bar.update(e.resumedAt);
          } else if (e.type === 'iteration') {
            bar.update(e.iteration + 1, { loss: e.loss.toFixed(4), lr: e.lr.toPrecision(4), evalAcc: lastEval });
          } else if (e.type === 'eval') {
            lastEval = `${(100 * e.mean).toFixed(2)}% @${e.iteration}`;
            bar.log(`iteration ${e.iteration}: ${(100 * e.mean).toFixed(2)} +- ${(100 * e.std).toFixed(2)}%${e.best ? ' (best so far)' : ''}`);
          }
        }
      };
      const ac = new AbortController();
      const stop = () => ac.abort(new Error('interrupted'));
      const release = onInterrupt(stop);
      let result;
      try {
        result = await runDistillJob({
          preset: flags.preset as string | undefined, data: given(data), network: given(network), buffer: config.buffer,
          distill: given(distill), noExpertTraining: flags.trainExperts === false, noPreset: flags.config !== undefined,
        }, { onEvent, signal: ac.signal }, 'cli');
      } finally {
        release();
        experts.close();
        bar.close();
      }
      const initial = result.evals[0];
      if (flags.json) {
        console.log(JSON.stringify({ preset: result.preset, runDir: result.runDir, best: result.best, initial, evals: result.evals, lr: result.lr, files: result.files }));
      } else {
        console.log(`best: ${(100 * result.best.mean).toFixed(2)} +- ${(100 * result.best.std).toFixed(2)}% at iteration ${result.best.iteration} (the initial real images: ${(100 * initial.mean).toFixed(2)}%)`);
        console.log(`synthetic set: ${result.files.best} (last: ${result.files.synthetic})`);
        console.log(`images: ${result.files.gridBest}; metrics: ${result.files.metrics}; summary: ${result.files.summary}`);
      }
    });
}
