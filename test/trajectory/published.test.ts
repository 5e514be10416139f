/**
 * The published buffers both ways, checked against Python's torch (Debian's python3-torch: CI
 * installs it, and there a missing one fails these tests instead of skipping them).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tensor } from '../../src/backend/tensor';
import { PickledValue, Tensor } from '../../src/native';
import { convNetForward, convNetLayout, convNetSpec } from '../../src/model/convnet';
import { readSafetensors } from '../../src/io/safetensors';
import { DEFAULT_DSA_STRATEGY } from '../../src/augment/dsa';
import { publishedPreprocessing } from '../../src/data/stats';
import { bufferDir } from '../../src/trajectory/buffer';
import { expertFileName, listExpertFiles, openTrajectory, writeMctExpert, writeMttExpert } from '../../src/trajectory/files';
import { segmentsOf } from '../../src/trajectory/segments';
import { exportPublishedBuffer, importPublishedBuffer } from '../../src/trajectory/interop';
import { MctRecorder, MctTrajectory } from '../../src/trajectory/mct';
import { disposePickled, loadTorchFile, readMctBuffer, readMttBuffer } from '../../src/trajectory/published';
import { publishedLayout } from '../../src/trajectory/published-names';
import { tempDir } from '../data/fixtures';
import { randomValues } from '../helpers';

/** A Python that imports torch: Debian's first (python3 on PATH may be another one). */
function findPythonTorch(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
      return py;
    } catch {
      // next
    }
  }
  return null;
}

const python = findPythonTorch();
const inCi = process.env.CI === 'true';
const root = tempDir('published');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function py(script: string, ...args: string[]): string {
  if (!python) throw new Error('python3-torch is missing: install it with apt-get install python3-torch (CI installs it in .ci/run)');
  const file = path.join(root, 'script.py');
  fs.writeFileSync(file, script);
  return execFileSync(python, [file, ...args], { cwd: root, encoding: 'utf8' });
}

// A small ConvNet in the published layout (features: conv, norm, relu, pool; classifier) on
// MNIST-shaped images: the same module order as networks.py's ConvNet.
const network = { netWidth: 4, depth: 1 };
const spec = convNetSpec({ channels: 1, height: 28, width: 28, numClasses: 10, ...network });
const PY_NET = `
import sys, json, torch, torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=3), nn.GroupNorm(4, 4, affine=True), nn.ReLU(), nn.AvgPool2d(2, 2))
        self.classifier = nn.Linear(4 * 16 * 16, 10)
    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))
`;

