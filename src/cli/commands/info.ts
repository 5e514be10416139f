/** `trajmatch info` and `trajmatch dataset`: what the engine and a dataset look like here. */
import { Command } from 'commander';
import { backendInfo, resolveDevice } from '../../backend/device';
import { describePreprocessing } from '../../data/stats';
import { loadDataset } from '../../data/dataset';
import { addFlags, COMMAND_FLAGS, givenFlags, inUserTermsOnError } from '../flags';
import { openOutput } from '../output';

export function registerInfo(program: Command): void {
  const infoFlags = COMMAND_FLAGS.info;
  const info = addFlags(program.command('info').description('print the libtorch the engine was built against and the devices it can use'), infoFlags);
  info.action(() => {
    const given = givenFlags(info, infoFlags);
    const output = openOutput(given.groups.output);
    const b = backendInfo();
    const auto = resolveDevice('auto');
    output.result({ ...b, autoDevice: auto }, () => {
      output.print(`libtorch ${b.torchVersion} (${b.builtWithCuda ? 'CUDA build' : 'CPU-only build'}, ${b.cxx11Abi ? 'C++11' : 'pre-C++11'} ABI)`);
      output.print(`CUDA devices: ${b.cudaDeviceCount}; CPU threads: ${b.threads}; CUDA allocator statistics: ${b.deviceMemoryStats ? 'yes' : 'no'}`);
      output.print(`oneDNN (CPU convolutions): ${b.oneDnn.version ? `${b.oneDnn.version}, ${b.oneDnn.enabled ? 'on' : 'off'}: ${b.oneDnn.reason}` : 'none'}`);
      output.print(`OpenBLAS: ${b.openBlas.threads === null ? 'not used' : `${b.openBlas.threads} thread(s) (${b.openBlas.reason})`}`);
      const a = b.cpuAllocator;
      output.print(
        `CPU allocator: ${a.enabled ? `reuses freed blocks, up to ${Math.round(a.cacheLimit / 2 ** 20)} MiB kept` : "libtorch's own"} (${a.reason})`,
      );
      output.print(`device 'auto' resolves to: ${auto}`);
    });
  });

  const flags = COMMAND_FLAGS.dataset;
  const cmd = addFlags(program.command('dataset').description('load a dataset onto the device and print what was loaded and how long it took'), flags);
  cmd.action(async () => {
    const given = givenFlags(cmd, flags);
    await inUserTermsOnError(flags, given.sources, async () => {
      const began = process.hrtime.bigint();
      const ds = await loadDataset(given.groups.data);
      const seconds = Number(process.hrtime.bigint() - began) / 1e9;
      const output = openOutput(given.groups.output);
      const { name, source, numClasses, channels, height, width, classNames, preprocessing, device } = ds;
      const summary = {
        name,
        source,
        train: ds.train.size,
        test: ds.test.size,
        numClasses,
        channels,
        height,
        width,
        classNames,
        preprocessing,
        device,
        seconds,
      };
      output.result(summary, () => {
        output.print(`${ds.name} from ${ds.source}`);
        output.print(`  train ${ds.train.size} images, test ${ds.test.size} images, ${ds.numClasses} classes, ${ds.channels}x${ds.height}x${ds.width}`);
        output.print(`  classes: ${ds.classNames.slice(0, 10).join(', ')}${ds.numClasses > 10 ? ', ...' : ''}`);
        output.print(`  preprocessed by ${describePreprocessing(ds.preprocessing)}`);
        output.print(`  on ${ds.device}, loaded in ${seconds.toFixed(2)} s`);
      });
      ds.dispose();
    });
  });
}
