import { spawnSync } from 'child_process';
import * as path from 'path';

/**
 * onInterrupt next to another library's signal listener: signal-exit (loaded by write-file-atomic
 * while a file is written) re-raises a signal with the default action when only its own listeners
 * are left. The first signal must still stop the command safely, the second must kill.
 */
const root = path.resolve(__dirname, '..', '..');
const signalExit = require.resolve('signal-exit', { paths: [path.dirname(require.resolve('write-file-atomic'))] });

function runChild(signals: number): ReturnType<typeof spawnSync> {
  const script = `
    const { onExit } = require(${JSON.stringify(signalExit)});
    const { onInterrupt, interruptExitCode } = require(${JSON.stringify(path.join(root, 'src/cli/interrupt.ts'))});
    // the command listens first; a write starts later and signal-exit listens behind it
    onInterrupt((signal) => console.log('stopping on ' + signal));
    const removeExitHook = onExit(() => {}); // as write-file-atomic does during a write
    for (let i = 0; i < ${signals}; i++) setTimeout(() => process.kill(process.pid, 'SIGINT'), 50 + 100 * i);
    setTimeout(() => { removeExitHook(); console.log('stopped safely'); process.exitCode = interruptExitCode(); }, 600);
  `;
  return spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TS_NODE_PROJECT: path.join(root, 'tsconfig.json') },
    timeout: 60000,
  });
}

test('the first SIGINT stops safely and exits 130 while signal-exit is listening too', () => {
  const r = runChild(1);
  expect(r.stderr).toBe('');
  expect(r.signal).toBeNull();
  expect(r.stdout).toBe('stopping on SIGINT\nstopped safely\n');
  expect(r.status).toBe(130);
}, 60000);

test('a second SIGINT kills at once, as without a handler', () => {
  const r = runChild(2);
  expect(r.stdout).toBe('stopping on SIGINT\n');
  expect(r.signal).toBe('SIGINT');
}, 60000);
