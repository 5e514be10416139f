#!/usr/bin/env node
/** The trajmatch command line: `npm run info | dataset | buffer | eval | distill | bench`. */
import { CommanderError } from 'commander';
import { interruptExitCode } from './interrupt';
import { errorFields, jsonRequested, writeJsonLine } from './output';
import { createProgram } from './program';
import { wrap } from './progress';

const json = jsonRequested(process.argv);
// --json: stdout carries JSON lines only, and stderr nothing: commander's messages become the
// error event below, and Node's warnings JSON lines of their own.
const program = createProgram(json ? { writeErr: () => {}, outputError: () => {} } : undefined);
if (json) {
  process.removeAllListeners('warning');
  process.on('warning', (w) => writeJsonLine({ event: 'warning', name: w.name, message: w.message }));
}
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
