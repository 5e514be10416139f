import * as net from 'net';
import { tensor } from '../../src/backend/tensor';
import { freePort } from '../../src/distributed/launch';
import { distributedInfo, ProcessGroup, ProcessGroupOptions } from '../../src/distributed/process-group';
import { numbers } from '../helpers';

// Several ranks in this one process: each join and collective runs on a libuv worker thread.
const timeoutSeconds = 5;
const join = (rank: number, worldSize: number, masterPort: number, more: Partial<ProcessGroupOptions> = {}) =>
  ProcessGroup.join({ rank, worldSize, masterAddr: '127.0.0.1', masterPort, timeoutSeconds, ...more });

/** Settles every promise; the rejections' messages, or null where it resolved. */
async function outcomes(promises: Promise<unknown>[]): Promise<(string | null)[]> {
  return (await Promise.allSettled(promises)).map((r) => (r.status === 'rejected' ? String((r.reason as Error).message) : null));
}

test('this build has c10d and its gloo backend', () => {
  expect(distributedInfo()).toMatchObject({ c10d: true, gloo: true });
});

describe('two ranks over gloo on 127.0.0.1', () => {
  let groups: ProcessGroup[];
  beforeAll(async () => {
    const port = await freePort();
    groups = await Promise.all([join(0, 2, port, { agreed: { seed: 1 } }), join(1, 2, port, { agreed: { seed: 1 } })]);
  });
  afterAll(async () => {
    await Promise.all(groups.map((g) => g.close()));
  });

  test('the handle says who it is', () => {
    expect(groups.map((g) => [g.rank, g.worldSize, g.backend, g.device, g.timeoutSeconds])).toEqual([
      [0, 2, 'gloo', 'cpu', 5],
      [1, 2, 'gloo', 'cpu', 5],
    ]);
    expect(groups.map((g) => g.failure())).toEqual([null, null]);
  });

  test('allReduceMean averages several tensors in place, in one call', async () => {
    const a = [tensor(new Float32Array([1, 2, 3, 4]), [2, 2]), tensor(new Float32Array([10, 20, 30, 40]), [2, 2])];
    const s = [tensor(new Float32Array([0.5]), [1]), tensor(new Float32Array([-1.5]), [1])];
    await Promise.all(groups.map((g, r) => g.allReduceMean([a[r], s[r]])));
    for (const r of [0, 1]) {
      expect(numbers(a[r])).toEqual([5.5, 11, 16.5, 22]);
      expect(a[r].shape).toEqual([2, 2]);
      expect(numbers(s[r])).toEqual([-0.5]);
    }
    const d = [tensor(new Float64Array([1 / 3]), [1]), tensor(new Float64Array([2 / 3]), [1])];
    await Promise.all(groups.map((g, r) => g.allReduceMean([d[r]])));
    expect(numbers(d[0])).toEqual([0.5]);
  });

  test("broadcast copies the root rank's values everywhere", async () => {
    const t = [tensor(new Int32Array([1, 2]), [2]), tensor(new Int32Array([7, 8]), [2])];
    await Promise.all(groups.map((g, r) => g.broadcast([t[r]], 1)));
    expect(t.map(numbers)).toEqual([
      [7, 8],
      [7, 8],
    ]);
  });

  test("the store's counter hands out each value once, and allGather returns every rank's value in rank order", async () => {
    const got = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => groups[i % 2].add('tickets', 1)));
    expect([...got].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await Promise.all(groups.map((g) => g.allGather('names', `rank-${g.rank}`)))).toEqual([
      ['rank-0', 'rank-1'],
      ['rank-0', 'rank-1'],
    ]);
    // the same key again is a new gathering
    expect(await Promise.all(groups.map((g) => g.allGather('names', `again-${g.rank}`)))).toEqual([
      ['again-0', 'again-1'],
      ['again-0', 'again-1'],
    ]);
  });

  test('join waits for the slowest rank without a deadline; barrier passes when both arrive', async () => {
    const first = groups[0].join('uneven');
    let passed = false;
    void first.then(() => {
      passed = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(passed).toBe(false);
    await Promise.all([first, groups[1].join('uneven')]);
    await Promise.all(groups.map((g) => g.barrier()));
  });

  test('bad tensors are refused, naming them', async () => {
    const ints = tensor(new Int32Array([1]), [1]);
    await expect(groups[0].allReduceMean([ints])).rejects.toThrow(/allReduceMean: tensors\[0\] is Int: a mean needs floating point/);
    await expect(groups[0].allReduceMean([tensor(new Float32Array([1]), [1]), tensor(new Float64Array([1]), [1])])).rejects.toThrow(
      /tensors\[1\] is Double but tensors\[0\] is Float: one dtype for all/,
    );
    await expect(groups[0].allReduceMean([])).rejects.toThrow(/expected at least one tensor/);
    await expect(groups[0].broadcast([ints], 2)).rejects.toThrow(/root must be a rank in \[0, 1\], received 2/);
  });
});

