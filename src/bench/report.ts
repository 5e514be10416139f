/**
 * The bench's self-contained HTML report (open the file; no server, no scripts): the speed,
 * memory and storage tables, plots of accuracy and matching loss against iterations as inline SVG
 * rendered by vega-lite, and the synthetic images as embedded PNGs.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { BenchReport, BenchSection } from './run';
import { referenceRowFor } from './reference';
import type { TimingResult } from './timing';

const MEASURED_HEADERS = ['ms / iteration (median)', 'page faults / iteration', 'user / system CPU s', 'peak resident MiB'];

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const mib = (b: number | null | undefined) => (b === null || b === undefined ? 'n/a' : (b / 2 ** 20).toFixed(1));
const pct = (v: number) => (100 * v).toFixed(2);

async function svg(spec: vl.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

function plotSpec(title: string, values: object[], y: string, yTitle: string): vl.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 520,
    height: 260,
    data: { values },
    mark: { type: 'line', point: values.length < 200 },
    encoding: {
      x: { field: 'iteration', type: 'quantitative', title: 'distillation iteration' },
      y: { field: y, type: 'quantitative', title: yTitle, scale: { zero: false } },
      color: { field: 'method', type: 'nominal', title: 'method' },
      detail: { field: 'seed', type: 'nominal' },
      strokeDash: { field: 'seed', type: 'nominal', title: 'seed' },
    },
  };
}

function table(head: string[], rows: (string | number)[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export async function renderReport(r: BenchReport, outDir: string): Promise<string> {
  const parts: string[] = [];
  // A section measured less than its protocol (interrupted, fewer seeds or iterations) says so under its title.
  const h2 = (title: string, section: BenchSection) => {
    const state = r.sections?.[section];
    const partial =
      state?.status === 'partial' ? `<p class="partial" data-section="${esc(section)}"><strong>partial</strong>: ${state.notes.map(esc).join('; ')}</p>` : '';
    parts.push(`<h2>${esc(title)}</h2>${partial}`);
  };
  const m = r.machine;
  parts.push(`<h1>MTT vs MCT: trajmatch bench (${esc(r.preset)})</h1>`);
  parts.push(
    `<p class="meta">${esc(r.date)} on ${esc(m.hostname)}: ${esc(m.cpuModel)}, ${m.cpus} CPUs, ${mib(m.memoryBytes)} MiB; ${esc(m.platform)}; Node ${esc(m.node)}; libtorch ${esc(m.libtorch)} (${m.cudaBuild ? 'CUDA' : 'CPU'} build); device ${esc(m.device)}</p>`,
  );

  h2('Speed and memory of one distillation iteration', 'timing');
  const usedBy: Record<string, string> = {
    unroll: 'MTT (exact, full unroll)',
    tesla: 'MCT (constant memory, published code)',
    adjoint: 'ours (exact, recomputed)',
  };
  // the columns a timing of ours and the reference's share, under MEASURED_HEADERS
  const measured = (x: Pick<TimingResult, 'msPerIteration' | 'minorFaultsPerIteration' | 'userSeconds' | 'systemSeconds' | 'peakRssBytes'>) => [
    x.msPerIteration.toFixed(1),
    Math.round(x.minorFaultsPerIteration).toLocaleString('en-US'),
    `${x.userSeconds.toFixed(2)} / ${x.systemSeconds.toFixed(2)}`,
    mib(x.peakRssBytes),
  ];
  parts.push(
    r.timing.length === 0
      ? '<p class="missing">not measured</p>'
      : table(
          ['gradient method', 'used by', 'IPC', 'syn_steps', 'batch_syn', ...MEASURED_HEADERS, 'peak device MiB', 'PyTorch eager ms', 'reference / ours'],
          r.timing.map((t) => {
            const ref = referenceRowFor(r.reference, t);
            return [
              t.gradMethod,
              usedBy[t.gradMethod],
              t.ipc,
              t.synSteps,
              t.batchSyn ?? 'all',
              ...measured(t),
              mib(t.peakDeviceBytes),
              ref ? ref.msPerIteration.toFixed(1) : 'n/a',
              ref ? (ref.msPerIteration / t.msPerIteration).toFixed(2) : 'n/a',
            ];
          }),
        ),
  );

  h2('Trajectory storage', 'storage');
  parts.push(
    r.storage
      ? table(
          ['experts', 'MTT bytes', `MCT bytes (K = ${r.storage.waypoints})`, 'MTT / MCT'],
          [[r.storage.experts, r.storage.mttBytes, r.storage.mctBytes, r.storage.ratio.toFixed(1)]],
        )
      : '<p class="missing">not measured</p>',
  );

  h2('Convergence', 'convergence');
  if (r.convergence.length > 0) {
    const acc = r.convergence.flatMap((c) =>
      c.evals.map((e) => ({ method: c.method.toUpperCase(), seed: String(c.seed), iteration: e.iteration, accuracy: 100 * e.mean })),
    );
    const loss = r.convergence.flatMap((c) =>
      c.losses.map((l) => ({ method: c.method.toUpperCase(), seed: String(c.seed), iteration: l.iteration, loss: l.loss })),
    );
    parts.push(
      `<figure class="plot" id="plot-accuracy">${await svg(plotSpec('Test accuracy of the synthetic set', acc, 'accuracy', 'test accuracy (%)'))}</figure>`,
    );
    parts.push(`<figure class="plot" id="plot-loss">${await svg(plotSpec('Matching loss', loss, 'loss', 'normalised matching loss'))}</figure>`);
  } else parts.push('<p class="missing">not measured</p>');

  h2('Stability over seeds', 'convergence');
  parts.push(
    r.stability
      ? table(
          ['method', 'seeds', 'final accuracy (mean +- std, %)', 'best accuracy (mean +- std, %)'],
          (['mtt', 'mct'] as const).map((k) => [
            k.toUpperCase(),
            r.stability![k].seeds,
            `${pct(r.stability![k].finalMean)} +- ${pct(r.stability![k].finalStd)}`,
            `${pct(r.stability![k].bestMean)} +- ${pct(r.stability![k].bestStd)}`,
          ]),
        )
      : '<p class="missing">not measured</p>',
  );

  h2('Cross-architecture evaluation', 'cross-architecture');
  parts.push(
    r.crossArch.length > 0
      ? table(
          ['method', 'architecture', 'networks', 'test accuracy (mean +- std, %)'],
          r.crossArch.map((c) => [c.method.toUpperCase(), c.arch, c.accuracies.length, `${pct(c.mean)} +- ${pct(c.std)}`]),
        )
      : '<p class="missing">not measured</p>',
  );

  parts.push("<h2>Synthetic images (seed of each method's first run)</h2>");
  for (const method of ['mtt', 'mct'] as const) {
    const run = r.convergence.find((c) => c.method === method);
    const file = run && path.join(outDir, run.grid);
    if (file && fs.existsSync(file)) {
      parts.push(
        `<figure><img alt="${method} synthetic images" src="data:image/png;base64,${fs.readFileSync(file).toString('base64')}"><figcaption>${method.toUpperCase()}</figcaption></figure>`,
      );
    }
  }

  h2('PyTorch eager reference (the published loops, same cells)', 'reference');
  parts.push(
    !r.reference
      ? '<p class="missing">not run</p>'
      : r.reference.available
        ? `<p class="meta">${esc(r.reference.script)} with ${esc(r.reference.python)}</p>` +
          table(
            ['gradient method', 'IPC', 'syn_steps', 'batch_syn', ...MEASURED_HEADERS, 'torch', 'threads'],
            r.reference.rows.map((x) => [x.gradMethod, x.ipc, x.synSteps, x.batchSyn ?? 'all', ...measured(x), x.torch, x.threads]),
          )
        : `<p class="missing">not available: ${esc(r.reference.reason)}</p>`,
  );

  if (r.missing.length > 0) parts.push(`<h2>Missing</h2><ul class="missing">${r.missing.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`);

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>trajmatch bench: MTT vs MCT</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; } th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
.meta { color: #555; } .missing { color: #a33; } .partial { color: #a60; } figure { display: inline-block; margin: 0.5em 1em 0.5em 0; }
img { image-rendering: pixelated; border: 1px solid #ddd; }
</style></head><body>
${parts.join('\n')}
</body></html>
`;
}
