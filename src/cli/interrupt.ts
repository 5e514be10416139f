/**
 * Ctrl-C (SIGINT) and SIGTERM during a long command: the command stops at its next safe point
 * (checkpoints and finished files kept, so the same command resumes) and the process exits with
 * 128 + the signal's number (130, 143), as shells and job schedulers expect of an interrupted job.
 */
const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGTERM: 15 };
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
let received: NodeJS.Signals | undefined;

/**
 * Calls `stop` at the first SIGINT or SIGTERM; a second one kills as usual. Returns the undo.
 *
 * The listener stays registered until the undo, even after the first signal: signal-exit (under
 * write-file-atomic, so present while a file is being written) re-raises a signal with the
 * default action when its own listeners are the only ones left, which would kill the process
 * in the middle of the safe stop.
 */
export function onInterrupt(stop: (signal: NodeJS.Signals) => void): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (!stopping) {
      stopping = true;
      received = signal;
      stop(signal);
      return;
    }
    // the second signal: the default action (the process dies of the signal, as without us)
    release();
    process.kill(process.pid, signal);
  };
  const release = () => {
    for (const s of SIGNALS) process.removeListener(s, handler);
  };
  for (const s of SIGNALS) process.on(s, handler);
  return release;
}

/** 130 or 143 once a command was interrupted by SIGINT or SIGTERM, else undefined. */
export function interruptExitCode(): number | undefined {
  return received ? 128 + (SIGNAL_NUMBERS[received] ?? 0) : undefined;
}
