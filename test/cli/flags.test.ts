import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { addFlags, COMMAND_FLAGS, Flag, givenFlags, GROUP_SCHEMAS, inUserTerms, LibraryGroup, mergeGiven } from '../../src/cli/flags';
import { readConfigFile } from '../../src/cli/config-file';
import { tempDir } from '../data/fixtures';

const root = tempDir('flags');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function parse(flags: readonly Flag[], argv: string[]) {
  const cmd = addFlags(new Command('x').exitOverride(), flags);
  cmd.parse(argv, { from: 'user' });
  return { cmd, given: givenFlags(cmd, flags) };
}

describe('the flag table', () => {
  test('every flag of a library group sets an option its schema has, and no command has a flag twice', () => {
    for (const [command, flags] of Object.entries(COMMAND_FLAGS)) {
      const names = flags.map((f) => f.flag.split(' ')[0]);
      expect({ command, duplicates: names.filter((n, i) => names.indexOf(n) !== i) }).toEqual({ command, duplicates: [] });
      for (const f of flags) {
        const [group, key] = f.path.split('.');
        if (group in GROUP_SCHEMAS) expect({ flag: f.flag, known: key in GROUP_SCHEMAS[group as LibraryGroup].shape }).toEqual({ flag: f.flag, known: true });
      }
    }
  });

  test('help texts end with the defaults of the library schemas', () => {
    const help = addFlags(new Command('buffer'), COMMAND_FLAGS.buffer).helpInformation().replace(/\s+/g, ' ');
    expect(help).toContain('--num-experts <n> experts to train, E (default 100)');
    expect(help).toContain('--dsa-strategy <s>');
    expect(help).toContain('(default color_crop_cutout_flip_scale_rotate)');
    const distill = addFlags(new Command('distill'), COMMAND_FLAGS.distill, { presets: true }).helpInformation().replace(/\s+/g, ' ');
    expect(distill).toContain('--iterations <n> distillation iterations (default 5000 without a preset)');
  });

  test('only the flags given make options, by group, with where each came from', () => {
    const { given } = parse(COMMAND_FLAGS.buffer, ['--lr-teacher', '0.02', '--no-dsa', '--net-depth', '2', '--zca']);
    expect(given.groups).toEqual({ buffer: { lrTeacher: 0.02, dsa: null }, network: { depth: 2 }, data: { zca: true } });
    expect(Object.fromEntries(given.sources)).toEqual({
      'buffer.lrTeacher': '--lr-teacher',
      'buffer.dsa': '--no-dsa',
      'network.depth': '--net-depth',
      'data.zca': '--zca',
    });
    expect(parse(COMMAND_FLAGS.distill, ['--no-train-experts']).given.groups).toEqual({ job: { noExpertTraining: true } });
    expect(parse(COMMAND_FLAGS.bench, ['--seeds', '3,4']).given.groups).toEqual({ bench: { seeds: [3, 4] } });
    expect(() => parse(COMMAND_FLAGS.bench, ['--seeds', '3,x'])).toThrow("expected an integer, received 'x'");
  });

  test('library messages are put in the terms of what set the option', () => {
    const flags = COMMAND_FLAGS.distill;
    expect(inUserTerms('the last checkpoint is kept: lower distill.lrImg or distill.lrLr', flags)).toBe(
      'the last checkpoint is kept: lower --lr-img or --lr-lr',
    );
    expect(inUserTerms('network.depth: too small; data.device: bad', flags)).toBe('--net-depth: too small; --device: bad');
    const sources = new Map([['distill.lrImg', 'job.json: distill.lrImg']]);
    expect(inUserTerms('lower distill.lrImg', flags, sources)).toBe('lower job.json: distill.lrImg');
    // key paths inside file names and longer keys are left alone
    expect(inUserTerms('/tmp/distill.lrImg.json and distill.lrImgs', flags)).toBe('/tmp/distill.lrImg.json and distill.lrImgs');
  });
});

describe('config files', () => {
  const write = (name: string, content: unknown) => {
    const file = path.join(root, name);
    fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  };

  test('are checked against the library schemas, every problem of every group listed', () => {
    const file = write('bad.json', { data: { zcaEps: -1 }, network: { depth: 'x' }, distill: { lrImg: -2, lrImage: 1 }, evaluation: {} });
    let message = '';
    try {
      readConfigFile(file);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`Invalid options in the config file ${file}:`);
    expect(message).toMatch(/data\.zcaEps: .*\(received -1\)/);
    expect(message).toMatch(/network\.depth: .*\(received "x"\)/);
    expect(message).toMatch(/distill\.lrImg: .*\(received -2\)/);
    expect(message).toContain('unknown option(s) distill.lrImage');
    expect(message).toContain('unknown option(s) evaluation');
    expect(() => readConfigFile(write('broken.json', '{"data": '))).toThrow(/broken\.json: cannot read the config file/);
  });

  test('give their values as written, with their source, and flags override them', () => {
    const file = write('good.json', { distill: { lrImg: 10, ipc: 2 }, buffer: { numExperts: 3 } });
    const fromFile = readConfigFile(file);
    expect(fromFile.groups).toEqual({ distill: { lrImg: 10, ipc: 2 }, buffer: { numExperts: 3 } }); // no defaults filled in
    const { given } = parse(COMMAND_FLAGS.distill, ['--ipc', '5']);
    const merged = mergeGiven(fromFile, given);
    expect(merged.groups.distill).toEqual({ lrImg: 10, ipc: 5 });
    expect(merged.sources.get('distill.lrImg')).toBe(`${file}: distill.lrImg`);
    expect(merged.sources.get('distill.ipc')).toBe('--ipc');
  });
});
