import { Command } from 'commander';
import { registerEval } from '../../src/cli/commands/eval';

test('eval --help states the defaults eval applies: a synthetic set brings its own network and dataset', () => {
  const program = new Command();
  registerEval(program);
  const help = program.commands[0].helpInformation().replace(/\s+/g, ' ');
  expect(help).toContain("--net-width <n> channels of each conv layer (default: the synthetic set's own, from its metadata; 128 for --baseline)");
  expect(help).toContain("(default: the synthetic set's own, from its metadata; fashion-mnist for --baseline)");
  expect(help).toContain('--eval-batch <n> batch size (default 256)'); // the schema's, which eval applies
});
