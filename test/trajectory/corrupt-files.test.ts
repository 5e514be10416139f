import * as fs from 'fs';
import * as path from 'path';
import { convNetForDataset, convNetLayout } from '../../src/model/convnet';
import { convexify } from '../../src/trajectory/convert';
import { ExpertInfo } from '../../src/trajectory/expert-info';
import { openTrajectory, readExpertInfo, writeMctExpert, writeMttExpert } from '../../src/trajectory/files';
import { tempDir } from '../data/fixtures';
import { editMetadata } from '../io/edit-metadata';

// Expert files with corrupt metadata: every error names the file, the entry and what is wrong,
// never a bare SyntaxError.
const root = tempDir('corrupt-experts');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const spec = convNetForDataset({ channels: 1, height: 8, width: 8, numClasses: 2 }, { netWidth: 2, depth: 1 });
const T = 4;
const info: ExpertInfo = {
  dataset: 'mnist',
  convnet: spec,
  zca: false,
  epochs: T,
  lrTeacher: 0.01,
  momentum: 0,
  weightDecay: 0,
  batchSize: 8,
  dsa: null,
  seed: 0,
  expert: 0,
  trainAccuracy: [],
  testAccuracy: null,
};
let n = 0;
async function mtt(): Promise<string> {
  const P = convNetLayout(spec).numParams;
  const file = path.join(root, `e${n++}.mtt.safetensors`);
  await writeMttExpert(
    file,
    Float32Array.from({ length: (T + 1) * P }, (_, i) => Math.sin(i)),
    info,
  );
  return file;
}
async function mct(): Promise<string> {
  const file = path.join(root, `e${n++}.mct3.safetensors`);
  await writeMctExpert(file, convexify(openTrajectory(await mtt()), 3), info, 3);
  return file;
}

const expertCases: [string, (m: Record<string, string>) => void, RegExp][] = [
  ['trajmatch_expert missing', (m) => delete m.trajmatch_expert, /not a trajmatch expert file \(its metadata has no trajmatch_expert entry\)/],
  ['trajmatch_expert not JSON', (m) => (m.trajmatch_expert = '{"dataset": "mnist",'), /its trajmatch_expert metadata is not JSON/],
  ['epochs "six"', (m) => (m.trajmatch_expert = JSON.stringify({ ...info, epochs: 'six' })), /trajmatch_expert\.epochs: .*\(received "six"\)/],
  ['epochs -1', (m) => (m.trajmatch_expert = JSON.stringify({ ...info, epochs: -1 })), /trajmatch_expert\.epochs: .*\(received -1\)/],
  ['no convnet', (m) => (m.trajmatch_expert = JSON.stringify({ ...info, convnet: undefined })), /trajmatch_expert\.convnet: .*\(received undefined\)/],
  ['format wrong', (m) => (m.format = 'pickle'), /not a trajmatch expert file \(format "pickle"/],
];

test.each(expertCases)('an expert file with %s is refused, naming the file and the entry', async (_name, edit, message) => {
  const file = await mtt();
  editMetadata(file, edit);
  for (const open of [() => openTrajectory(file), () => readExpertInfo(file)]) {
    expect(open).toThrow(message);
    expect(open).toThrow(file);
    expect(open).not.toThrow(/Unexpected token|SyntaxError/);
  }
});

test.each([
  ['not JSON', '{"scheme":', /its waypoint_plan metadata is not JSON/],
  ['an unknown scheme', JSON.stringify({ scheme: 'spline' }), /waypoint_plan\.scheme: /],
  ['a count that is not an integer', JSON.stringify({ scheme: 'uniform', count: 2.5 }), /waypoint_plan\.count: .*\(received 2\.5\)/],
  ['a count its epochs cannot hold', JSON.stringify({ scheme: 'uniform', count: 9 }), /its waypoint_plan does not fit its 4 epochs/],
  [
    'a plan that is not its waypoints',
    JSON.stringify({ scheme: 'convexify', epochs: [0, 1, 4] }),
    /places waypoints at \[0, 1, 4\], but its waypoint_epochs are \[0, 2, 4\]/,
  ],
])('an MCT file whose waypoint_plan is %s is refused, naming the file', async (_name, plan, message) => {
  const file = await mct();
  editMetadata(file, (m) => (m.waypoint_plan = plan));
  expect(() => openTrajectory(file)).toThrow(message);
  expect(() => openTrajectory(file)).toThrow(file);
});

test('a truncated expert file names the file', async () => {
  const file = await mtt();
  fs.truncateSync(file, fs.statSync(file).size - 10);
  expect(() => openTrajectory(file)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a valid safetensors file: .*truncated`));
});
