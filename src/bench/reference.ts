/**
 * The PyTorch eager reference (ref_mtt.py, carried to the GPU machine by the device recipe), run
 * in the same call as our own timings. Where it cannot run (no file, no python3, no torch) the
 * result says why; nothing is made up.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';

export interface ReferenceRow {
  impl: string;
  method: 'mtt' | 'mct';
  ipc: number;
  syn_steps: number;
  batch_syn: number;
  ms_median?: number;
  peak_mib?: number | null;
  device?: string;
  torch?: string;
  error?: string;
}

export type ReferenceResult = { available: true; script: string; rows: ReferenceRow[] } | { available: false; script: string | null; reason: string };

export function runReference(script: string | undefined, settings: number[], iters: number, device: string): ReferenceResult {
  if (!script) return { available: false, script: null, reason: 'no reference script was given (bench.reference: path/to/ref_mtt.py)' };
  if (!fs.existsSync(script)) return { available: false, script, reason: `${script} not found` };
  const r = spawnSync(
    'python3',
    [script, '--settings', settings.join(','), '--methods', 'mtt,mct', '--iters', String(iters), '--device', device.startsWith('cuda') ? 'cuda' : 'cpu'],
    {
      encoding: 'utf8',
      timeout: 3600_000,
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    },
  );
  if (r.error) return { available: false, script, reason: `python3 could not be run (${r.error.message})` };
  if (r.status !== 0) return { available: false, script, reason: `the reference exited with ${r.status}: ${(r.stderr || '').trim().split('\n').slice(-1)[0]}` };
  const rows = r.stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as ReferenceRow);
  return { available: true, script, rows };
}
