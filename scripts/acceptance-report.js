#!/usr/bin/env node
'use strict';
// Gathers what scripts/gpu-acceptance.sh measured (in its work folder) into one JSON file:
//   node scripts/acceptance-report.js <work folder> <out.json>
// A step that did not run or failed leaves its part null and is listed under "missing".
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function readJsonLines(file) {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))
      .map((l) => JSON.parse(l));
  } catch {
    return null;
  }
}

/** The result of a CLI command run with --json (JSON lines, one per event): its "result" event. */
function readResult(file) {
  const lines = readJsonLines(file);
  return (lines && lines.find((l) => l.event === 'result')) || null;
}

function gpu() {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out
      .trim()
      .split('\n')
      .map((l) => {
        const [name, driver, memory] = l.split(',').map((x) => x.trim());
        return { name, driver, memory };
      });
  } catch {
    return null;
  }
}

function jestSummary(j) {
  if (!j) return null;
  return {
    passed: j.numPassedTests,
    failed: j.numFailedTests,
    skipped: j.numPendingTests,
    tests: j.testResults.flatMap((f) => f.assertionResults.map((a) => ({ file: path.relative(process.cwd(), f.name), title: a.fullName, status: a.status }))),
  };
}

function distillSummary(d) {
  if (!d) return null;
  return { best: d.best, initial: d.initial, evals: d.evals, learnedLr: d.lr, runDir: d.runDir };
}

function main() {
  const [work, out] = process.argv.slice(2);
  if (!work || !out) {
    console.error('usage: node scripts/acceptance-report.js <work folder> <out.json>');
    process.exit(2);
  }
  const bench = readResult(path.join(work, 'bench-report.json'));
  const report = {
    date: new Date().toISOString(),
    gpus: gpu(),
    node: process.version,
    backend: readJson(path.join(work, 'backend.json')),
    steps: readJsonLines(path.join(work, 'steps.jsonl')) || [],
    cudaTests: jestSummary(readJson(path.join(work, 'jest.json'))),
    smoke: readJsonLines(path.join(work, 'smoke.jsonl')),
    bench: bench && {
      machine: bench.machine,
      settings: { timing: bench.settings.timing, timingNetwork: bench.settings.timingNetwork },
      timing: bench.timing,
      reference: bench.reference,
      missing: bench.missing,
    },
    fashionMnistIpc1: {
      protocol: { networks: 5, epochs: 1000 },
      mct: distillSummary(readResult(path.join(work, 'distill-mct.json'))),
      mtt: distillSummary(readResult(path.join(work, 'distill-mtt.json'))),
    },
  };
  report.missing = [
    ['backend', report.backend],
    ['cudaTests', report.cudaTests],
    ['smoke', report.smoke],
    ['bench', report.bench],
    ['fashionMnistIpc1.mct', report.fashionMnistIpc1.mct],
    ['fashionMnistIpc1.mtt', report.fashionMnistIpc1.mtt],
  ]
    .filter(([, v]) => v === null)
    .map(([k]) => k);
  for (const s of report.steps) if (s.exitCode !== 0) report.missing.push(`step '${s.name}' exited ${s.exitCode}`);
  if (bench && bench.reference && !bench.reference.available) report.missing.push(`the PyTorch reference: ${bench.reference.reason}`);
  const tmp = `${out}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(report, null, 2)}\n`);
  fs.renameSync(tmp, out);
  console.log(`gpu-acceptance: every figure is in ${out}${report.missing.length ? `; missing: ${report.missing.join('; ')}` : ''}`);
}

main();
