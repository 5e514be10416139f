import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import * as readline from 'readline';
import { freePort } from '../../src/distributed/launch';

// Each rank in its own process (a death must not take the test with it), on 127.0.0.1.
const root = path.resolve(__dirname, '..', '..');
const timeout = 3; // seconds: the group's timeout in these runs

interface Outcome {
  rank: number;
  error?: string | null;
  seconds?: number;
  signalAborted?: boolean;
  fatal?: string;
}

/** Starts the ranks of a scenario; resolves with the survivors' reports (the victim is killed at the end). */
async function run(scenario: string, worldSize: number, victim: number): Promise<Outcome[]> {
  const port = await freePort();
  const children: ChildProcess[] = [];
  const reports = Array.from(
    { length: worldSize },
    (_, rank) =>
      new Promise<Outcome | undefined>((resolve) => {
        const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'rank.ts'), scenario], {
          cwd: root,
          env: {
            ...process.env,
            TS_NODE_PROJECT: path.join(root, 'tsconfig.json'),
            RANK: String(rank),
            WORLD_SIZE: String(worldSize),
            MASTER_ADDR: '127.0.0.1',
            MASTER_PORT: String(port),
            TM_TIMEOUT: String(timeout),
            TM_VICTIM: String(victim),
            OMP_NUM_THREADS: '1',
          },
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        children.push(child);
        let outcome: Outcome | undefined;
        readline.createInterface({ input: child.stdout! }).on('line', (line) => {
          if (line.startsWith('{')) outcome = JSON.parse(line) as Outcome;
        });
        child.on('close', () => resolve(outcome));
        if (rank === victim) resolve(undefined); // its report, if any, is not awaited
      }),
  );
  // every test stops by itself: nothing outlives this bound
  const guard = setTimeout(() => children.forEach((c) => c.kill('SIGKILL')), 60000);
  try {
    const all = await Promise.all(reports.filter((_, r) => r !== victim));
    return all.filter((o): o is Outcome => o !== undefined);
  } finally {
    clearTimeout(guard);
    children.forEach((c) => c.kill('SIGKILL'));
  }
}

describe('a rank that dies or hangs stops the others within the stated bound, with an error naming it', () => {
  test('a rank that exits: the collective fails naming it, within the timeout', async () => {
    const [survivor] = await run('dies', 2, 1);
    expect(survivor.error).toMatch(/allReduceMean( failed)?: rank 1 sent no heartbeat for \d+\.\d s: it died or hangs/);
    expect(survivor.seconds).toBeLessThanOrEqual(timeout + 2);
    expect(survivor.signalAborted).toBe(true);
  });

  test('a stopped process (SIGSTOP), here rank 0, which hosts the store: named within the timeout', async () => {
    const [survivor] = await run('stops', 2, 0);
    expect(survivor).toMatchObject({ rank: 1 });
    // rank 0 hosts the store: a stopped rank 0 is seen through its silent store
    expect(survivor.error).toMatch(/the rendezvous store at 127\.0\.0\.1:\d+ stopped answering for \d+\.\d s \(rank 0, its host, died or hangs\)/);
    expect(survivor.seconds).toBeLessThanOrEqual(timeout + 2);
  });

  test('a rank whose event loop hangs in JavaScript: named within twice the timeout', async () => {
    const [survivor] = await run('hangs-in-js', 2, 1);
    expect(survivor.error).toMatch(/rank 1 sent no heartbeat for \d+\.\d s: it died or hangs/);
    expect(survivor.seconds).toBeLessThanOrEqual(2 * timeout + 2);
  });

  test('a rank that fails says why, and the others stop with its reason', async () => {
    const [survivor] = await run('fails', 2, 1);
    expect(survivor.error).toMatch(/rank 1 failed: the disk is full/);
    expect(survivor.seconds).toBeLessThanOrEqual(timeout + 2);
  });
});
