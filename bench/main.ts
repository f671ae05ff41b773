/**
 * `npm run bench [-- --json] [--quick] [--rounds=N] [--only=WORKLOAD|GROUP]`: training-step times of
 * sgdlab, PyTorch (Python) and TensorFlow.js (wasm) on the same workloads (bench/workloads.ts),
 * measured in one run on one machine, single-threaded on every side; ratio = sgdlab / PyTorch.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import * as T from '../src/tensor/index.js';
import { lastGradientMs, runSgdlab } from './sgdlab_side.js';
import { runTfjs, tfjsReady } from './tfjs_side.js';
import { LONG_WORKLOADS, WORKLOADS, type Workload } from './workloads.js';
import type { TimingOptions } from './timing.js';

export interface BenchRow {
  workload: string;
  batch: number;
  sgdlab_ms: number;
  pytorch_ms: number | null;
  tfjs_ms: number | null;
  ratio: number | null;
}

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** Debian's python3 has python3-torch; a pyenv or venv python first on PATH usually does not. */
function pythonWithTorch(): string | null {
  for (const python of [process.env.SGDLAB_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p)) {
    if (python.startsWith('/') && !existsSync(python)) continue;
    if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return python;
  }
  return null;
}

function runPytorch(workloads: readonly Workload[], timing: TimingOptions): { torch: string; ms: (number | null)[] } | null {
  const python = pythonWithTorch();
  if (!python) {
    process.stderr.write('bench: no python3 with torch found (install python3-torch or set SGDLAB_PYTHON); PyTorch column left empty\n');
    return null;
  }
  const result = spawnSync(python, [join(root, 'bench', 'pytorch_bench.py')], {
    input: JSON.stringify({ workloads, timing: { budget_ms: timing.budgetMs, min_blocks: timing.minBlocks, warmup: timing.warmup } }),
    // The same allocator policy that sgdlab's addon sets with mallopt (src/native/addon.cc), so the
    // comparison measures dispatch, not glibc's trimming.
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024), MALLOC_TRIM_THRESHOLD_: String(1024 * 1024 * 1024) },
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (result.status !== 0) {
    process.stderr.write(`bench: the PyTorch side failed:\n${result.stderr}\n`);
    return null;
  }
  return JSON.parse(result.stdout) as { torch: string; ms: (number | null)[] };
}

const fmt = (x: number | null, digits = 2) => (x === null ? '—' : x.toFixed(digits));

