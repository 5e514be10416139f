import { Command } from 'commander';
import { benchOptionsSchema } from '../../src/bench/run';
import { addFlags, COMMAND_FLAGS, givenFlags } from '../../src/cli/flags';
import { parseOptions } from '../../src/config/validate';

test("bench's size knobs and sections by what they measure reach the bench's options", () => {
  const cmd = addFlags(new Command('bench').exitOverride(), COMMAND_FLAGS.bench);
  cmd.parse(
    ['--sections', 'speed,memory,accuracy', '--iterations', '20', '--timing-iterations', '2', '--net-width', '16', '--train-limit', '2000', '--seeds', '0'],
    {
      from: 'user',
    },
  );
  const given = givenFlags(cmd, COMMAND_FLAGS.bench);
  expect(given.groups.bench).toEqual({
    sections: ['speed', 'memory', 'accuracy'],
    iterations: 20,
    timingIterations: 2,
    netWidth: 16,
    trainLimit: 2000,
    seeds: [0],
  });
  expect(parseOptions(benchOptionsSchema, given.groups.bench, 'bench')).toMatchObject({ iterations: 20, netWidth: 16 });
  expect(() => parseOptions(benchOptionsSchema, { iterations: 0, sections: ['speed', 'sped'] }, 'bench')).toThrow(
    /bench\.sections\.1: .*\(received "sped"\)\n {2}bench\.iterations: .*\(received 0\)/,
  );
});
