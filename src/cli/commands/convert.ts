/**
 * `trajmatch convert`: MTT experts into MCT's convexified form; published .pt buffers into our
 * expert files (--from-pt); our experts into published .pt buffers (--to-pt).
 */
import { Command } from 'commander';
import { TrajmatchInputError } from '../../errors';
import { checkOutputDir } from '../../io/output-path';
import { convertBuffer, storageReport } from '../../trajectory/convert';
import { DEFAULT_WAYPOINTS } from '../../trajectory/files';
import { exportPublishedBuffer, importPublishedBuffer } from '../../trajectory/interop';
import { waypointPlan } from '../../trajectory/waypoints';
import { addFlags, COMMAND_FLAGS, givenFlags, inUserTermsOnError } from '../flags';
import { openOutput } from '../output';

interface ConvertFlags {
  bufferDir?: string;
  fromPt?: string[];
  toPt?: string;
  dataset?: string;
  zca?: boolean;
  zcaEps?: number;
  bufferPath?: string;
  firstExpert?: number;
  form?: string;
  expertsPerFile?: number;
  waypoints?: number;
  waypointEpochs?: number[];
}

export function registerConvert(program: Command): void {
  const flags = COMMAND_FLAGS.convert;
  const cmd = addFlags(
    program
      .command('convert')
      .description(
        'convexify the MTT experts of a buffer folder into MCT files (--buffer-dir); import published .pt buffers (--from-pt); export ours as published .pt buffers (--to-pt)',
      ),
    flags,
  );
  cmd.action(async () => {
    const given = givenFlags(cmd, flags);
    // the import's waypoint plan (a library option, import.waypoints) is set by --waypoint-epochs
    await inUserTermsOnError(flags, new Map([['import.waypoints', '--waypoint-epochs'], ...given.sources]), async () => {
      const c = (given.groups.command ?? {}) as ConvertFlags;
      const output = openOutput(given.groups.output);
      const say = (file: string) => {
        output.event({ type: 'file', file }, 'convert.');
        output.screen.log(`wrote ${file}`);
      };
      const explicitPlan = c.waypoints !== undefined || c.waypointEpochs !== undefined;
      const plan = waypointPlan(c.waypoints ?? DEFAULT_WAYPOINTS, c.waypointEpochs);
      if (c.fromPt) {
        if (c.toPt || c.bufferDir) throw new TrajmatchInputError('--from-pt imports into --buffer-path; it takes neither --to-pt nor --buffer-dir');
        if (!c.dataset) throw new TrajmatchInputError('--from-pt needs --dataset: the dataset the experts were trained on (a .pt file does not say)');
        if (c.bufferPath !== undefined) checkOutputDir(c.bufferPath, 'command.bufferPath');
        const result = await importPublishedBuffer(
          c.fromPt,
          {
            dataset: c.dataset,
            zca: c.zca,
            zcaEps: c.zcaEps,
            network: given.groups.network,
            bufferPath: c.bufferPath,
            firstExpert: c.firstExpert,
            waypoints: explicitPlan ? plan : undefined,
          },
          say,
        );
        output.result(result, () => output.print(`${result.written.length} expert file(s) written, ${result.kept.length} already there, in ${result.dir}`));
        return;
      }
      if (!c.bufferDir) throw new TrajmatchInputError('convert needs --buffer-dir <dir> (or --from-pt <files...> to import published buffers)');
      if (c.toPt) {
        const form = c.form ?? 'mtt';
        if (form !== 'mtt' && form !== 'mct') throw new TrajmatchInputError(`--form: expected mtt or mct, received '${form}'`);
        checkOutputDir(c.toPt, 'command.toPt');
        const result = await exportPublishedBuffer(c.bufferDir, c.toPt, { form, waypoints: plan, expertsPerFile: c.expertsPerFile }, say);
        output.result(result, () => {
          output.print(`${result.files.length} .pt file(s) in ${c.toPt}`);
          output.print(
            `the published scripts read them from <--buffer_path>/${result.publishedFolder}${form === 'mct' ? '; pass distill_compressed.py --num_interpolation with the number of waypoints (the _ipK of the names, 2 without)' : ''}`,
          );
        });
        return;
      }
      const result = await convertBuffer(c.bufferDir, plan, say);
      const storage = storageReport(c.bufferDir, plan);
      output.result({ ...result, storage }, () => {
        output.print(`${result.converted.length} converted, ${result.kept.length} already there`);
        output.print(
          `storage over ${storage.experts} expert(s): MTT ${storage.mttBytes} bytes, MCT ${storage.mctBytes} bytes: ${storage.ratio.toFixed(1)}x smaller`,
        );
      });
    });
  });
}
