/** What a measurement ran on: reported with every figure. */
import * as os from 'os';
import { backendInfo } from '../backend/device';

export interface MachineInfo {
  hostname: string;
  platform: string;
  cpuModel: string;
  cpus: number;
  memoryBytes: number;
  node: string;
  libtorch: string;
  cudaBuild: boolean;
  cudaDevices: number;
  threads: number;
  /** Whether the CUDA allocator's peak can be read (CUDA builds whose allocator API the engine knows). */
  deviceMemoryStats: boolean;
  device: string;
}

export function machineInfo(device: string): MachineInfo {
  const torch = backendInfo();
  return {
    hostname: os.hostname(),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    node: process.version,
    libtorch: torch.torchVersion,
    cudaBuild: torch.builtWithCuda,
    cudaDevices: torch.cudaDeviceCount,
    threads: torch.threads,
    deviceMemoryStats: torch.deviceMemoryStats,
    device,
  };
}
