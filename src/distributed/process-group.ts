/**
 * A process group on libtorch's distributed engine (c10d): rendezvous at rank 0's TCPStore, Gloo
 * collectives on CPU tensors, NCCL on CUDA tensors (native/distributed).
 *
 * Timeouts (one setting, `timeoutSeconds`): joining fails after it (a rank missing, the master not
 * reachable); a collective fails after it; a rank whose heartbeat stops for it counts as dead or hung,
 * and every other rank's `signal` aborts with a message naming it. A hang of a rank's own event loop
 * stops its heartbeat too, so a rank stuck in JavaScript is seen as hung after 2 x timeout at most.
 */
import { z } from 'zod';
import { parseOptions } from '../config/validate';
import { Equals, Expect } from '../config/schema-types';
import { distributedInfo as engineDistributedInfo, ProcessGroupHandle } from '../engine';
import { TrajmatchNativeError } from '../errors';
import { Tensor } from '../native';

/** How a rank joins its process group. */
export interface ProcessGroupOptions {
  /** This process's rank, 0 to worldSize - 1. */
  rank: number;
  worldSize: number;
  /** Rank 0's address, where the TCPStore listens (default 127.0.0.1). */
  masterAddr?: string;
  masterPort: number;
  /** Bounds the rendezvous, each collective, and a rank's silence before it counts as dead (default 60). */
  timeoutSeconds?: number;
  /** gloo (CPU tensors) or nccl (CUDA tensors); default: nccl when the device is CUDA, else gloo. */
  backend?: 'gloo' | 'nccl';
  /** The device of the tensors the collectives take ("cpu", the default, or "cuda:N"). */
  device?: string;
  /** Settings every rank must have equal (compared as JSON at rendezvous; a difference is refused, naming it). */
  agreed?: Record<string, unknown>;
}

/** @internal The schema of ProcessGroupOptions. */
export const processGroupOptionsSchema = z.strictObject({
  rank: z.number().int().nonnegative(),
  worldSize: z.number().int().positive(),
  masterAddr: z.string().min(1).default('127.0.0.1'),
  masterPort: z.number().int().min(1).max(65535),
  timeoutSeconds: z.number().positive().default(60),
  backend: z.enum(['gloo', 'nccl']).optional(),
  device: z.string().default('cpu'),
  agreed: z.record(z.string(), z.unknown()).default({}),
});

// Fails to compile when the interface above and the schema differ (see config/schema-types.ts).
type _SameAsSchema = Expect<Equals<ProcessGroupOptions, z.input<typeof processGroupOptionsSchema>>>;

/** What this build of the engine can do: c10d at all, Gloo (CPU), NCCL (CUDA). */
export function distributedInfo(): { c10d: boolean; gloo: boolean; nccl: boolean } {
  return engineDistributedInfo();
}

export class ProcessGroup {
  /** Aborted, with the failure as its reason, when another rank dies, hangs or fails. */
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  private constructor(private readonly group: ProcessGroupHandle) {
    this.signal = this.controller.signal;
    // The heartbeat's tick from this event loop, and the failure check, a few times per beat.
    const every = Math.max(25, Math.min(500, group.timeoutMs / 20));
    this.timer = setInterval(() => this.poll(), every);
    this.timer.unref();
    group.tick();
  }

  /**
   * Joins the group: every rank calls this with its own rank and the same other options. Rejects
   * with a message naming the cause (port in use, master not reachable, ranks missing, options that
   * differ between ranks) within about timeoutSeconds.
   */
  static async join(options: ProcessGroupOptions): Promise<ProcessGroup> {
    const o = parseOptions(processGroupOptionsSchema, options, 'processGroup');
    const backend = o.backend ?? (o.device.startsWith('cuda') ? 'nccl' : 'gloo');
    const agreed = Object.entries(o.agreed).map(([k, v]) => [k, JSON.stringify(v) ?? 'undefined'] as [string, string]);
    const group = await ProcessGroupHandle.join({
      rank: o.rank,
      worldSize: o.worldSize,
      masterAddr: o.masterAddr,
      masterPort: o.masterPort,
      timeoutMs: Math.round(o.timeoutSeconds * 1000),
      backend,
      device: o.device,
      agreed,
    });
    return new ProcessGroup(group);
  }

  get rank(): number {
    return this.group.rank;
  }
  get worldSize(): number {
    return this.group.worldSize;
  }
  get backend(): 'gloo' | 'nccl' {
    return this.group.backend;
  }
  get device(): string {
    return this.group.device;
  }
  get timeoutSeconds(): number {
    return this.group.timeoutMs / 1000;
  }

  /** Replaces each tensor, in place, by its mean over the ranks (one collective for all of them). */
  allReduceMean(tensors: Tensor[]): Promise<void> {
    return this.call('allReduceMean', () => this.group.allReduceMean(tensors));
  }

  /** Copies rank `root`'s values into the tensors of every other rank, in place. */
  broadcast(tensors: Tensor[], root = 0): Promise<void> {
    return this.call('broadcast', () => this.group.broadcast(tensors, root));
  }

  /** c10d's barrier, for ranks that move in step: fails after timeoutSeconds. */
  barrier(): Promise<void> {
    return this.call('barrier', () => this.group.barrier());
  }

  /**
   * Waits until every rank has reached the point `name`, with no deadline while all ranks are alive:
   * for ranks that finish uneven amounts of work. Names may repeat (each use is a new point).
   */
  join(name: string): Promise<void> {
    return this.call('join', () => this.group.join(name));
  }

  /** A counter shared by the ranks, in the store: adds delta atomically and returns the new value. */
  add(key: string, delta = 1): Promise<number> {
    return this.call('add', () => this.group.add(key, delta));
  }

  /** Every rank's value, in rank order (waits as join() does). */
  allGather(key: string, value: string): Promise<string[]> {
    return this.call('allGather', () => this.group.allGather(key, value));
  }

  /** The first rank seen to die, hang or fail (named), or null. */
  failure(): string | null {
    return this.closed ? null : this.group.failure();
  }

  /** Tells the other ranks that this one fails and why: they stop with "rank R failed: <message>". */
  async fail(error: unknown): Promise<void> {
    if (this.closed) return;
    const message = error instanceof Error ? error.message : String(error);
    await this.group.fail(message).catch(() => undefined);
  }

  /**
   * Leaves the group. Rank 0 hosts the store and waits (at most timeoutSeconds) for the others to
   * leave first. After a failure it waits for nothing.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.group.close();
  }

  private poll(): void {
    if (this.closed) return;
    this.group.tick();
    const failure = this.group.failure();
    if (failure !== null && !this.signal.aborted) this.controller.abort(new TrajmatchNativeError('distributed run', failure));
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new TrajmatchNativeError(`ProcessGroup.${what}`, 'the process group was closed');
    try {
      return await fn();
    } catch (e) {
      this.poll(); // a failure that ended the call aborts the signal now, not at the next tick
      throw e;
    }
  }
}
