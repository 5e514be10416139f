#!/usr/bin/env node
/** The trajmatch command line: `npm run info | dataset | buffer | eval | distill | bench`. */
import * as fs from 'fs';
import * as path from 'path';
import { Command, CommanderError } from 'commander';
import { registerBench } from './commands/bench';
import { registerBuffer } from './commands/buffer';
import { registerConvert } from './commands/convert';
import { registerDistill } from './commands/distill';
import { registerEval } from './commands/eval';
import { registerInfo } from './commands/info';
import { interruptExitCode } from './interrupt';
import { errorFields, jsonRequested, writeJsonLine } from './output';
import { wrap } from './progress';

const program = new Command();
// dist/cli/main.js and src/cli/main.ts both sit two folders below the package's root.
const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
program
  .name('trajmatch')
  .description('Dataset distillation by trajectory matching (MTT and MCT) on libtorch')
  .version(version, '-V, --version', 'print the version and exit')
  // commander's own errors (bad option values, unknown options) come back here, not as an exit
  .exitOverride();
const json = jsonRequested(process.argv);
if (json) {
  // --json: stdout carries JSON lines only, and stderr nothing: commander's messages become the
  // error event below, and Node's warnings JSON lines of their own.
  program.configureOutput({ writeErr: () => {}, outputError: () => {} });
  process.removeAllListeners('warning');
  process.on('warning', (w) => writeJsonLine({ event: 'warning', name: w.name, message: w.message }));
}
registerInfo(program);
registerBuffer(program);
registerConvert(program);
registerEval(program);
registerDistill(program);
registerBench(program);

program.parseAsync(process.argv).catch((e: Error) => {
  if (e instanceof CommanderError) {
    // --help and --version end this way too, with exit code 0; commander has printed its message
    process.exitCode = e.exitCode;
    if (json && e.exitCode !== 0) writeJsonLine(errorFields(e, e.exitCode));
    return;
  }
  const exitCode = interruptExitCode() ?? 1;
  if (json) writeJsonLine(errorFields(e, exitCode));
  else for (const line of process.stderr.isTTY ? wrap(e.message, Math.max(20, (process.stderr.columns || 80) - 1)) : [e.message]) console.error(line);
  process.exitCode = exitCode;
});
