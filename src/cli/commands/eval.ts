/** `trajmatch eval`: the evaluation protocol on a synthetic set file, or the random-real baseline. */
import { Command } from 'commander';
import { loadDataset } from '../../data/dataset';
import { TrajmatchInputError } from '../../errors';
import { convNetForDataset, convNetSpec } from '../../model/convnet';
import { EVAL_ARCHS, EvalArch, evaluateSetOnArch, EvalOptions, randomRealSubset } from '../../eval/protocol';
import { preprocessingProblem, readSyntheticSet, syntheticSetTensors } from '../../synthetic/file';
import { Tensor } from '../../native';
import { addDataOptions, addNetworkOptions, dataOptionsFrom, networkOptionsFrom, numberArg, pick } from '../options';

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description('train fresh networks on a synthetic set (or a random real subset) and report test accuracy, mean +- std');
  addDataOptions(cmd);
  addNetworkOptions(cmd)
    .option('--synthetic <file>', 'a synthetic set file (.safetensors) to evaluate')
    .option('--baseline', 'evaluate a random real subset of --ipc images per class instead')
    .option('--ipc <n>', 'images per class of the baseline', numberArg('integer'))
    .option('--lr <lr>', 'training lr (default: the synthetic set\'s learned lr; 0.01 for the baseline)', numberArg('number'))
    .option('--num-eval <n>', 'fresh networks (published: 5)', numberArg('integer'))
    .option('--eval-epochs <n>', 'training epochs of each (published: 1000)', numberArg('integer'))
    .option('--eval-batch <n>', 'batch size (published: 256)', numberArg('integer'))
    .option('--no-dsa', 'train without augmentation')
    .option('--arch <list>', `architectures to evaluate on, comma-separated: ${EVAL_ARCHS.join(', ')} (default convnet)`, (v: string) => v.split(','))
    .option('--seed <n>', 'seed of the networks (and of the baseline subset)', numberArg('integer'))
    .option('--json', 'print the result as one JSON object')
    .action(async (flags: Record<string, unknown>) => {
      if (Boolean(flags.synthetic) === Boolean(flags.baseline)) {
        throw new TrajmatchInputError('eval needs exactly one of --synthetic <file> or --baseline --ipc <n>');
      }
      if (flags.baseline && flags.ipc === undefined) throw new TrajmatchInputError('--baseline needs --ipc <n>, the images per class');
      const set = flags.synthetic ? readSyntheticSet(String(flags.synthetic)) : undefined;
      const dataOptions = { ...dataOptionsFrom(flags) };
      if (set) {
        dataOptions.dataset ??= set.info.dataset as never;
        dataOptions.zca ??= set.info.zca;
        if (set.info.preprocessing?.zca) dataOptions.zcaEps ??= set.info.preprocessing.zca.eps;
      }
      const dataset = await loadDataset(dataOptions, 'cli');
      const owned: Tensor[] = [];
      try {
        const networkFlags = networkOptionsFrom(flags);
        const spec = set?.info.convnet && Object.keys(networkFlags).length === 0
          ? convNetSpec(set.info.convnet)
          : convNetForDataset(dataset, networkFlags, 'cli');
        let images: Tensor;
        let labels: Tensor;
        let lr: number;
        if (set) {
          const file = String(flags.synthetic);
          const shape = `${dataset.channels}x${dataset.height}x${dataset.width}`;
          if (set.info.dataset !== dataset.name || `${set.info.channels}x${set.info.height}x${set.info.width}` !== shape || set.info.zca !== (dataset.zca !== undefined)) {
            throw new TrajmatchInputError(`${file}: distilled from ${set.info.dataset} (${set.info.channels}x${set.info.height}x${set.info.width}${set.info.zca ? ', ZCA' : ''}), but the evaluation data is ${dataset.name} (${shape}${dataset.zca ? ', ZCA' : ''})`);
          }
          const problem = preprocessingProblem(set.info, dataset.preprocessing);
          if (problem) throw new TrajmatchInputError(`${file}: ${problem}`);
          ({ images, labels } = syntheticSetTensors(set, dataset.device));
          lr = (flags.lr as number | undefined) ?? set.lr;
        } else {
          ({ images, labels } = randomRealSubset(dataset, flags.ipc as number, (flags.seed as number | undefined) ?? 0));
          lr = (flags.lr as number | undefined) ?? 0.01;
        }
        owned.push(images, labels);
        const options = {
          ...pick(flags, { numEval: 'numEval', evalEpochs: 'epochs', evalBatch: 'batchSize', seed: 'seed' }),
          ...(flags.dsa === false ? { dsa: null } : {}),
        } as EvalOptions;
        const what = set ? String(flags.synthetic) : `random real subset, ${flags.ipc} per class`;
        const archs = (flags.arch as string[] | undefined) ?? ['convnet'];
        const bad = archs.find((a) => !(EVAL_ARCHS as readonly string[]).includes(a));
        if (bad !== undefined) throw new TrajmatchInputError(`--arch: unknown architecture '${bad}'; expected ${EVAL_ARCHS.join(', ')}`);
        const results: Record<string, unknown> = {};
        for (const arch of archs as EvalArch[]) {
          const result = await evaluateSetOnArch(dataset, { images, labels, lr }, arch, spec, options, {
            onNetwork: flags.json ? undefined : (k, acc) => console.error(`${arch} network ${k + 1}: ${(100 * acc).toFixed(2)}%`),
          });
          results[arch] = result;
          if (!flags.json) console.log(`${what} on ${arch}: ${(100 * result.mean).toFixed(2)} +- ${(100 * result.std).toFixed(2)}% test accuracy over ${result.accuracies.length} networks (${result.seconds.toFixed(1)} s)`);
        }
        if (flags.json) console.log(JSON.stringify({ evaluated: what, dataset: dataset.name, lr, results }));
      } finally {
        owned.forEach((t) => t.dispose());
        dataset.dispose();
      }
    });
}
