#!/usr/bin/env node
/** The trajmatch command line: `npm run info | dataset | buffer | eval | distill | bench`. */
import { Command } from 'commander';
import { registerBench } from './commands/bench';
import { registerBuffer } from './commands/buffer';
import { registerConvert } from './commands/convert';
import { registerDistill } from './commands/distill';
import { registerEval } from './commands/eval';
import { registerInfo } from './commands/info';

const program = new Command();
program.name('trajmatch').description('Dataset distillation by trajectory matching (MTT and MCT) on libtorch');
registerInfo(program);
registerBuffer(program);
registerConvert(program);
registerEval(program);
registerDistill(program);
registerBench(program);

program.parseAsync(process.argv).catch((e: Error) => {
  console.error(e.message);
  process.exitCode = 1;
});
