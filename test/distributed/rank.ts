/**
 * One rank of the distributed tests, run as a child process (by the test, or by launchLocal) with
 * torchrun's variables set. argv[2] names the scenario; TM_* variables tune it. Prints one JSON line.
 */
import * as fs from 'fs';
import { tensor } from '../../src/backend/tensor';
import { loadDataset } from '../../src/data/dataset';
import { distillDataset } from '../../src/distill/run';
import { joinDistillRanks } from '../../src/distributed/data-parallel';
import { rankFromEnv } from '../../src/distributed/env';
import { ProcessGroup } from '../../src/distributed/process-group';
import { trainExperts } from '../../src/trajectory/buffer';

const scenario = process.argv[2];
const env = rankFromEnv()!;
const timeoutSeconds = Number(process.env.TM_TIMEOUT ?? 10);
const victim = Number(process.env.TM_VICTIM ?? -1);
const report = (x: Record<string, unknown>) => console.log(JSON.stringify({ rank: env.rank, ...x }));

const join = (agreed: Record<string, unknown> = {}) =>
  ProcessGroup.join({ rank: env.rank, worldSize: env.worldSize, masterAddr: env.masterAddr, masterPort: env.masterPort, timeoutSeconds, agreed });

async function collectiveAfterVictim(group: ProcessGroup, misbehave: () => unknown): Promise<void> {
  await group.join('ready');
  // the victim waits until the others have surely left the join (rank 0 hosts the store it polls)
  if (env.rank === victim) await new Promise((r) => setTimeout(r, 500)).then(misbehave);
  const began = Date.now();
  try {
    await group.allReduceMean([tensor(new Float32Array([1, 2, 3]), [3])]);
    report({ error: null });
  } catch (e) {
    report({ error: (e as Error).message, seconds: (Date.now() - began) / 1000, signalAborted: group.signal.aborted });
  }
}

async function buffer(): Promise<void> {
  const dataset = await loadDataset({ dataset: 'mnist', dataPath: process.env.TM_DATA!, device: 'cpu' });
  const options = JSON.parse(process.env.TM_BUFFER!);
  const group = env.worldSize > 1 ? await join(options) : undefined;
  const result = await trainExperts(dataset, options, {
    group,
    onEvent: (e) => {
      // a kill -9 in the middle of the victim's first expert, which it names first (synchronously)
      if (e.type === 'epoch' && e.epoch === 1 && env.rank === victim) {
        fs.writeSync(1, `${JSON.stringify({ rank: env.rank, killedDuring: e.expert })}\n`);
        process.kill(process.pid, 'SIGKILL');
      }
    },
  });
  await group?.close();
  report({ skipped: result.skipped, trained: result.trained.map((t) => ({ expert: t.expert, rank: t.rank ?? 0 })) });
}

/** A data-parallel distillation (TM_DISTILL: its options); the victim kills itself after iteration TM_KILL_AT. */
async function distill(): Promise<void> {
  const dataset = await loadDataset({ dataset: 'mnist', dataPath: process.env.TM_DATA!, device: 'cpu' });
  const options = JSON.parse(process.env.TM_DISTILL!);
  const killAt = Number(process.env.TM_KILL_AT ?? -1);
  const { runDir: _r, ...agreed } = options;
  let last = Date.now();
  let group;
  try {
    group = env.worldSize > 1 ? await joinDistillRanks(env, 'cpu', timeoutSeconds, { distill: agreed }) : undefined;
    const result = await distillDataset(dataset, options, {
      group,
      onEvent: (e) => {
        if (e.type !== 'iteration') return;
        last = Date.now();
        if (e.iteration === killAt && env.rank === victim) {
          fs.writeSync(1, `${JSON.stringify({ rank: env.rank, killedAfter: e.iteration })}\n`);
          process.kill(process.pid, 'SIGKILL');
        }
      },
    });
    await group?.close();
    report({ lr: result.lr, best: result.best, evals: result.evals.map((x) => x.iteration) });
  } catch (e) {
    report({ error: (e as Error).message, seconds: (Date.now() - last) / 1000 });
    await group?.close();
  } finally {
    dataset.dispose();
  }
}

async function main(): Promise<void> {
  if (scenario === 'buffer') return buffer();
  if (scenario === 'distill') return distill();
  const group = await join();
  if (scenario === 'dies') {
    await collectiveAfterVictim(group, () => process.exit(3));
  } else if (scenario === 'hangs-in-js') {
    await collectiveAfterVictim(group, () => {
      for (;;);
    });
  } else if (scenario === 'stops') {
    await collectiveAfterVictim(group, () => process.kill(process.pid, 'SIGSTOP'));
  } else if (scenario === 'fails') {
    await collectiveAfterVictim(group, async () => {
      await group.fail(new Error('the disk is full'));
      process.exit(4);
    });
  }
  await group.close();
}

main().catch((e) => {
  report({ fatal: (e as Error).message });
  process.exitCode = 1;
});
