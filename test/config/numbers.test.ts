import { z } from 'zod';
import { parseOptions } from '../../src/config/validate';
import { benchOptionsSchema } from '../../src/bench/run';
import { datasetOptionsSchema } from '../../src/data/dataset';
import { distillOptionsSchema } from '../../src/distill/options';
import { processGroupOptionsSchema } from '../../src/distributed/process-group';
import { describe as describeValue, TrajmatchInputError } from '../../src/errors';
import { evalOptionsSchema } from '../../src/eval/protocol';
import { convNetForDataset, networkOptionsSchema } from '../../src/model/convnet';
import { bufferOptionsSchema, checkCheckpointsFit } from '../../src/trajectory/buffer';

// Every numeric option of every schema, found by walking the schemas (so a new option is covered
// without being listed here): NaN, infinities, negatives, fractions where an integer is meant,
// integers beyond exact doubles and strings are refused, naming the option and the value received.
const SCHEMAS: [string, z.ZodObject][] = [
  ['distill', distillOptionsSchema],
  ['buffer', bufferOptionsSchema],
  ['data', datasetOptionsSchema],
  ['network', networkOptionsSchema],
  ['eval', evalOptionsSchema],
  ['bench', benchOptionsSchema],
  ['processGroup', processGroupOptionsSchema],
];

type NumberSchema = { def: { type: string }; isInt: boolean; minValue: number | null };

/** The number schema inside optional/default/nullable wrappers, and whether it is a list of numbers. */
function numberOf(schema: z.ZodType): { number: NumberSchema; list: boolean } | null {
  let t = schema as unknown as { def: { type: string; innerType?: unknown; element?: unknown }; unwrap?: () => unknown };
  let list = false;
  for (;;) {
    if (t.def.type === 'array') {
      list = true;
      t = t.def.element as typeof t;
    } else if (t.def.innerType !== undefined) t = t.def.innerType as typeof t;
    else break;
  }
  return t.def.type === 'number' ? { number: t as unknown as NumberSchema, list } : null;
}

const rows: [string, string, unknown][] = [];
for (const [where, schema] of SCHEMAS) {
  for (const [key, field] of Object.entries(schema.shape)) {
    const found = numberOf(field as z.ZodType);
    if (!found) continue;
    const bad: unknown[] = [NaN, Infinity, -Infinity, -1, '5'];
    if (found.number.isInt) bad.push(1.5, 2 ** 60);
    for (const v of bad) rows.push([`${where}.${key}`, where, found.list ? [2, v] : v]);
  }
}

test('the walk finds the numeric options', () => {
  const names = new Set(rows.map(([name]) => name));
  for (const name of [
    'distill.ipc',
    'distill.lrImg',
    'distill.waypointEpochs',
    'buffer.epochs',
    'data.zcaEps',
    'network.netWidth',
    'eval.momentum',
    'bench.seeds',
  ]) {
    expect(names).toContain(name);
  }
});

describe.each(SCHEMAS)('%s options', (where, schema) => {
  const mine = rows.filter(([, w]) => w === where);
  test.each(mine.map(([name, , value]) => [name, describeValue(value), value]))('%s = %s is refused, naming it', (name, shown, value) => {
    const key = name.slice(where.length + 1);
    let error: unknown;
    try {
      parseOptions(schema, { [key]: value }, where);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TrajmatchInputError);
    const message = (error as Error).message;
    // the option by its key path (a list's bad element by its index), with what was received
    const shownElement = Array.isArray(value) ? `${name}.1` : name;
    expect(message).toContain(`${shownElement}: `);
    expect(message).toContain(`(received ${Array.isArray(value) ? describeValue(value[1]) : shown})`);
  });
});

describe('sizes that cannot be held are refused before any work, naming what to lower', () => {
  const mnist = { channels: 1, height: 28, width: 28, numClasses: 10 };
  test('a network of more parameters than one tensor holds', () => {
    expect(() => convNetForDataset(mnist, { netWidth: 2 ** 21 })).toThrow(/network\.netWidth: .*\(received 2097152\)/);
    expect(() => convNetForDataset(mnist, { netWidth: 2 ** 20 })).toThrow(
      /^network\.netWidth 1048576 \(depth 3\) makes a ConvNet of \d+ parameters: more than one tensor can hold here \(1073741824 values\); lower network\.netWidth$/,
    );
    expect(() => convNetForDataset(mnist, { netWidth: 16, depth: 9 })).toThrow(/^network\.depth: ConvNet: depth 9 pools a 28x28 image below one pixel/);
    expect(() => convNetForDataset(mnist, { netWidth: 6, norm: 'group' })).toThrow(/^network\.netWidth: ConvNet: group norm uses 4 groups/);
  });
  test("an MTT expert's checkpoints", () => {
    expect(() => checkCheckpointsFit(50, 2 ** 25)).toThrow(
      /^buffer\.epochs 50 makes MTT experts of 51 checkpoints x 33554432 parameters, .*more than one tensor can hold/,
    );
    expect(() => checkCheckpointsFit(50, 10 ** 6, 10 ** 8)).toThrow(/more than this machine's 0\.093 GiB of memory; lower buffer\.epochs or network\.netWidth/);
    expect(() => checkCheckpointsFit(50, 10 ** 6, 2 ** 34)).not.toThrow();
  });
});
