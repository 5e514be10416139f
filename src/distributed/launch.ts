/**
 * The local launcher: starts N ranks of one command as child processes on this host, the way
 * torchrun --nproc-per-node does (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR =
 * 127.0.0.1, MASTER_PORT = a free port), prefixes their output with the rank, and ends them all
 * when one fails: the first rank to exit with an error, or to be killed, is named in the error, and
 * the others get `stopSeconds` to stop (SIGTERM) before SIGKILL.
 */
import { ChildProcess, spawn } from 'child_process';
import * as net from 'net';
import * as os from 'os';
import * as readline from 'readline';
import { TrajmatchInputError } from '../errors';

export interface LaunchOptions {
  /** Ranks to start. */
  nproc: number;
  /** Each rank runs `node <args>` (process.execPath), with the rank's variables added to `env`. */
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Rank 0's store port; default: one the OS says is free. */
  masterPort?: number;
  /** Seconds the other ranks get to stop after one failed, before SIGKILL (default 10). */
  stopSeconds?: number;
  /**
   * Every output line of a rank; default: stdout lines as they are (results, e.g. rank 0's JSON),
   * stderr lines (progress, errors) as "[rank R] line".
   */
  onLine?: (rank: number, stream: 'stdout' | 'stderr', line: string) => void;
  /** Called with each child once started (tests use it to kill one). */
  onStart?: (rank: number, child: ChildProcess) => void;
}

/** Raised when a rank failed: names the first rank that did, and how. */
export class RankFailedError extends Error {
  constructor(
    message: string,
    readonly rank: number,
  ) {
    super(message);
    this.name = 'RankFailedError';
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * OMP threads per rank when N ranks share this host's CPU cores (OMP_NUM_THREADS wins when set):
 * N processes of one thread per core each would oversubscribe the cores N times.
 */
export function threadsPerRank(nproc: number): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.floor(cores / nproc));
}

/** Starts the ranks and resolves when all exit with 0; rejects naming the first rank that failed. */
export async function launchLocal(options: LaunchOptions): Promise<void> {
  const { nproc, args } = options;
  if (!Number.isInteger(nproc) || nproc < 1) throw new TrajmatchInputError(`Expected a positive integer for nproc but received ${nproc}`);
  const masterPort = options.masterPort ?? (await freePort());
  const stopMs = (options.stopSeconds ?? 10) * 1000;
  const env = options.env ?? process.env;
  const onLine =
    options.onLine ?? ((rank, stream, line) => (stream === 'stdout' ? process.stdout.write(`${line}\n`) : process.stderr.write(`[rank ${rank}] ${line}\n`)));
  const threads = env.OMP_NUM_THREADS ?? String(threadsPerRank(nproc));

  const children: ChildProcess[] = [];
  const exited: boolean[] = new Array<boolean>(nproc).fill(false);
  const lastError: string[] = new Array<string>(nproc).fill('');
  let failure: RankFailedError | undefined;
  let killTimer: NodeJS.Timeout | undefined;

  const stopOthers = () => {
    children.forEach((c, r) => {
      if (!exited[r]) c.kill('SIGTERM');
    });
    killTimer = setTimeout(
      () =>
        children.forEach((c, r) => {
          if (!exited[r]) c.kill('SIGKILL');
        }),
      stopMs,
    );
    killTimer.unref();
  };

  const finished = new Promise<void>((resolve) => {
    let remaining = nproc;
    for (let rank = 0; rank < nproc; rank++) {
      const child = spawn(process.execPath, args, {
        env: {
          ...env,
          RANK: String(rank),
          LOCAL_RANK: String(rank),
          WORLD_SIZE: String(nproc),
          LOCAL_WORLD_SIZE: String(nproc),
          MASTER_ADDR: '127.0.0.1',
          MASTER_PORT: String(masterPort),
          OMP_NUM_THREADS: threads,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      for (const stream of ['stdout', 'stderr'] as const) {
        readline.createInterface({ input: child[stream] }).on('line', (line) => {
          if (stream === 'stderr' && line.trim() !== '') lastError[rank] = line.trim();
          onLine(rank, stream, line);
        });
      }
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        if (exited[rank]) return;
        exited[rank] = true;
        if ((code !== 0 || signal !== null) && failure === undefined) {
          const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
          failure = new RankFailedError(`rank ${rank} of ${nproc} ${how}${lastError[rank] ? `: ${lastError[rank]}` : ''}`, rank);
          stopOthers();
        }
        if (--remaining === 0) resolve();
      };
      child.on('close', onExit); // after its output has been read: the last error line is known
      child.on('error', (e) => {
        if (failure === undefined) {
          failure = new RankFailedError(`rank ${rank} of ${nproc} could not be started: ${e.message}`, rank);
          stopOthers();
        }
        onExit(null, null);
      });
      options.onStart?.(rank, child);
    }
  });
  // Ctrl-C reaches the ranks through the terminal's process group: the launcher waits for them to
  // stop (they keep their finished work) rather than dying first. A SIGTERM to it is passed on.
  const forward = () =>
    children.forEach((c, r) => {
      if (!exited[r]) c.kill('SIGTERM');
    });
  const wait = () => undefined;
  process.on('SIGTERM', forward);
  process.on('SIGINT', wait);
  try {
    await finished;
  } finally {
    process.removeListener('SIGTERM', forward);
    process.removeListener('SIGINT', wait);
    if (killTimer) clearTimeout(killTimer);
  }
  if (failure) throw failure;
}