describe('bad rendezvous inputs give clear errors within the timeout', () => {
  test('options that differ between ranks are refused on every rank, naming the option and the ranks', async () => {
    const port = await freePort();
    const errors = await outcomes([join(0, 2, port, { agreed: { seed: 0, ipc: 10 } }), join(1, 2, port, { agreed: { seed: 3, ipc: 10 } })]);
    for (const e of errors)
      expect(e).toMatch(new RegExp(`rendezvous at 127.0.0.1:${port}: the ranks were started with different options: seed is 0 on rank 0 but 3 on rank 1$`));
  });

  test('a world size that differs between ranks is refused', async () => {
    const port = await freePort();
    const errors = await outcomes([join(0, 2, port), join(1, 3, port)]);
    for (const e of errors) expect(e).toMatch(/WORLD_SIZE is 2 on rank 0 but 3 on rank 1/);
  });

  test('a rank that never comes is named after the timeout', async () => {
    const port = await freePort();
    const began = Date.now();
    const errors = await outcomes([join(0, 3, port, { timeoutSeconds: 1.5 }), join(1, 3, port, { timeoutSeconds: 1.5 })]);
    for (const e of errors)
      expect(e).toMatch(/rank 2 of WORLD_SIZE 3 did not arrive within 1.5 s \(were they started, with the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE\?\)/);
    expect(Date.now() - began).toBeLessThan(6000);
  });

  test('a rank started twice is refused', async () => {
    const port = await freePort();
    const errors = await outcomes([join(0, 3, port), join(1, 3, port), join(1, 3, port)]);
    expect(errors.filter((e) => e !== null && /rank 1 was started twice \(two processes have RANK=1\)/.test(e))).toHaveLength(3);
  });

  test('a port in use: rank 0 cannot host the store, and says so', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      await expect(join(0, 2, port)).rejects.toThrow(
        new RegExp(`rank 0 cannot host the rendezvous store on port ${port}: the port is in use \\(choose another MASTER_PORT\\)`),
      );
    } finally {
      server.close();
    }
  });

  test('an unreachable master: the rank gives up after the timeout, naming the address', async () => {
    const port = await freePort(); // nobody listens there
    const began = Date.now();
    await expect(join(1, 2, port, { timeoutSeconds: 1 })).rejects.toThrow(
      new RegExp(
        `rank 1 cannot reach the rendezvous store at 127.0.0.1:${port} within 1 s \\(is rank 0 running, with the same MASTER_ADDR and MASTER_PORT\\?\\)`,
      ),
    );
    expect(Date.now() - began).toBeLessThan(5000);
  });

  test('invalid options are refused before any connection', async () => {
    await expect(join(2, 2, 29500)).rejects.toThrow(/RANK must be in \[0, WORLD_SIZE - 1\] = \[0, 1\], received 2/);
    await expect(ProcessGroup.join({ rank: 0, worldSize: 1, masterPort: 70000 })).rejects.toThrow(/processGroup.masterPort/);
    await expect(join(0, 1, 29500, { backend: 'gloo', device: 'cuda:0' })).rejects.toThrow(/cuda/);
  });
});
