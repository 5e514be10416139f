/** The trajmatch command line's commands and flags, apart from running it (main.ts). */
import * as fs from 'fs';
import * as path from 'path';
import { Command, OutputConfiguration } from 'commander';
import { registerBench } from './commands/bench';
import { registerBuffer } from './commands/buffer';
import { registerConvert } from './commands/convert';
import { registerDistill } from './commands/distill';
import { registerEval } from './commands/eval';
import { registerInfo } from './commands/info';

/**
 * The program with every command registered; commander's own errors are thrown, not an exit.
 * `output` replaces where commander writes (its commands copy it when they are registered).
 */
export function createProgram(output?: OutputConfiguration): Command {
  const program = new Command();
  // dist/cli/program.js and src/cli/program.ts both sit two folders below the package's root.
  const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  program
    .name('trajmatch')
    .description('Dataset distillation by trajectory matching (MTT and MCT) on libtorch')
    .version(version, '-V, --version', 'print the version and exit')
    // commander's own errors (bad option values, unknown options) come back to the caller, not as an exit
    .exitOverride();
  if (output) program.configureOutput(output);
  registerInfo(program);
  registerBuffer(program);
  registerConvert(program);
  registerEval(program);
  registerDistill(program);
  registerBench(program);
  return program;
}
