/** `trajmatch convert`: write MCT's convexified form of an existing MTT buffer. */
import { Command } from 'commander';
import { convertBuffer, storageReport } from '../../trajectory/convert';
import { DEFAULT_WAYPOINTS } from '../../trajectory/files';
import { addFlags, COMMAND_FLAGS, givenFlags } from '../flags';

export function registerConvert(program: Command): void {
  const flags = COMMAND_FLAGS.convert;
  const cmd = addFlags(program.command('convert').description('convexify the MTT experts of a buffer folder into MCT files, and report the storage of both forms'), flags);
  cmd.action(async () => {
    const { groups } = givenFlags(cmd, flags);
    const dir = groups.command!.bufferDir as string;
    const waypoints = (groups.command!.waypoints as number | undefined) ?? DEFAULT_WAYPOINTS;
    const json = Boolean(groups.output?.json);
    const result = await convertBuffer(dir, waypoints, json ? undefined : (f) => console.error(`wrote ${f}`));
    const storage = storageReport(dir, waypoints);
    if (json) console.log(JSON.stringify({ ...result, storage }));
    else {
      console.log(`${result.converted.length} converted, ${result.kept.length} already there`);
      console.log(`storage over ${storage.experts} expert(s): MTT ${storage.mttBytes} bytes, MCT (K = ${waypoints}) ${storage.mctBytes} bytes: ${storage.ratio.toFixed(1)}x smaller`);
    }
  });
}
