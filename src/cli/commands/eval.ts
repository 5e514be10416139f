/** `trajmatch eval`: the evaluation protocol on a synthetic set file, or the random-real baseline. */
import { Command } from 'commander';
import { z } from 'zod';
import { parseOptions } from '../../config/validate';
import { DatasetOptions, loadDataset } from '../../data/dataset';
import { TrajmatchInputError } from '../../errors';
import { convNetForDataset } from '../../model/convnet';
import { BASELINE_LR, EVAL_ARCHS, evalOptionsSchema, evaluateSetOnArch, randomRealSubset } from '../../eval/protocol';
import { readSyntheticSet, syntheticSetTensors } from '../../synthetic/file';
import { checkSetFitsDataset, convNetForSet, datasetOptionsForSet } from '../../eval/synthetic-set';
import { Tensor } from '../../native';
import { addFlags, COMMAND_FLAGS, givenFlags, inUserTermsOnError } from '../flags';
import { openOutput } from '../output';

/** What the command evaluates, and on which architectures. */
const evalCommandSchema = z.strictObject({
  synthetic: z.string().min(1).optional(),
  baseline: z.boolean().optional(),
  ipc: z.number().int().positive().optional(),
  lr: z.number().positive().optional(),
  arch: z.array(z.enum(EVAL_ARCHS)).min(1).default(['convnet']),
});

export function registerEval(program: Command): void {
  const flags = COMMAND_FLAGS.eval;
  const cmd = addFlags(
    program.command('eval').description('train fresh networks on a synthetic set (or a random real subset) and report test accuracy, mean +- std'),
    flags,
  );
  cmd.action(async () => {
    const given = givenFlags(cmd, flags);
    await inUserTermsOnError(flags, given.sources, async () => {
      const c = parseOptions(evalCommandSchema, given.groups.command ?? {}, 'command', 'command-line options');
      const output = openOutput(given.groups.output);
      if (Boolean(c.synthetic) === Boolean(c.baseline)) {
        throw new TrajmatchInputError('eval needs exactly one of --synthetic <file> or --baseline --ipc <n>');
      }
      if (c.baseline && c.ipc === undefined) throw new TrajmatchInputError('--baseline needs --ipc <n>, the images per class');
      const evalOptions = parseOptions(evalOptionsSchema, given.groups.eval ?? {}, 'eval');
      const set = c.synthetic ? await readSyntheticSet(c.synthetic) : undefined;
      const dataOptions: DatasetOptions = set ? datasetOptionsForSet(set, given.groups.data) : { ...given.groups.data };
      const dataset = await loadDataset(dataOptions);
      const owned: Tensor[] = [];
      try {
        const networkFlags = given.groups.network ?? {};
        const spec = set ? convNetForSet(set, dataset, networkFlags) : convNetForDataset(dataset, networkFlags);
        let images: Tensor;
        let labels: Tensor;
        let lr: number;
        if (set) {
          checkSetFitsDataset(set, dataset, c.synthetic!);
          ({ images, labels } = syntheticSetTensors(set, dataset.device));
          lr = c.lr ?? set.lr;
        } else {
          ({ images, labels } = randomRealSubset(dataset, c.ipc!, evalOptions.seed));
          lr = c.lr ?? BASELINE_LR;
        }
        owned.push(images, labels);
        const what = set ? c.synthetic! : `random real subset, ${c.ipc} per class`;
        const results: Record<string, unknown> = {};
        for (const arch of c.arch) {
          const bar = output.screen.bar(`eval ${arch}`, 'network');
          bar.start(evalOptions.numEval);
          const result = await evaluateSetOnArch(dataset, { images, labels, lr }, arch, spec, evalOptions, {
            onNetwork: (k, accuracy) => {
              output.event({ type: 'network', arch, index: k, accuracy }, 'eval.');
              output.screen.log(`${arch} network ${k + 1}: ${(100 * accuracy).toFixed(2)}%`);
              bar.update(k + 1);
            },
          });
          bar.end();
          results[arch] = result;
          output.event({ type: 'arch', arch, ...result }, 'eval.');
          if (!output.json)
            output.print(
              `${what} on ${arch}: ${(100 * result.mean).toFixed(2)} +- ${(100 * result.std).toFixed(2)}% test accuracy over ${result.accuracies.length} networks (${result.seconds.toFixed(1)} s)`,
            );
        }
        output.result({ evaluated: what, dataset: dataset.name, lr, results }, () => {});
      } finally {
        output.close();
        owned.forEach((t) => t.dispose());
        dataset.dispose();
      }
    });
  });
}
