/**
 * Ctrl-C (SIGINT) and SIGTERM during a long command: the command stops at its next safe point
 * (checkpoints and finished files kept, so the same command resumes) and the process exits with
 * 128 + the signal's number (130, 143), as shells and job schedulers expect of an interrupted job.
 */
const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGTERM: 15 };
let received: NodeJS.Signals | undefined;

/** Calls `stop` at the first SIGINT or SIGTERM (a second one kills as usual); returns the undo. */
export function onInterrupt(stop: (signal: NodeJS.Signals) => void): () => void {
  const handler = (signal: NodeJS.Signals) => {
    received = signal;
    release();
    stop(signal);
  };
  const release = () => {
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return release;
}

/** 130 or 143 once a command was interrupted by SIGINT or SIGTERM, else undefined. */
export function interruptExitCode(): number | undefined {
  return received ? 128 + (SIGNAL_NUMBERS[received] ?? 0) : undefined;
}