export function markdownTable(rows: readonly BenchRow[]): string {
  const lines = ['| workload | batch | sgdlab ms | PyTorch ms | TF.js wasm ms | sgdlab / PyTorch |', '|---|---:|---:|---:|---:|---:|']; // ms per step; per epoch for f1-epoch
  for (const r of rows) lines.push(`| ${r.workload} | ${r.batch} | ${fmt(r.sgdlab_ms)} | ${fmt(r.pytorch_ms)} | ${fmt(r.tfjs_ms, 1)} | ${fmt(r.ratio, 3)} |`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const quick = args.includes('--quick');
  const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const timing: TimingOptions = quick ? { budgetMs: 300, minBlocks: 3, warmup: 1 } : { budgetMs: 2000, minBlocks: 7, warmup: 3 };
  const tfjsTiming: TimingOptions = { budgetMs: quick ? 300 : 2000, minBlocks: 3, warmup: 1, blockSteps: 1 };
  // --only=NAME picks a workload, or every workload named NAME-… (e.g. --only=adversarial).
  const workloads = WORKLOADS.filter((w) => !only || w.workload === only || w.workload.startsWith(`${only}-`));

  // Step timings on a shared 2-core VM swing by ±10% between runs: 5 rounds for steps, 3 for epochs.
  const roundsFlag = args.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length);
  const roundsFor = (epochs: boolean) => (roundsFlag !== undefined ? Number(roundsFlag) : quick ? 1 : epochs ? 3 : 5);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`bench: ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, node ${process.version}, libtorch ${T.libtorchVersion()}, threads ${T.getNumThreads()}, ${roundsFor(false)} rounds (steps), ${roundsFor(true)} (epochs)`);
  // Rounds alternate which side goes first; each side reports its median over rounds, so neither a
  // burst of load nor one lucky run on either side decides the ratio.
  const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
  const medians = (runs: number[][]) => (runs.length === 0 ? null : runs[0]!.map((_, i) => median(runs.map((r) => r[i]!))));
  let torchVersion: string | undefined;
  const measure = (group: readonly Workload[], rounds: number): { sgdlab: number[]; pytorch: number[] | null } => {
    const sgdlabRuns: number[][] = [];
    const pytorchRuns: number[][] = [];
    const sgdlabRound = () => group.map((w) => {
      const ms = runSgdlab(w, timing);
      log(`  sgdlab  ${w.workload} b=${w.batch}: ${ms.toFixed(3)} ms`);
      return ms;
    });
    const pytorchRound = () => {
      const r = runPytorch(group, timing);
      if (!r) return null;
      torchVersion = r.torch;
      const ms = r.ms.map((m) => m ?? NaN); // null: no PyTorch counterpart
      group.forEach((w, i) => log(`  pytorch ${w.workload} b=${w.batch}: ${Number.isFinite(ms[i]!) ? `${ms[i]!.toFixed(3)} ms` : 'no counterpart'}`));
      return ms;
    };
    for (let round = 0; round < rounds && group.length > 0; round++) {
      const first = round % 2 === 0 ? sgdlabRound : pytorchRound;
      const second = round % 2 === 0 ? pytorchRound : sgdlabRound;
      for (const side of [first, second]) {
        const r = side();
        if (r) (side === sgdlabRound ? sgdlabRuns : pytorchRuns).push(r);
      }
    }
    return { sgdlab: medians(sgdlabRuns) ?? [], pytorch: medians(pytorchRuns) };
  };
  const stepGroup = workloads.filter((w) => !LONG_WORKLOADS.includes(w.workload));
  const epochGroup = workloads.filter((w) => LONG_WORKLOADS.includes(w.workload));
  const steps = measure(stepGroup, roundsFor(false));
  const epochs = measure(epochGroup, roundsFor(true));
  const ordered = [...stepGroup, ...epochGroup];
  const sgdlabAll = [...steps.sgdlab, ...epochs.sgdlab];
  const pytorchAll = steps.pytorch === null && epochs.pytorch === null ? null : [...(steps.pytorch ?? stepGroup.map(() => NaN)), ...(epochs.pytorch ?? epochGroup.map(() => NaN))];
  const sgdlab = workloads.map((w) => sgdlabAll[ordered.indexOf(w)]!);
  const pytorch = pytorchAll === null ? null : workloads.map((w) => pytorchAll[ordered.indexOf(w)]!);
  if (torchVersion) log(`bench: PyTorch ${torchVersion}`);
  await tfjsReady();
  const tfjs = workloads.map((w) => {
    const ms = runTfjs(w, tfjsTiming);
    log(`  tfjs    ${w.workload} b=${w.batch}: ${typeof ms === 'number' ? `${ms.toFixed(1)} ms` : ms}`);
    return typeof ms === 'number' ? ms : null;
  });
  const rows: BenchRow[] = workloads.map((w, i) => {
    // noise-stats has no PyTorch counterpart: its second column is one sgdlab full-data gradient.
    const raw = w.workload === 'noise-stats' ? lastGradientMs : pytorch?.[i];
    const pt = raw !== undefined && raw !== null && Number.isFinite(raw) ? raw : null;
    return { workload: w.workload, batch: w.batch, sgdlab_ms: sgdlab![i]!, pytorch_ms: pt, tfjs_ms: tfjs[i]!, ratio: pt === null ? null : sgdlab![i]! / pt };
  });
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${markdownTable(rows)}\n`);
  const grad = rows.find((r) => r.workload === 'mlp-grad');
  const hvp = rows.find((r) => r.workload === 'mlp-hvp');
  for (const r of rows.filter((row) => row.workload === 'f1-epoch')) {
    process.stdout.write(`\nkeskar-f1, one MNIST epoch at batch ${r.batch}: ${(r.sgdlab_ms / 1000).toFixed(2)} s (sgdlab) vs ${r.pytorch_ms === null ? '—' : `${(r.pytorch_ms / 1000).toFixed(2)} s`} (PyTorch)`);
  }
  if (rows.some((row) => row.workload === 'f1-epoch')) process.stdout.write('\n');
  const eig = rows.find((r) => r.workload === 'f1-top-eigenvalue');
  if (eig) process.stdout.write(`\ntop Hessian eigenvalue of keskar-f1 on ${eig.batch} MNIST images, 5 power iterations (5 Hessian-vector products): ${(eig.sgdlab_ms / 1000).toFixed(2)} s (sgdlab) vs ${eig.pytorch_ms === null ? '—' : `${(eig.pytorch_ms / 1000).toFixed(2)} s`} (PyTorch, PyHessian's algorithm)\n`);
  const noise = rows.find((r) => r.workload === 'noise-stats');
  if (noise && noise.ratio !== null) process.stdout.write(`per-example noise statistics of keskar-f1 on ${noise.batch} images: ${(noise.sgdlab_ms / 1000).toFixed(2)} s = ${noise.ratio.toFixed(2)}× one full-data gradient (${(noise.pytorch_ms! / 1000).toFixed(2)} s)\n`);
  const running = rows.find((r) => r.workload === 'f1-objective-running');
  for (const r of rows.filter((row) => row.workload === 'f1-objective-batch')) {
    const times = (row: BenchRow) => `${(row.sgdlab_ms / 1000).toFixed(2)} s (sgdlab) / ${row.pytorch_ms === null ? '—' : `${(row.pytorch_ms / 1000).toFixed(2)} s`} (PyTorch)`;
    const relative = running ? `: ${fmt(r.sgdlab_ms / running.sgdlab_ms)}× running statistics' ${times(running)} for sgdlab${r.pytorch_ms !== null && running.pytorch_ms !== null ? `, ${fmt(r.pytorch_ms / running.pytorch_ms)}× for PyTorch` : ''}` : '';
    process.stdout.write(`keskar-f1 f and ∇f on 60,000 images, batch norm by the statistics of batches of ${r.batch}: ${times(r)}${relative}\n`);
  }
  const plainStep = rows.find((r) => r.workload === 'adversarial-none');
  if (plainStep) {
    const ratio = (ms: number | null, base: number | null) => (ms === null || base === null ? '—' : `${(ms / base).toFixed(2)}×`);
    process.stdout.write(`\nadversarial training, cost per step relative to a plain step (keskar-f1, Adam, B = ${plainStep.batch}, L∞ ε = 0.1):\n`);
    for (const r of rows.filter((row) => row.workload.startsWith('adversarial-') && row !== plainStep)) {
      const name = r.workload.replace('adversarial-', '').toUpperCase().replace(/^PGD(\d+)$/, 'PGD-$1');
      process.stdout.write(`  ${name}: sgdlab ${ratio(r.sgdlab_ms, plainStep.sgdlab_ms)}, PyTorch ${ratio(r.pytorch_ms, plainStep.pytorch_ms)}\n`);
    }
  }
  if (grad && hvp) {
    process.stdout.write(`\nHessian-vector product / gradient (mlp, batch ${grad.batch}): sgdlab ${fmt(hvp.sgdlab_ms / grad.sgdlab_ms)}×` +
      (grad.pytorch_ms && hvp.pytorch_ms ? `, PyTorch ${fmt(hvp.pytorch_ms / grad.pytorch_ms)}×` : '') + '\n');
  }
}

await main();
