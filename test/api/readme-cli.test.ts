/**
 * The README's command lines (every `npm run ...` in its ```sh blocks) are commands this package
 * has: the npm script exists, and for the CLI's scripts each flag is one the command knows, each
 * value parses, and the library options the flags make pass their schemas. The commands are not
 * run (most are jobs of minutes to hours on the full datasets); test/api/readme.test.ts runs the
 * TypeScript examples.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { createProgram } from '../../src/cli/program';
import { COMMAND_FLAGS, GROUP_SCHEMAS, givenFlags, LibraryGroup } from '../../src/cli/flags';

const root = path.join(__dirname, '..', '..');
const README = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const SCRIPTS = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** `npm run <script> [-- args]` of every ```sh block, comments and `&&` chains split off. */
function npmRuns(markdown: string): { line: string; script: string; args: string[] }[] {
  const blocks = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  const runs = [];
  for (const line of blocks.flatMap((b) => b.split('\n'))) {
    for (const part of line.replace(/#.*$/, '').split('&&')) {
      const words = part.trim().split(/\s+/);
      if (words[0] !== 'npm' || words[1] !== 'run') continue;
      const rest = words.slice(2).filter((w) => w !== '-s');
      const dashes = rest.indexOf('--');
      runs.push({ line: part.trim(), script: rest[0], args: dashes < 0 ? [] : rest.slice(dashes + 1) });
    }
  }
  return runs;
}

/** Parses a CLI command line as main.ts would, without running the command: its library options. */
async function parseOnly(command: string, args: string[]): Promise<Partial<Record<LibraryGroup, Record<string, unknown>>>> {
  const program = createProgram({ writeOut: () => {}, writeErr: () => {} });
  const cmd = program.commands.find((c) => c.name() === command) as Command;
  expect(cmd).toBeDefined();
  const flags = COMMAND_FLAGS[command as keyof typeof COMMAND_FLAGS];
  let groups: Partial<Record<LibraryGroup, Record<string, unknown>>> = {};
  cmd.action(() => {
    groups = givenFlags(cmd, flags).groups as typeof groups;
  });
  await program.parseAsync(['node', 'trajmatch', command, ...args]);
  return groups;
}

const runs = npmRuns(README);

test('the README shows the quick start and the CLI commands', () => {
  expect(runs.map((r) => r.line)).toEqual(expect.arrayContaining(['npm run distill', 'npm run bench']));
  expect(runs.length).toBeGreaterThan(15);
});

test.each(runs.map((r) => [r.line, r] as const))('%s', async (_, { script, args }) => {
  expect(Object.keys(SCRIPTS)).toContain(script);
  const cli = /^node dist\/cli\/main\.js (\w+)$/.exec(SCRIPTS[script]);
  if (!cli) {
    expect(args).toEqual([]); // a script that is not the CLI takes no flags in the README
    return;
  }
  const groups = await parseOnly(cli[1], args);
  for (const [group, values] of Object.entries(groups)) {
    const schema = GROUP_SCHEMAS[group as LibraryGroup];
    if (!schema) continue; // the CLI's own groups (job, command, output): checked by commander
    const parsed = schema.safeParse(values);
    expect(parsed.success ? 'ok' : parsed.error.message).toBe('ok');
  }
});

test('a flag the command does not have fails the check', async () => {
  await expect(parseOnly('distill', ['--iterationz', '3'])).rejects.toThrow(/unknown option '--iterationz'/);
  await expect(parseOnly('bench', ['--iterations', 'many'])).rejects.toThrow(/iterations/);
});
