/** `trajmatch convert`: write MCT's convexified form of an existing MTT buffer. */
import { Command } from 'commander';
import { convertBuffer, storageReport } from '../../trajectory/convert';
import { numberArg } from '../options';

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('convexify the MTT experts of a buffer folder into MCT files, and report the storage of both forms')
    .requiredOption('--buffer-dir <dir>', 'the folder holding expert_NNN.mtt.safetensors files')
    .option('--waypoints <k>', 'MCT waypoints K (published: 4)', numberArg('integer'), 4)
    .option('--json', 'print the result as one JSON object')
    .action(async (flags: { bufferDir: string; waypoints: number; json?: boolean }) => {
      const result = await convertBuffer(flags.bufferDir, flags.waypoints, flags.json ? undefined : (f) => console.error(`wrote ${f}`));
      const storage = storageReport(flags.bufferDir, flags.waypoints);
      if (flags.json) console.log(JSON.stringify({ ...result, storage }));
      else {
        console.log(`${result.converted.length} converted, ${result.kept.length} already there`);
        console.log(`storage over ${storage.experts} expert(s): MTT ${storage.mttBytes} bytes, MCT (K = ${flags.waypoints}) ${storage.mctBytes} bytes: ${storage.ratio.toFixed(1)}x smaller`);
      }
    });
}
