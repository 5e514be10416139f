/** `trajmatch eval`: the evaluation protocol on a synthetic set file, or the random-real baseline. */
import { Command } from 'commander';
import { z } from 'zod';
import { parseOptions } from '../../config/validate';
import { DatasetOptions, loadDataset } from '../../data/dataset';
import { TrajmatchInputError } from '../../errors';
import { convNetForDataset, convNetSpec } from '../../model/convnet';
import { BASELINE_LR, EVAL_ARCHS, evalOptionsSchema, evaluateSetOnArch, randomRealSubset } from '../../eval/protocol';
import { preprocessingProblem, readSyntheticSet, syntheticSetTensors } from '../../synthetic/file';
import { Tensor } from '../../native';
import { addFlags, COMMAND_FLAGS, givenFlags, inUserTermsOnError } from '../flags';

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
    {
      // a synthetic set brings its own network and data settings (its metadata); flags override them
      defaultOf: (f, schema) =>
        f.path.startsWith('network.') || ['data.dataset', 'data.zcaEps'].includes(f.path)
          ? `the synthetic set's own, from its metadata${schema === undefined ? '' : `; ${schema} for --baseline`}`
          : undefined,
    },
  );
  cmd.action(async () => {
    const given = givenFlags(cmd, flags);
    await inUserTermsOnError(flags, given.sources, async () => {
      const c = parseOptions(evalCommandSchema, given.groups.command ?? {}, 'command', 'command-line options');
      const json = Boolean(given.groups.output?.json);
      if (Boolean(c.synthetic) === Boolean(c.baseline)) {
        throw new TrajmatchInputError('eval needs exactly one of --synthetic <file> or --baseline --ipc <n>');
      }
      if (c.baseline && c.ipc === undefined) throw new TrajmatchInputError('--baseline needs --ipc <n>, the images per class');
      const evalOptions = parseOptions(evalOptionsSchema, given.groups.eval ?? {}, 'eval');
      const set = c.synthetic ? readSyntheticSet(c.synthetic) : undefined;
      const dataOptions: DatasetOptions = { ...given.groups.data };
      if (set) {
        dataOptions.dataset ??= set.info.dataset as never;
        dataOptions.zca ??= set.info.zca;
        if (set.info.preprocessing?.zca) dataOptions.zcaEps ??= set.info.preprocessing.zca.eps;
      }
      const dataset = await loadDataset(dataOptions);
      const owned: Tensor[] = [];
      try {
        const networkFlags = given.groups.network ?? {};
        // the set's own network, with what the flags change (not the schema's defaults for the rest)
        const own = set?.info.convnet ? convNetSpec(set.info.convnet) : undefined;
        const spec = own
          ? convNetForDataset(dataset, {
              netWidth: own.netWidth,
              depth: own.depth,
              norm: own.norm,
              activation: own.activation,
              pooling: own.pooling,
              ...networkFlags,
            })
          : convNetForDataset(dataset, networkFlags);
        let images: Tensor;
        let labels: Tensor;
        let lr: number;
        if (set) {
          const file = c.synthetic!;
          const shape = `${dataset.channels}x${dataset.height}x${dataset.width}`;
          if (
            set.info.dataset !== dataset.name ||
            `${set.info.channels}x${set.info.height}x${set.info.width}` !== shape ||
            set.info.zca !== (dataset.zca !== undefined)
          ) {
            throw new TrajmatchInputError(
              `${file}: distilled from ${set.info.dataset} (${set.info.channels}x${set.info.height}x${set.info.width}${set.info.zca ? ', ZCA' : ''}), but the evaluation data is ${dataset.name} (${shape}${dataset.zca ? ', ZCA' : ''})`,
            );
          }
          const problem = preprocessingProblem(set.info, dataset.preprocessing);
          if (problem) throw new TrajmatchInputError(`${file}: ${problem}`);
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
          const result = await evaluateSetOnArch(dataset, { images, labels, lr }, arch, spec, evalOptions, {
            onNetwork: json ? undefined : (k, acc) => console.error(`${arch} network ${k + 1}: ${(100 * acc).toFixed(2)}%`),
          });
          results[arch] = result;
          if (!json)
            console.log(
              `${what} on ${arch}: ${(100 * result.mean).toFixed(2)} +- ${(100 * result.std).toFixed(2)}% test accuracy over ${result.accuracies.length} networks (${result.seconds.toFixed(1)} s)`,
            );
        }
        if (json) console.log(JSON.stringify({ evaluated: what, dataset: dataset.name, lr, results }));
      } finally {
        owned.forEach((t) => t.dispose());
        dataset.dispose();
      }
    });
  });
}
