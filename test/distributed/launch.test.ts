import { ChildProcess } from 'child_process';
import { deviceForRank, rankFromEnv } from '../../src/distributed/env';
import { freePort, launchLocal, RankFailedError } from '../../src/distributed/launch';

describe("torchrun's variables", () => {
  const full = { RANK: '1', WORLD_SIZE: '4', MASTER_ADDR: '10.1.2.3', MASTER_PORT: '29500' };

  test('none set: not a distributed run; all set: the rank, with LOCAL_RANK defaulting to RANK', () => {
    expect(rankFromEnv({})).toBeUndefined();
    expect(rankFromEnv(full)).toEqual({ rank: 1, worldSize: 4, masterAddr: '10.1.2.3', masterPort: 29500, localRank: 1 });
    expect(rankFromEnv({ ...full, LOCAL_RANK: '0' })).toMatchObject({ localRank: 0 });
  });

  test('a partial or malformed set is refused, naming the variable', () => {
    expect(() => rankFromEnv({ RANK: '0' })).toThrow(
      'RANK is set but WORLD_SIZE, MASTER_ADDR, MASTER_PORT are not: a rank of a distributed run needs all of RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT',
    );
    expect(() => rankFromEnv({ ...full, RANK: '4' })).toThrow('Expected an integer in [0, 3] for RANK but received "4"');
    expect(() => rankFromEnv({ ...full, WORLD_SIZE: 'two' })).toThrow('Expected an integer in [1, 65536] for WORLD_SIZE but received "two"');
    expect(() => rankFromEnv({ ...full, MASTER_PORT: '70000' })).toThrow('Expected an integer in [1, 65535] for MASTER_PORT but received "70000"');
    expect(() => rankFromEnv({ ...full, LOCAL_RANK: '-1' })).toThrow('for LOCAL_RANK');
  });

  test('a rank on this CPU-only build runs on the CPU; asking for CUDA says why there is none', () => {
    expect(deviceForRank(undefined, 3)).toBe('cpu');
    expect(deviceForRank('cpu', 0)).toBe('cpu');
    expect(() => deviceForRank('cuda', 0)).toThrow(/data\.device: .*cuda/i);
  });
});

describe('the local launcher', () => {
  // Plain node scripts: what matters here is the processes, not the engine.
  const script = (body: string) => ['-e', body];

  test('starts N ranks with their variables and a free port, and resolves when all succeed', async () => {
    const lines: string[] = [];
    await launchLocal({
      nproc: 3,
      args: script(
        "console.log([process.env.RANK, process.env.LOCAL_RANK, process.env.WORLD_SIZE, process.env.MASTER_ADDR, process.env.MASTER_PORT > 0, process.env.OMP_NUM_THREADS].join(' ')); console.error('progress')",
      ),
      env: { ...process.env, OMP_NUM_THREADS: '1' },
      onLine: (rank, stream, line) => lines.push(`${rank} ${stream} ${line}`),
    });
    expect(lines.filter((l) => l.includes('stdout')).sort()).toEqual([
      '0 stdout 0 0 3 127.0.0.1 true 1',
      '1 stdout 1 1 3 127.0.0.1 true 1',
      '2 stdout 2 2 3 127.0.0.1 true 1',
    ]);
    expect(lines.filter((l) => l.includes('stderr progress'))).toHaveLength(3);
  });

  test('a rank that fails ends the others at once and is named with its last error line', async () => {
    const began = Date.now();
    const run = launchLocal({
      nproc: 2,
      args: script("if (process.env.RANK === '1') { console.error('cannot open the data'); process.exit(3); } setInterval(() => {}, 1000)"),
      onLine: () => undefined,
    });
    await expect(run).rejects.toThrow(new RankFailedError('rank 1 of 2 exited with code 3: cannot open the data', 1));
    expect(Date.now() - began).toBeLessThan(10000);
  });

  test('a killed rank is named with its signal; a rank that ignores SIGTERM is killed after stopSeconds', async () => {
    const children: ChildProcess[] = [];
    let ready = 0;
    let killedAt = 0;
    const run = launchLocal({
      nproc: 2,
      args: script("process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)"),
      stopSeconds: 1,
      onStart: (rank, child) => {
        children[rank] = child;
      },
      onLine: (_rank, _stream, line) => {
        if (line === 'ready' && ++ready === 2) {
          killedAt = Date.now();
          children[0].kill('SIGKILL');
        }
      },
    });
    await expect(run).rejects.toThrow('rank 0 of 2 was killed by SIGKILL');
    const stopped = Date.now() - killedAt;
    expect(stopped).toBeGreaterThanOrEqual(900); // rank 1 ignored SIGTERM ...
    expect(stopped).toBeLessThan(5000); // ... and SIGKILL ended it
    expect(children[1].signalCode).toBe('SIGKILL');
  });

  test('freePort gives a port nothing listens on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
  });
});
