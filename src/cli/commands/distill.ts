/**
 * `trajmatch distill` (npm run distill): with no arguments, the whole default job on Fashion-MNIST
 * with MCT: a preset that fits the device, experts trained first if the buffer lacks them, the
 * distillation with evaluations, and where the results are.
 */
import { Command } from 'commander';
import { JobEvent, runDistillJob } from '../../distill/job';
import { PRESETS } from '../../distill/presets';
import { deviceForRank, rankFromEnv } from '../../distributed/env';
import { launchLocal } from '../../distributed/launch';
import { expected } from '../../errors';
import { readConfigFile } from '../config-file';
import { addFlags, COMMAND_FLAGS, givenFlags, inUserTerms, inUserTermsOnError, mergeGiven } from '../flags';
import { showExpertTraining } from '../progress';
import { openOutput } from '../output';
import { onInterrupt } from '../interrupt';
import { describeSettings, settingSources } from '../provenance';

/** Processes of a run without --nproc, and the seconds of --dist-timeout without it. */
const DEFAULT_NPROC = 1;
const DEFAULT_DIST_TIMEOUT = 60;

export function registerDistill(program: Command): void {
  const flags = COMMAND_FLAGS.distill;
  const cmd = addFlags(
    program.command('distill').description('distil a synthetic set with MCT or MTT (no arguments: the default Fashion-MNIST job, sized for this device)'),
    flags,
    { presets: true },
  ).addHelpText('after', () =>
    [
      '',
      'Presets and where their settings come from (docs/PUBLISHED.md has the full table):',
      ...Object.entries(PRESETS).map(([name, p]) => `  ${name}: ${p.description}\n      from: ${p.source}`),
      '',
      'Defaults without a preset are ours except where a flag says "published".',
    ].join('\n'),
  );
  cmd.action(async () => {
    const fromFlags = givenFlags(cmd, flags);
    const job = fromFlags.groups.job ?? {};
    const configFile = job.config as string | undefined;
    const given = configFile === undefined ? fromFlags : mergeGiven(readConfigFile(configFile), fromFlags);
    const flagOf = (keyPath: string) => flags.find((f) => f.path === keyPath)?.flag.split(' ')[0] ?? keyPath;
    await inUserTermsOnError(flags, given.sources, async () => {
      const command = given.groups.command ?? {};
      const rank = rankFromEnv();
      const nproc = (command.nproc as number | undefined) ?? DEFAULT_NPROC;
      const timeoutSeconds = (command.distTimeout as number | undefined) ?? DEFAULT_DIST_TIMEOUT;
      if (nproc < 1) throw expected('--nproc', 'a positive integer', nproc);
      if (!(timeoutSeconds > 0)) throw expected('--dist-timeout', 'a positive number of seconds', timeoutSeconds);
      if (rank === undefined && nproc > 1) {
        // This process only launches: each rank runs this same command line with its variables set.
        await launchLocal({ nproc, args: [...process.execArgv, ...process.argv.slice(1)], stopSeconds: timeoutSeconds });
        return;
      }
      // rank 0 reports; the others print only their errors
      const output = openOutput(given.groups.output, rank !== undefined && rank.rank !== 0);
      const { screen } = output;
      const showExperts = showExpertTraining(screen);
      const bar = screen.bar('distill', 'it');
      let lastEval = '-';
      const evalText = (e: { mean: number; iteration: number }) => `${(100 * e.mean).toFixed(2)}% @${e.iteration}`;
      const onEvent = (j: JobEvent) => {
        output.event(j);
        if (j.type === 'preset') screen.log(`preset ${j.name}: ${j.description}`);
        else if (j.type === 'settings') {
          // What the preset set is named as such in errors; the lines say where every setting came from.
          for (const s of j.settings) {
            if (s.from === 'preset' && !given.sources.has(s.path)) given.sources.set(s.path, `${flagOf(s.path)} (set by preset ${j.preset})`);
          }
          for (const line of describeSettings(j.preset, settingSources(j.settings, j.preset, given.sources))) screen.log(line);
          for (const note of j.notes) screen.log(inUserTerms(note, flags, given.sources));
        } else if (j.type === 'experts')
          screen.log(`${j.dir} holds ${j.have} of ${j.wanted} experts${job.noExpertTraining ? '' : ': training the rest first'}`);
        else if (j.type === 'buffer') showExperts(j.event);
        else {
          const e = j.event;
          if (e.type === 'start') {
            for (const note of e.notes ?? []) screen.log(note);
            screen.log(
              `distilling into ${e.runDir} from ${e.experts} experts in ${e.bufferDir} (${e.gradMethod})${e.resumedAt ? `, resuming at iteration ${e.resumedAt}` : ''}`,
            );
            if (e.lastEval) lastEval = evalText(e.lastEval);
            bar.start(e.iterations, e.resumedAt, { 'last eval': lastEval, loss: '-', lr: '-' });
          } else if (e.type === 'iteration') {
            bar.update(e.iteration + 1, { loss: e.loss.toFixed(4), lr: e.lr.toPrecision(4), 'last eval': lastEval });
          } else if (e.type === 'evaluating') {
            bar.status(`evaluating iteration ${e.iteration} ...`);
          } else if (e.type === 'eval') {
            lastEval = evalText(e);
            bar.status(undefined);
            bar.update(e.iteration, { 'last eval': lastEval });
            screen.log(`iteration ${e.iteration}: ${(100 * e.mean).toFixed(2)} +- ${(100 * e.std).toFixed(2)}%${e.best ? ' (best so far)' : ''}`);
          }
        }
      };
      const ac = new AbortController();
      const stop = () => ac.abort(new Error('interrupted'));
      const release = onInterrupt(stop);
      let result;
      try {
        const { network, buffer, distill } = given.groups;
        const data = rank
          ? { ...given.groups.data, device: deviceForRank(given.groups.data?.device as string | undefined, rank.localRank) }
          : given.groups.data;
        result = await runDistillJob(
          {
            preset: job.preset as string | undefined,
            data,
            network,
            buffer,
            distill,
            noExpertTraining: Boolean(job.noExpertTraining),
            noPreset: Boolean(job.noPreset),
            distributed: rank ? { rank, timeoutSeconds } : undefined,
          },
          { onEvent, signal: ac.signal },
        );
      } finally {
        release();
        bar.end();
        output.close();
      }
      const initial = result.evals[0];
      const { preset, runDir, best, evals, lr, seconds, files } = result;
      output.result({ preset, runDir, best, initial, evals, lr, seconds, files }, () => {
        output.print(
          `best: ${(100 * result.best.mean).toFixed(2)} +- ${(100 * result.best.std).toFixed(2)}% at iteration ${result.best.iteration} (the initial real images: ${(100 * initial.mean).toFixed(2)}%)`,
        );
        output.print(`synthetic set: ${result.files.best} (last: ${result.files.synthetic})`);
        output.print(`images: ${result.files.gridBest}; metrics: ${result.files.metrics}; summary: ${result.files.summary}`);
      });
    });
  });
}
