/**
 * `trajmatch convert`: MTT experts into MCT's convexified form; published .pt buffers into our
 * expert files (--from-pt); our experts into published .pt buffers (--to-pt).
 */
import { Command } from 'commander';
import { TrajmatchInputError } from '../../errors';
import { convertBuffer, storageReport } from '../../trajectory/convert';
import { exportPublishedBuffer, importPublishedBuffer } from '../../trajectory/interop';
import { waypointPlan } from '../../trajectory/waypoints';
import { addNetworkOptions, integerListArg, networkOptionsFrom, numberArg } from '../options';

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
  json?: boolean;
}

export function registerConvert(program: Command): void {
  const cmd = program
    .command('convert')
    .description('convexify the MTT experts of a buffer folder into MCT files (--buffer-dir); import published .pt buffers (--from-pt); export ours as published .pt buffers (--to-pt)')
    .option('--buffer-dir <dir>', 'a folder of our expert files: the one to convexify, or (with --to-pt) to export')
    .option('--from-pt <files...>', "published buffers to import: MTT's replay_buffer_N.pt, MCT's waypoint_buffer[_ipK]_N.pt with step_buffer[_ipK]_N.pt")
    .option('--to-pt <dir>', 'write the experts of --buffer-dir as published .pt files into this folder')
    .option('--dataset <name>', '--from-pt: the dataset the experts were trained on (mnist, fashion-mnist, cifar10, cifar100, tiny-imagenet)')
    .option('--zca', '--from-pt: the experts were trained on ZCA-whitened images (buffer.py --zca)')
    .option('--zca-eps <eps>', '--from-pt: their ZCA regulariser (published: 0.1)', numberArg('number'))
    .option('--buffer-path <dir>', '--from-pt: root of our buffers to import into (default ./buffers)')
    .option('--first-expert <n>', '--from-pt: index of the first imported expert (default 0)', numberArg('integer'))
    .option('--form <form>', '--to-pt: mtt (replay_buffer_N.pt) or mct (waypoint/step files; default mtt)')
    .option('--experts-per-file <n>', "--to-pt: experts per .pt file (buffer.py's save_interval: 10)", numberArg('integer'))
    .option('--waypoints <k>', 'MCT waypoints K, uniform scheme (published: 4)', numberArg('integer'))
    .option('--waypoint-epochs <list>', "MCT waypoints at these epochs, convexify.py's scheme (e.g. 0,6,25,50)", integerListArg)
    .option('--json', 'print the result as one JSON object');
  addNetworkOptions(cmd).action(async (flags: ConvertFlags & Record<string, unknown>) => {
    const say = (line: string) => { if (!flags.json) console.error(line); };
    const explicitPlan = flags.waypoints !== undefined || flags.waypointEpochs !== undefined;
    const plan = waypointPlan(flags.waypoints ?? 4, flags.waypointEpochs);
    if (flags.fromPt) {
      if (flags.toPt || flags.bufferDir) throw new TrajmatchInputError('--from-pt imports into --buffer-path; it takes neither --to-pt nor --buffer-dir');
      if (!flags.dataset) throw new TrajmatchInputError('--from-pt needs --dataset: the dataset the experts were trained on (a .pt file does not say)');
      const result = await importPublishedBuffer(flags.fromPt, {
        dataset: flags.dataset, zca: flags.zca, zcaEps: flags.zcaEps, network: networkOptionsFrom(flags), bufferPath: flags.bufferPath,
        firstExpert: flags.firstExpert, waypoints: explicitPlan ? plan : undefined,
      }, (f) => say(`wrote ${f}`));
      if (flags.json) console.log(JSON.stringify(result));
      else console.log(`${result.written.length} expert file(s) written, ${result.kept.length} already there, in ${result.dir}`);
      return;
    }
    if (!flags.bufferDir) throw new TrajmatchInputError('convert needs --buffer-dir <dir> (or --from-pt <files...> to import published buffers)');
    if (flags.toPt) {
      const form = flags.form ?? 'mtt';
      if (form !== 'mtt' && form !== 'mct') throw new TrajmatchInputError(`--form: expected mtt or mct, received '${form}'`);
      const result = await exportPublishedBuffer(flags.bufferDir, flags.toPt, { form, waypoints: plan, expertsPerFile: flags.expertsPerFile }, (f) => say(`wrote ${f}`));
      if (flags.json) console.log(JSON.stringify(result));
      else {
        console.log(`${result.files.length} .pt file(s) in ${flags.toPt}`);
        console.log(`the published scripts read them from <--buffer_path>/${result.publishedFolder}${form === 'mct' ? '; pass distill_compressed.py --num_interpolation with the number of waypoints (the _ipK of the names, 2 without)' : ''}`);
      }
      return;
    }
    const result = await convertBuffer(flags.bufferDir, plan, (f) => say(`wrote ${f}`));
    const storage = storageReport(flags.bufferDir, plan);
    if (flags.json) console.log(JSON.stringify({ ...result, storage }));
    else {
      console.log(`${result.converted.length} converted, ${result.kept.length} already there`);
      console.log(`storage over ${storage.experts} expert(s): MTT ${storage.mttBytes} bytes, MCT ${storage.mctBytes} bytes: ${storage.ratio.toFixed(1)}x smaller`);
    }
  });
}
