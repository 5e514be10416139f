/**
 * torchrun's environment variables: how a process learns that it is one rank of a distributed run,
 * and which device that rank uses.
 * RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT go together; LOCAL_RANK (default: RANK) picks the
 * GPU of the rank on its host. None set: a run of one process.
 */
import { backendInfo, resolveDevice } from '../backend/device';
import { TrajmatchInputError } from '../errors';

export interface RankEnv {
  rank: number;
  worldSize: number;
  /** Host of rank 0, which hosts the rendezvous store. */
  masterAddr: string;
  masterPort: number;
  /** This rank's number on its host: its GPU. */
  localRank: number;
}

export const RANK_VARIABLES = ['RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'] as const;

function integer(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number {
  const text = env[name]!;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new TrajmatchInputError(`Expected an integer in [${min}, ${max}] for ${name} but received ${JSON.stringify(text)}`);
  }
  return n;
}

/** The rank this process is, from torchrun's variables, or undefined when none of them is set. */
export function rankFromEnv(env: NodeJS.ProcessEnv = process.env): RankEnv | undefined {
  const set = RANK_VARIABLES.filter((name) => env[name] !== undefined && env[name] !== '');
  if (set.length === 0) return undefined;
  const missing = RANK_VARIABLES.filter((name) => !set.includes(name));
  if (missing.length > 0) {
    throw new TrajmatchInputError(
      `${set.join(', ')} ${set.length > 1 ? 'are' : 'is'} set but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not: a rank of a distributed run needs all of ${RANK_VARIABLES.join(', ')} (torchrun's variables)`,
    );
  }
  const worldSize = integer(env, 'WORLD_SIZE', 1, 65536);
  const rank = integer(env, 'RANK', 0, worldSize - 1);
  const masterPort = integer(env, 'MASTER_PORT', 1, 65535);
  const localRank = env.LOCAL_RANK !== undefined && env.LOCAL_RANK !== '' ? integer(env, 'LOCAL_RANK', 0, worldSize - 1) : rank;
  return { rank, worldSize, masterAddr: env.MASTER_ADDR!, masterPort, localRank };
}

/**
 * The device of a rank: 'auto' and 'cuda' mean the GPU of its LOCAL_RANK (one rank per GPU), 'auto'
 * falling back to the CPU where there is no CUDA; 'cpu' and 'cuda:N' are kept as asked.
 */
export function deviceForRank(request: string | undefined, localRank: number, option = 'data.device'): string {
  const ask = request ?? 'auto';
  const info = backendInfo();
  if ((ask === 'auto' && info.cudaAvailable) || ask === 'cuda') {
    if (!info.cudaAvailable) return resolveDevice(ask, option); // says why there is no CUDA
    if (localRank >= info.cudaDeviceCount) {
      throw new TrajmatchInputError(
        `${option}: LOCAL_RANK ${localRank} has no GPU of its own: this host has ${info.cudaDeviceCount} CUDA device(s); start at most ${info.cudaDeviceCount} rank(s) per host, or choose a device with ${option}`,
      );
    }
    return `cuda:${localRank}`;
  }
  return resolveDevice(ask, option);
}
