import { inUserTerms, COMMAND_FLAGS } from '../../src/cli/flags';
import { describeSettings, settingSources } from '../../src/cli/provenance';

test('each applied setting is put in the terms of what set it: preset, config file, flag, the run seed', () => {
  const sources = new Map([
    ['distill.lrImg', 'job.json: distill.lrImg'],
    ['distill.ipc', '--ipc'],
    ['distill.seed', '--seed'],
  ]);
  const s = settingSources(
    [
      { path: 'network.netWidth', value: 32, from: 'preset' },
      { path: 'distill.lrImg', value: 10, from: 'options' },
      { path: 'distill.ipc', value: 5, from: 'options' },
      { path: 'distill.seed', value: 7, from: 'options' },
      { path: 'buffer.seed', value: 7, from: 'distill.seed' },
      { path: 'data.download', value: true, from: 'default job' },
    ],
    'fashion-mnist-cpu',
    sources,
  );
  expect(s.map((x) => `${x.from}:${x.source}`)).toEqual([
    'preset:fashion-mnist-cpu',
    'config:job.json',
    'flag:--ipc',
    'flag:--seed',
    'distill.seed:--seed',
    'default job:the default job',
  ]);
  expect(describeSettings('fashion-mnist-cpu', s)).toEqual([
    'preset: fashion-mnist-cpu',
    'from preset fashion-mnist-cpu: network.netWidth=32',
    'from the config file job.json: distill.lrImg=10',
    'from flags: --ipc 5, --seed 7',
    "from --seed (the experts' seed follows the run's): buffer.seed=7",
    'from the default job: data.download=true',
  ]);
  expect(describeSettings(null, [])[0]).toMatch(/^preset: none/);
  // a preset's value in an error names the flag that overrides it
  const preset = new Map([['distill.expertEpochs', '--expert-epochs (set by preset fashion-mnist-cpu)']]);
  expect(inUserTerms('lower distill.expertEpochs', COMMAND_FLAGS.distill, preset)).toBe('lower --expert-epochs (set by preset fashion-mnist-cpu)');
});
