#!/usr/bin/env node
/** The trajmatch command line: `npm run info | dataset | buffer | eval | distill | bench`. */
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { registerBench } from './commands/bench';
import { registerBuffer } from './commands/buffer';
import { registerConvert } from './commands/convert';
import { registerDistill } from './commands/distill';
import { registerEval } from './commands/eval';
import { registerInfo } from './commands/info';
import { interruptExitCode } from './interrupt';

const program = new Command();
// dist/cli/main.js and src/cli/main.ts both sit two folders below the package's root.
const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
program
  .name('trajmatch')
  .description('Dataset distillation by trajectory matching (MTT and MCT) on libtorch')
  .version(version, '-V, --version', 'print the version and exit');
registerInfo(program);
registerBuffer(program);
registerConvert(program);
registerEval(program);
registerDistill(program);
registerBench(program);

program.parseAsync(process.argv).catch((e: Error) => {
  console.error(e.message);
  process.exitCode = interruptExitCode() ?? 1;
});
