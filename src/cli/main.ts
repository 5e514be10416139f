#!/usr/bin/env node
/** The trajmatch command line: `npm run distill | buffer | eval | bench | info`. */
import { Command } from 'commander';
import { backendInfo, resolveDevice } from '../backend/device';

const program = new Command();
program.name('trajmatch').description('Dataset distillation by trajectory matching (MTT and MCT) on libtorch');

program
  .command('info')
  .description('print the libtorch the engine was built against and the devices it can use')
  .action(() => {
    const info = backendInfo();
    console.log(`libtorch ${info.torchVersion} (${info.builtWithCuda ? 'CUDA build' : 'CPU-only build'}, ${info.cxx11Abi ? 'C++11' : 'pre-C++11'} ABI)`);
    console.log(`CUDA devices: ${info.cudaDeviceCount}; CPU threads: ${info.threads}`);
    console.log(`device 'auto' resolves to: ${resolveDevice('auto')}`);
  });

// The pipeline commands land with their issues; until then they say so plainly and fail.
const pending: Record<string, string> = {
  distill: 'distil a synthetic set with MTT or MCT (the default job: Fashion-MNIST, MCT)',
  buffer: 'train expert trajectories',
  eval: 'evaluate a synthetic set',
  bench: 'benchmark MTT against MCT',
};
for (const [name, description] of Object.entries(pending)) {
  program
    .command(name)
    .description(`${description} (not built yet)`)
    .allowUnknownOption()
    .action(() => {
      console.error(`trajmatch ${name}: not built yet. This version has the native engine only; \`npm run info\` shows it works.`);
      process.exitCode = 2;
    });
}

program.parseAsync(process.argv).catch((e: Error) => {
  console.error(e.message);
  process.exitCode = 1;
});