(python || inCi ? describe : describe.skip)('published .pt buffers, with Python torch', () => {
  test('our published parameter names are those of the published ConvNet, in module order', () => {
    const out = py(`${PY_NET}
print(json.dumps([[n, list(p.shape)] for n, p in Net().named_parameters()]))
`);
    expect(publishedLayout(spec).map((t) => [t.name, t.shape])).toEqual(JSON.parse(out));
  });

  test("an MTT replay_buffer_N.pt written by Python's torch.save is read: every checkpoint, exactly", async () => {
    const dir = path.join(root, 'mtt-in');
    fs.mkdirSync(dir);
    py(`${PY_NET}
import numpy as np
torch.manual_seed(1)
net = Net()
buffer = []
for e in range(2):
    trajectory = [[p.detach().clone() for p in net.parameters()]]
    for epoch in range(3):
        with torch.no_grad():
            for p in net.parameters():
                p.add_(0.01 * torch.randn_like(p))
        trajectory.append([p.detach().cpu() for p in net.parameters()])
    buffer.append(trajectory)
torch.save(buffer, 'mtt-in/replay_buffer_0.pt')
flat = torch.stack([torch.stack([torch.cat([p.flatten() for p in c]) for c in t]) for t in buffer])
flat.numpy().astype(np.float32).tofile('mtt-in/expected.bin')
`);
    const expected = new Float32Array(fs.readFileSync(path.join(dir, 'expected.bin')).buffer.slice(0));
    const bufferPath = path.join(root, 'buffers');
    const result = await importPublishedBuffer([path.join(dir, 'replay_buffer_0.pt')], { dataset: 'mnist', network, bufferPath });
    expect(result.written.map((f) => path.basename(f))).toEqual(['expert_000.mtt.safetensors', 'expert_001.mtt.safetensors']);
    const P = convNetLayout(spec).numParams;
    for (const [e, file] of result.written.entries()) {
      const t = openTrajectory(file, {
        dataset: 'mnist',
        convnet: spec,
        zca: false,
        preprocessing: { normalize: { mean: [0.1307], std: [0.3081] }, zca: null },
      });
      expect(t.epochs).toBe(3);
      expect(t.info.origin).toBe(`replay_buffer_0.pt[${e}]`);
      for (let epoch = 0; epoch <= 3; epoch++) {
        const want = expected.subarray((e * 4 + epoch) * P, (e * 4 + epoch + 1) * P);
        expect(Array.from(t.paramsAt(epoch))).toEqual(Array.from(want));
      }
    }
    // importing again keeps what is there
    const again = await importPublishedBuffer([path.join(dir, 'replay_buffer_0.pt')], { dataset: 'mnist', network, bufferPath });
    expect(again.written).toEqual([]);
    expect(again.kept).toHaveLength(2);
  });

  test("a .pt we write is read back by Python's torch.load(f, weights_only=True) with identical tensors; our safetensors load into the ConvNet by name", async () => {
    const dir = listExpertFiles(path.join(root, 'buffers', 'mnist', 'convnet-d1-w4-instance-relu-avg'), 'mtt');
    expect(dir).toHaveLength(2);
    const ours = path.dirname(dir[0]);
    const out = path.join(root, 'mtt-out');
    const result = await exportPublishedBuffer(ours, out, { form: 'mtt' });
    expect(result.files.map((f) => path.basename(f))).toEqual(['replay_buffer_0.pt']);
    expect(result.publishedFolder).toBe(path.join('MNIST', 'ConvNetD1'));
    const check = py(
      `${PY_NET}
import numpy as np
# weights_only=True: PyTorch 2.6's default, which refuses any global but tensors' and storages'
ours = torch.load('mtt-out/replay_buffer_0.pt', weights_only=True)
theirs = torch.load('mtt-in/replay_buffer_0.pt', weights_only=True)
# the published scripts' call: the default of the installed torch (weights_only=True from 2.6)
assert all(torch.equal(x, y) for x, y in zip(torch.load('mtt-out/replay_buffer_0.pt')[1][2], ours[1][2]))
assert type(ours) is list and len(ours) == len(theirs)
for a, b in zip(ours, theirs):
    assert type(a) is list and len(a) == len(b)
    for ca, cb in zip(a, b):
        assert type(ca) is list and len(ca) == len(cb)
        for x, y in zip(ca, cb):
            assert x.dtype == torch.float32 and x.shape == y.shape and torch.equal(x, y), (x.shape, y.shape)
# the published way to use a checkpoint: assign it to the network's parameters in order
net = Net()
with torch.no_grad():
    for p, v in zip(net.parameters(), ours[1][2]):
        p.copy_(v)
# our safetensors file: the flat checkpoints and the published names with their offsets
raw = open(sys.argv[1], 'rb').read()
n = int.from_bytes(raw[:8], 'little')
header = json.loads(raw[8:8 + n])
layout = json.loads(header['__metadata__']['published_layout'])
begin, end = header['checkpoints']['data_offsets']
flat = torch.from_numpy(np.frombuffer(raw[8 + n + begin:8 + n + end], dtype=np.float32).copy()).view(*header['checkpoints']['shape'])
state = {name: flat[2, offset:offset + int(np.prod(shape))].view(*shape) for name, shape, offset in layout}
by_name = Net()
by_name.load_state_dict(state)
x = torch.randn(5, 1, 28, 28, generator=torch.Generator().manual_seed(3))
np.save('logits.npy', by_name(x).detach().numpy())
np.save('x.npy', x.numpy())
assert torch.allclose(by_name(x), net(x))
print('ok')
`,
      dir[1],
    );
    expect(check.trim()).toBe('ok');
    // the published ConvNet and ours compute the same function of the same checkpoint
    const x = readNpy(path.join(root, 'x.npy'));
    const logits = readNpy(path.join(root, 'logits.npy'));
    const images = tensor(Float32Array.from(x), [5, 1, 28, 28]);
    const params = tensor(openTrajectory(dir[1]).paramsAt(2), [convNetLayout(spec).numParams]);
    const ourLogits = await convNetForward(spec, images, params);
    Array.from(ourLogits.toArray() as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(logits[i], 4));
    [images, params, ourLogits].forEach((t) => t.dispose());
  });

  test("MCT's waypoint/step pair written by Python is read, and ours is read back by Python identically", async () => {
    const dir = path.join(root, 'mct-in');
    fs.mkdirSync(dir);
    // K = 3 over T = 4: segments 0..2 and 2..4, three waypoints; fractions rise from 0 to 1 in each
    py(`${PY_NET}
torch.manual_seed(2)
wps, steps = [], []
for e in range(2):
    net = Net()
    w = []
    for j in range(3):
        w.append([torch.randn_like(p) for p in net.parameters()])
    wps.append(w)
    segs = []
    for j in range(2):
        pts = [[torch.tensor(0.) for _ in range(6)]]
        pts.append([torch.rand(()) for _ in range(6)])
        pts.append([torch.tensor(1.) for _ in range(6)])
        segs.append(pts)
    steps.append(segs)
torch.save(wps, 'mct-in/waypoint_buffer_ip3_0.pt')
torch.save(steps, 'mct-in/step_buffer_ip3_0.pt')
`);
    const bufferPath = path.join(root, 'mct-buffers');
    const result = await importPublishedBuffer([path.join(dir, 'waypoint_buffer_ip3_0.pt')], { dataset: 'mnist', network, bufferPath });
    expect(result.written.map((f) => path.basename(f))).toEqual(['expert_000.mct3.safetensors', 'expert_001.mct3.safetensors']);
    const mct = openTrajectory(result.written[1]) as MctTrajectory;
    expect(mct.epochs).toBe(4);
    expect(mct.data.waypointEpochs).toEqual([0, 2, 4]);
    const out = path.join(root, 'mct-out');
    const exported = await exportPublishedBuffer(result.dir, out, { form: 'mct', waypoints: 3 });
    expect(exported.files.map((f) => path.basename(f))).toEqual(['waypoint_buffer_ip3_0.pt', 'step_buffer_ip3_0.pt']);
    const check = py(`
import torch
for name in ['waypoint_buffer_ip3_0.pt', 'step_buffer_ip3_0.pt']:
    a, b = torch.load('mct-out/' + name, weights_only=True), torch.load('mct-in/' + name, weights_only=True)
    def same(x, y):
        if isinstance(y, list):
            assert type(x) is list and len(x) == len(y)
            for u, v in zip(x, y): same(u, v)
        else:
            assert type(x) is torch.Tensor and x.dtype == y.dtype and x.shape == y.shape and torch.equal(x, y), (x, y)
    same(a, b)
print('ok')
`);
    expect(check.trim()).toBe('ok');
  });

  describe("torch's legacy format (_use_new_zipfile_serialization=False, and PyTorch before 1.6)", () => {
    test('an MTT replay buffer (a list of lists of lists of tensors) is read: every checkpoint, exactly', async () => {
      const dir = path.join(root, 'mtt-legacy');
      fs.mkdirSync(dir);
      py(`${PY_NET}
import numpy as np
torch.manual_seed(4)
buffer = []
for e in range(2):
    net = Net()
    trajectory = []
    for epoch in range(3):
        with torch.no_grad():
            for p in net.parameters():
                p.add_(0.01 * torch.randn_like(p))
        trajectory.append([p.detach().clone() for p in net.parameters()])
    buffer.append(trajectory)
torch.save(buffer, 'mtt-legacy/replay_buffer_0.pt', _use_new_zipfile_serialization=False)
assert open('mtt-legacy/replay_buffer_0.pt', 'rb').read(2) == b'\\x80\\x02'
flat = torch.stack([torch.stack([torch.cat([p.flatten() for p in c]) for c in t]) for t in buffer])
flat.numpy().astype(np.float32).tofile('mtt-legacy/expected.bin')
`);
      const expected = new Float32Array(fs.readFileSync(path.join(dir, 'expected.bin')).buffer.slice(0));
      const P = convNetLayout(spec).numParams;
      const experts = await readMttBuffer(path.join(dir, 'replay_buffer_0.pt'), spec);
      expect(experts.map((x) => x.epochs)).toEqual([2, 2]);
      expect(Array.from(experts[0].checkpoints)).toEqual(Array.from(expected.subarray(0, 3 * P)));
      expect(Array.from(experts[1].checkpoints)).toEqual(Array.from(expected.subarray(3 * P)));
      const result = await importPublishedBuffer([path.join(dir, 'replay_buffer_0.pt')], {
        dataset: 'mnist',
        network,
        bufferPath: path.join(root, 'legacy-buffers'),
      });
      expect(result.written).toHaveLength(2);
      expect(Array.from(openTrajectory(result.written[1]).paramsAt(2))).toEqual(Array.from(expected.subarray(5 * P)));
    });

    test("MCT's waypoint and step files (per-segment fractions, and K = 2's flat list) are read as their zip twins", async () => {
      const dir = path.join(root, 'mct-legacy');
      for (const form of ['zip', 'legacy']) fs.mkdirSync(path.join(dir, form), { recursive: true });
      py(`${PY_NET}
import numpy as np
torch.manual_seed(5)
def fractions(n):
    return [[torch.tensor(0.)] * 6] + [[torch.rand(()) for _ in range(6)] for _ in range(n - 2)] + [[torch.tensor(1.)] * 6]
for k, name in [(3, '_ip3'), (2, '')]:
    wps, steps = [], []
    for e in range(2):
        net = Net()
        wps.append([[torch.randn_like(p) for p in net.parameters()] for _ in range(k)])
        steps.append([fractions(3) for _ in range(k - 1)] if k > 2 else fractions(5))
    for form, new in [('zip', True), ('legacy', False)]:
        torch.save(wps, f'mct-legacy/{form}/waypoint_buffer{name}_0.pt', _use_new_zipfile_serialization=new)
        torch.save(steps, f'mct-legacy/{form}/step_buffer{name}_0.pt', _use_new_zipfile_serialization=new)
    flat = torch.stack([torch.stack([torch.cat([p.flatten() for p in w]) for w in x]) for x in wps])
    flat.numpy().astype(np.float32).tofile(f'mct-legacy/waypoints{name}.bin')
`);
      for (const name of ['_ip3', '']) {
        const read = (form: string) =>
          readMctBuffer(path.join(dir, form, `waypoint_buffer${name}_0.pt`), path.join(dir, form, `step_buffer${name}_0.pt`), spec);
        const [zip, legacy] = [await read('zip'), await read('legacy')];
        const P = convNetLayout(spec).numParams;
        const waypoints = new Float32Array(fs.readFileSync(path.join(dir, `waypoints${name}.bin`)).buffer.slice(0));
        expect(legacy.map((x) => x.data.waypointEpochs)).toEqual(
          name
            ? [
                [0, 2, 4],
                [0, 2, 4],
              ]
            : [
                [0, 4],
                [0, 4],
              ],
        );
        const K = name ? 3 : 2;
        for (const e of [0, 1]) {
          expect(legacy[e].epochs).toBe(4);
          expect(Array.from(legacy[e].data.waypoints)).toEqual(Array.from(waypoints.subarray(e * K * P, (e + 1) * K * P)));
          expect(Array.from(legacy[e].data.fractions)).toEqual(Array.from(zip[e].data.fractions));
          expect(Array.from(legacy[e].data.waypoints)).toEqual(Array.from(zip[e].data.waypoints));
        }
        expect(new Set(legacy[1].data.fractions).size).toBeGreaterThan(3); // the random fractions came through
      }
    });

    test('storages shared by several tensors, views, strides, other dtypes and plain data are read as Python reads them', async () => {
      const out = py(`
import json, torch
x = torch.arange(12.)
value = {'a': [x[2:5], x.view(3, 4).t(), torch.tensor(3.5, dtype=torch.float64), torch.arange(3), torch.zeros(0, 2)], 'b': (1, 'two', None, True, 2 ** 40)}
torch.save(value, 'shared-legacy.pt', _use_new_zipfile_serialization=False)
# more pickle than the first read of a file holds (1 MiB): the reader reads on
torch.save([torch.full((1,), float(i)) for i in range(30000)], 'long-legacy.pt', _use_new_zipfile_serialization=False)
print(json.dumps([t.tolist() for t in torch.load('shared-legacy.pt')['a']]))
`);
      const value = (await loadTorchFile(path.join(root, 'shared-legacy.pt'))) as { dict: [string, PickledValue][] };
      const [[a, tensors], [b, plain]] = value.dict;
      expect([a, b]).toEqual(['a', 'b']);
      const list = tensors as Tensor[];
      expect(list.map((t) => t.dtype)).toEqual(['float32', 'float32', 'float64', 'int64', 'float32']);
      expect(list.map((t) => t.shape)).toEqual([[3], [4, 3], [], [3], [0, 2]]);
      const want = JSON.parse(out) as unknown[];
      expect(list.map((t, i) => (i === 2 ? Number((t.toArray() as Float64Array)[0]) : Array.from(t.toArray() as ArrayLike<number | bigint>, Number)))).toEqual(
        want.map((w) => (Array.isArray(w) ? w.flat() : w)),
      );
      expect(plain).toEqual({ tuple: [1, 'two', null, true, 2 ** 40] });
      disposePickled(value);
      const long = (await loadTorchFile(path.join(root, 'long-legacy.pt'))) as Tensor[];
      expect(fs.statSync(path.join(root, 'long-legacy.pt')).size).toBeGreaterThan(2 << 20);
      expect(long).toHaveLength(30000);
      expect(Array.from(long[29999].toArray() as Float32Array)).toEqual([29999]);
      disposePickled(long);
    });

    test('bad legacy files are refused before anything is allocated or run, naming the file and the problem', async () => {
      const marker = path.join(root, 'pwned-legacy');
      // legacy(...) writes the format by hand: the header pickles, the value (with persistent ids
      // as given), the list of storage keys, then each storage's 8-byte count and bytes
      py(`
import os, pickle, struct, collections, torch
class Pid:
    def __init__(self, pid): self.pid = pid
class Rebuild:
    def __init__(self, pid, size, stride): self.args = (Pid(pid), 0, size, stride, False, collections.OrderedDict())
    def __reduce__(self): return (torch._utils._rebuild_tensor_v2, self.args)
def storage(numel, view=None):
    return ('storage', torch.FloatStorage, 'k', 'cpu', numel, view)
def legacy(name, value, keys, chunks, version=1001):
    with open(name, 'wb') as f:
        for v in (0x1950a86a20f9469cfc6c, version, {'protocol_version': 1001, 'little_endian': True, 'type_sizes': {'short': 2, 'int': 4, 'long': 8}}):
            pickle.dump(v, f, protocol=2)
        p = pickle.Pickler(f, protocol=2)
        p.persistent_id = lambda o: o.pid if isinstance(o, Pid) else None
        p.dump(value)
        pickle.dump(keys, f, protocol=2)
        for count, raw in chunks:
            f.write(struct.pack('<q', count) + raw)
four = struct.pack('<4f', 1, 2, 3, 4)
legacy('fine-legacy.pt', [Rebuild(storage(4, ('v', 1, 2)), (2,), (1,)), Rebuild(storage(4), (2, 2), (2, 1))], ['k'], [(4, four)])
legacy('huge-legacy.pt', [Rebuild(storage(10 ** 15), (4,), (1,))], ['k'], [(10 ** 15, four)])
legacy('count-legacy.pt', [Rebuild(storage(4), (4,), (1,))], ['k'], [(10 ** 15, four)])
legacy('unlisted-legacy.pt', [Rebuild(storage(4), (4,), (1,))], [], [])
legacy('view-legacy.pt', [Rebuild(storage(4, ('v', 3, 2)), (2,), (1,))], ['k'], [(4, four)])
legacy('outside-legacy.pt', [Rebuild(storage(4), (3,), (2,))], ['k'], [(4, four)])
legacy('bare-legacy.pt', [Pid(storage(4))], ['k'], [(4, four)])
legacy('version-legacy.pt', [], [], [], version=1000)
class Evil:
    def __reduce__(self):
        return (os.system, ('touch ${marker}',))
torch.save([Evil()], 'evil-legacy.pt', _use_new_zipfile_serialization=False)
torch.save([torch.arange(64.)], 'big-legacy.pt', _use_new_zipfile_serialization=False)
open('cut-big-legacy.pt', 'wb').write(open('big-legacy.pt', 'rb').read()[:-128])
# a small storage passes the check of its claim (the rest of the pickles count as bytes left) and is
# caught while it is read
torch.save([torch.arange(4.)], 'whole-legacy.pt', _use_new_zipfile_serialization=False)
data = open('whole-legacy.pt', 'rb').read()
tail = len(data) - 4 * 4 - 8  # where the storage's count begins
open('cut-pickle-legacy.pt', 'wb').write(data[:tail // 2])
open('cut-count-legacy.pt', 'wb').write(data[:tail + 5])
open('cut-values-legacy.pt', 'wb').write(data[:-1])
pickle.dump([1, 2], open('pickle.pt', 'wb'), protocol=2)
`);
      const load = (name: string) => loadTorchFile(path.join(root, name));
      const fine = (await load('fine-legacy.pt')) as Tensor[];
      expect(fine.map((t) => Array.from(t.toArray() as Float32Array))).toEqual([
        [2, 3],
        [1, 2, 3, 4],
      ]);
      disposePickled(fine);
      await expect(load('huge-legacy.pt')).rejects.toThrow(
        /huge-legacy\.pt: storage k claims 1000000000000000 values of 4 bytes, more than the \d+ bytes the file has left for it \(a corrupt or truncated file; nothing was allocated\)/,
      );
      await expect(load('count-legacy.pt')).rejects.toThrow(/count-legacy\.pt: storage k: the pickle says 4 values, the data that follows it 1000000000000000/);
      await expect(load('unlisted-legacy.pt')).rejects.toThrow(/unlisted-legacy\.pt: the pickle names storage k, but the file does not list its values/);
      await expect(load('view-legacy.pt')).rejects.toThrow(/view-legacy\.pt: a view of storage k \(2 values from 3\) reaches outside its 4 values/);
      await expect(load('outside-legacy.pt')).rejects.toThrow(/outside-legacy\.pt: a tensor that reaches outside its storage/);
      await expect(load('bare-legacy.pt')).rejects.toThrow(/bare-legacy\.pt: the value holds a bare storage; only tensors are read from \.pt files/);
      await expect(load('version-legacy.pt')).rejects.toThrow(/version-legacy\.pt: torch's legacy format of version 1000, expected 1001/);
      await expect(load('evil-legacy.pt')).rejects.toThrow(
        /evil-legacy\.pt: refused: the pickle refers to (posix|os)\.system; only tensors, lists, tuples, dicts, numbers and strings are read from \.pt files \(nothing in the file was run\)/,
      );
      expect(fs.existsSync(marker)).toBe(false);
      await expect(load('cut-pickle-legacy.pt')).rejects.toThrow(/cut-pickle-legacy\.pt: the pickle ends early \(the file is truncated or corrupt\)/);
      await expect(load('cut-count-legacy.pt')).rejects.toThrow(/cut-count-legacy\.pt: the file ends early: the size of storage \d+ is missing \(truncated\)/);
      await expect(load('cut-values-legacy.pt')).rejects.toThrow(
        /cut-values-legacy\.pt: the file ends early: storage \d+ needs 16 bytes, 15 are left \(truncated\)/,
      );
      await expect(load('cut-big-legacy.pt')).rejects.toThrow(
        /cut-big-legacy\.pt: storage \d+ claims 64 values of 4 bytes, more than the \d+ bytes the file has left for it \(a corrupt or truncated file; nothing was allocated\)/,
      );
      await expect(load('pickle.pt')).rejects.toThrow(/pickle\.pt: not a file written by torch\.save \(expected a zip archive or torch's legacy format\)/);
      const whole = (await load('whole-legacy.pt')) as Tensor[];
      expect(Array.from(whole[0].toArray() as Float32Array)).toEqual([0, 1, 2, 3]);
      disposePickled(whole);
    });
  });

  describe('bad .pt files are refused, naming the file and what was expected', () => {
    test('a malicious pickle is refused and never run', async () => {
      const marker = path.join(root, 'pwned');
      py(`
import os, torch
class Evil:
    def __reduce__(self):
        return (os.system, ('touch ${marker}',))
torch.save([Evil()], 'evil.pt')
`);
      const file = path.join(root, 'evil.pt');
      await expect(loadTorchFile(file)).rejects.toThrow(
        /evil\.pt: refused: the pickle refers to (posix|os)\.system; only tensors, lists, tuples, dicts, numbers and strings are read from \.pt files \(nothing in the file was run\)/,
      );
      await expect(importPublishedBuffer([file], { dataset: 'mnist', network, bufferPath: path.join(root, 'x') })).rejects.toThrow(/refused/);
      expect(fs.existsSync(marker)).toBe(false);
    });

    test('another pickle, the wrong nesting, tensor count or shape', async () => {
      py(`${PY_NET}
net = Net()
ps = [p.detach() for p in net.parameters()]
torch.save({'state_dict': net.state_dict()}, 'dict.pt')
torch.save(ps, 'flat.pt')
torch.save([[ps, [torch.zeros(3)] + ps[1:]]], 'shape.pt')
torch.save([[ps, ps[:-1]]], 'count.pt')
torch.save([[ps, ps], [ps]], 'epochs.pt')
torch.save([[ps, ps], [ps, ps, ps]], 'ragged.pt')
`);
      const read = (name: string) => readMttBuffer(path.join(root, name), spec);
      await expect(read('dict.pt')).rejects.toThrow(
        /dict\.pt: expected MTT's replay_buffer_N\.pt: a list of experts, each a list of per-epoch lists of the network's parameter tensors, found a dict of 1 entries/,
      );
      await expect(read('flat.pt')).rejects.toThrow(
        /flat\.pt: expert 0: expected a list of per-epoch checkpoints, found a float32 tensor of shape \[4, 1, 3, 3\]/,
      );
      await expect(read('epochs.pt')).rejects.toThrow(/epochs\.pt: expert 1: expected at least 2 checkpoints \(epochs 0 and T\), found 1/);
      await expect(read('ragged.pt')).rejects.toThrow(/ragged\.pt: expert 1 has 3 checkpoints, but expert 0 has 2/);
      await expect(importPublishedBuffer([path.join(root, 'shape.pt')], { dataset: 'mnist', network, bufferPath: path.join(root, 'y') })).rejects.toThrow(
        /shape\.pt: expert 0, epoch 1: tensor 0 \(features\.0\.weight\): expected shape \[4, 1, 3, 3\], found \[3\]/,
      );
      await expect(read('shape.pt')).rejects.toThrow(
        /shape\.pt: expert 0, epoch 1: tensor 0 \(features\.0\.weight\): expected shape \[4, 1, 3, 3\], found \[3\]/,
      );
      await expect(read('count.pt')).rejects.toThrow(
        /count\.pt: expert 0, epoch 1: expected 6 parameter tensors \(features\.0\.weight, features\.0\.bias, features\.1\.weight, features\.1\.bias, classifier\.weight, classifier\.bias\), found 5/,
      );
      const junk = path.join(root, 'junk.pt');
      fs.writeFileSync(junk, 'not a pickle at all');
      await expect(read('junk.pt')).rejects.toThrow(/junk\.pt: not a file written by torch\.save \(expected a zip archive or torch's legacy format\)/);
    });

    test('one-element lists, dicts, parameters and other plain data are read; deep nesting is refused', async () => {
      py(`
import torch
torch.save([[torch.nn.Parameter(torch.ones(2))], {'k': (1, 2.5, 'x', None, True)}], 'plain.pt')
deep = []
for _ in range(100):
    deep = [deep]
torch.save(deep, 'deep.pt')
cycle = [torch.zeros(1)]
cycle.append(cycle)
torch.save(cycle, 'cycle.pt')
`);
      const value = await loadTorchFile(path.join(root, 'plain.pt'));
      const [[param], dict] = value as [[{ toArray(): Float32Array }], { dict: [string, { tuple: unknown[] }][] }];
      expect(Array.from(param.toArray())).toEqual([1, 1]);
      expect(dict.dict[0][0]).toBe('k');
      expect(dict.dict[0][1].tuple).toEqual([1, 2.5, 'x', null, true]);
      disposePickled(value as never);
      await expect(loadTorchFile(path.join(root, 'deep.pt'))).rejects.toThrow(/deep\.pt: values nest deeper than 32 levels/);
      await expect(loadTorchFile(path.join(root, 'cycle.pt'))).rejects.toThrow(/cycle\.pt: values nest deeper than 32 levels \(or refer to themselves\)/);
    });
  });
});

/** A float32 or float64 .npy file's values. */
function readNpy(file: string): Float64Array {
  const bytes = fs.readFileSync(file);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  const data = bytes.subarray(10 + headerLength);
  const copy = new Uint8Array(data).buffer;
  return Float64Array.from(header.includes("'<f8'") ? new Float64Array(copy) : new Float32Array(copy));
}

describe('the published parameter names (without Python)', () => {
  test('follow the modules of each block: conv, norm (unless none), activation, pooling (unless none)', () => {
    const names = (o: object) => publishedLayout(convNetSpec({ channels: 3, height: 32, width: 32, numClasses: 10, netWidth: 8, ...o })).map((t) => t.name);
    expect(names({ depth: 2 })).toEqual([
      'features.0.weight',
      'features.0.bias',
      'features.1.weight',
      'features.1.bias',
      'features.4.weight',
      'features.4.bias',
      'features.5.weight',
      'features.5.bias',
      'classifier.weight',
      'classifier.bias',
    ]);
    expect(names({ depth: 2, norm: 'none' })).toEqual([
      'features.0.weight',
      'features.0.bias',
      'features.3.weight',
      'features.3.bias',
      'classifier.weight',
      'classifier.bias',
    ]);
    expect(names({ depth: 2, pooling: 'none', netWidth: 2 })).toEqual([
      'features.0.weight',
      'features.0.bias',
      'features.1.weight',
      'features.1.bias',
      'features.3.weight',
      'features.3.bias',
      'features.4.weight',
      'features.4.bias',
      'classifier.weight',
      'classifier.bias',
    ]);
  });

  test('expert files carry them with the offsets into the flat vector', async () => {
    const file = path.join(root, 'named.mtt.safetensors');
    const P = convNetLayout(spec).numParams;
    await writeMttExpert(file, new Float32Array(2 * P), {
      dataset: 'mnist',
      convnet: spec,
      zca: false,
      epochs: 1,
      lrTeacher: 0.01,
      momentum: 0,
      weightDecay: 0,
      batchSize: 256,
      dsa: null,
      seed: 0,
      expert: 0,
      trainAccuracy: [],
      testAccuracy: null,
    });
    const layout = JSON.parse(readSafetensors(file).metadata.published_layout) as [string, number[], number][];
    expect(layout).toEqual(convNetLayout(spec).tensors.map((t, i) => [publishedLayout(spec)[i].name, t.shape, t.offset]));
    expect(layout[4]).toEqual(['classifier.weight', [10, 1024], 4 * 9 + 4 + 4 + 4]);
  });
});

describe('our .pt files read back by us (without Python)', () => {
  test('exported MTT and MCT buffers import to the same experts', async () => {
    const layout = convNetLayout(spec);
    const P = layout.numParams;
    const T = 3;
    const dir = bufferDir(path.join(root, 'rt'), 'mnist', spec, false);
    const info = {
      dataset: 'mnist',
      convnet: spec,
      zca: false,
      preprocessing: publishedPreprocessing('mnist', false),
      epochs: T,
      lrTeacher: 0.01,
      momentum: 0,
      weightDecay: 0,
      batchSize: 256,
      dsa: DEFAULT_DSA_STRATEGY,
      seed: 0,
      trainAccuracy: [],
      testAccuracy: null,
    };
    for (const e of [0, 1]) {
      const checkpoints = Float32Array.from(randomValues((T + 1) * P, 40 + e));
      await writeMttExpert(path.join(dir, expertFileName(e, 'mtt')), checkpoints, { ...info, expert: e });
      const recorder = new MctRecorder(T, P, segmentsOf(layout), 3);
      for (let t = 0; t <= T; t++) recorder.add(t, checkpoints.subarray(t * P, (t + 1) * P));
      await writeMctExpert(path.join(dir, expertFileName(e, 'mct', 3)), recorder.finish(), { ...info, expert: e }, 3);
    }
    const out = path.join(root, 'rt-out');
    await exportPublishedBuffer(dir, out, { form: 'mtt' });
    await exportPublishedBuffer(dir, out, { form: 'mct', waypoints: 3 });
    // plain pickles, as Python's torch.save writes them: no libtorch type tags, which PyTorch 2.6's
    // torch.load refuses by default (the archives are stored uncompressed, so the names would show)
    for (const name of ['replay_buffer_0.pt', 'waypoint_buffer_ip3_0.pt', 'step_buffer_ip3_0.pt']) {
      const bytes = fs.readFileSync(path.join(out, name));
      expect(bytes.includes('_rebuild_tensor_v2')).toBe(true);
      expect(bytes.includes('torch.jit')).toBe(false);
      expect(bytes.includes('restore_type_tag')).toBe(false);
    }
    const result = await importPublishedBuffer([path.join(out, 'replay_buffer_0.pt'), path.join(out, 'waypoint_buffer_ip3_0.pt')], {
      dataset: 'mnist',
      network,
      bufferPath: path.join(root, 'rt2'),
    });
    expect(result.written.map((f) => path.basename(f)).sort()).toEqual([
      'expert_000.mct3.safetensors',
      'expert_000.mtt.safetensors',
      'expert_001.mct3.safetensors',
      'expert_001.mtt.safetensors',
    ]);
    for (const e of [0, 1]) {
      const a = openTrajectory(path.join(dir, expertFileName(e, 'mtt')));
      const b = openTrajectory(path.join(result.dir, expertFileName(e, 'mtt')));
      for (let t = 0; t <= T; t++) expect(Array.from(b.paramsAt(t))).toEqual(Array.from(a.paramsAt(t)));
      const m = openTrajectory(path.join(dir, expertFileName(e, 'mct', 3))) as MctTrajectory;
      const n = openTrajectory(path.join(result.dir, expertFileName(e, 'mct', 3))) as MctTrajectory;
      expect(n.data.waypointEpochs).toEqual(m.data.waypointEpochs);
      expect(Array.from(n.data.waypoints)).toEqual(Array.from(m.data.waypoints));
      expect(Array.from(n.data.fractions)).toEqual(Array.from(m.data.fractions));
    }
  });
});

describe('the .pt files of our earlier versions (without Python)', () => {
  // test/trajectory/fixtures: written by writeMttBuffer and writeMctBuffer before issue 17, with
  // libtorch's torch::pickle_save, whose pickles tag the lists with torch.jit._pickle.restore_type_tag
  const fixtures = path.join(__dirname, 'fixtures');
  const tiny = convNetSpec({ channels: 1, height: 4, width: 4, numClasses: 2, netWidth: 1, depth: 1 });
  const value = (e: number, t: number, i: number) => (e * 1000 + t * 100 + i) / 8;

  test('still use the type tags, and their MTT replay buffer is read: every checkpoint, exactly', async () => {
    expect(fs.readFileSync(path.join(fixtures, 'replay_buffer_0.pt')).includes('restore_type_tag')).toBe(true);
    const P = convNetLayout(tiny).numParams;
    expect(P).toBe(46);
    const experts = await readMttBuffer(path.join(fixtures, 'replay_buffer_0.pt'), tiny);
    expect(experts.map((x) => x.epochs)).toEqual([2, 2]);
    for (const [e, x] of experts.entries())
      expect(Array.from(x.checkpoints)).toEqual(Array.from({ length: 3 * P }, (_, k) => value(e, Math.floor(k / P), k % P)));
  });

  test('their MCT waypoint and step files are read: waypoints and fractions, exactly', async () => {
    const P = convNetLayout(tiny).numParams;
    const experts = await readMctBuffer(path.join(fixtures, 'waypoint_buffer_ip3_0.pt'), path.join(fixtures, 'step_buffer_ip3_0.pt'), tiny);
    expect(experts).toHaveLength(2);
    for (const [e, x] of experts.entries()) {
      expect(x.epochs).toBe(4);
      expect(x.data.waypointEpochs).toEqual([0, 2, 4]);
      expect(Array.from(x.data.waypoints)).toEqual(Array.from({ length: 3 * P }, (_, k) => value(e, Math.floor(k / P), k % P)));
      const fraction = (t: number, l: number) => (t === 4 ? 1 : (t % 2) * (0.25 + l / 16 + e / 32));
      expect(Array.from(x.data.fractions)).toEqual(Array.from({ length: 5 * 6 }, (_, k) => fraction(Math.floor(k / 6), k % 6)));
    }
  });
});
