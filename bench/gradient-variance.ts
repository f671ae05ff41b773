/**
 * `node dist/bench/gradient-variance.js [--sequences=R] [--widths=16,16] [--batch-sizes=1,8,…] [--steps=0,2,…]
 * [--packed-only] [--json]`: Qian & Klabjan's Monte
 * Carlo of Var(g_k | w₀) (issue 22) three ways, back to back on one thread: sgdlab's packed runs
 * (measure/along-training-packed.ts, what the study measures), sgdlab's serial runs (one model per
 * sequence and per k, along-training.ts), and the same serial loop in PyTorch
 * (bench/gradient_variance_torch.py, every k from one run per sequence as the packed code does).
 * Linear regression (widths empty) or a deep linear network on 16 Gaussian inputs, N = 1,024, ε = 0.05,
 * b ∈ {1, 8, 64, 512}, k ∈ {0, 2, 8, 16} unless given, with replacement; --packed-only times the packed runs
 * alone (a study's cost estimate). Wall and CPU seconds per side; the ratios
 * are PyTorch (or sgdlab serial) over sgdlab packed: above 1, packing wins.
 */
import { spawnSync } from 'node:child_process';
import * as T from '../src/tensor/index.js';
import { makeDataset } from '../src/data/index.js';
import { buildModel, type ModelSpec } from '../src/nn/index.js';
import { gradientVarianceAlongTraining, gradientVarianceAlongTrainingPacked } from '../src/measure/index.js';

const DIM = 16;
const N = 1024;
const DEFAULT_BATCH_SIZES = [1, 8, 64, 512];
const DEFAULT_STEPS = [0, 2, 8, 16];
const LR = 0.05;

interface Side { wall: number; cpu: number }

function timed(run: () => void): Side {
  const [w0, c0] = [performance.now(), process.cpuUsage()];
  run();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - w0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

function flag(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** A comma-separated list of integers ≥ min, or the default. */
function integers(name: string, min: number, fallback: number[]): number[] {
  const raw = flag(name);
  if (raw === undefined) return fallback;
  const values = raw.split(',').map(Number);
  if (values.length === 0 || values.some((v) => !(Number.isInteger(v) && v >= min))) throw new Error(`--${name}: '${raw}' must be integers of at least ${min} separated by commas`);
  return values;
}

function main(): void {
  const BATCH_SIZES = integers('batch-sizes', 1, DEFAULT_BATCH_SIZES);
  const STEPS = integers('steps', 0, DEFAULT_STEPS);
  const sequences = Number(flag('sequences') ?? 1000);
  const widths = (flag('widths') ?? '').split(',').filter((w) => w !== '').map(Number);
  if (!(Number.isInteger(sequences) && sequences >= 2)) throw new Error(`--sequences: '${flag('sequences')}' must be an integer of at least 2`);
  if (widths.some((w) => !(Number.isInteger(w) && w >= 1))) throw new Error(`--widths: '${flag('widths')}' must be positive integers separated by commas`);
  const spec: ModelSpec = widths.length === 0 ? { name: 'linear-regression', init: { scheme: 'normal', std: 0.5 } } : { name: 'deep-linear', widths };
  const g = new T.Generator(4);
  const x = T.randn([N, DIM], { generator: g });
  // A unit-norm teacher (y = Σx/4), so that every b is stable at ε = 0.05 on the deep networks too.
  const data = makeDataset(x, x.sum(1).unsqueeze(1).div(4), undefined);
  const w0 = buildModel(spec, { inputShape: [DIM], outputs: 1 }, new T.Generator(0));
  const common = { model: spec, initial: w0, data, batchSizes: BATCH_SIZES, sequences, lr: LR, replacement: true, seed: 0 };
  const packed = timed(() => gradientVarianceAlongTrainingPacked({ ...common, steps: STEPS }));
  if (process.argv.includes('--packed-only')) {
    process.stdout.write(`sgdlab packed, ${spec.name}${widths.length ? ` ${widths.join('–')}` : ''}, ${sequences} sequences, b ∈ {${BATCH_SIZES.join(', ')}}, k ∈ {${STEPS.join(', ')}}: ${packed.wall.toFixed(2)} s wall, ${packed.cpu.toFixed(2)} s CPU\n`);
    return;
  }
  const serial = timed(() => { for (const step of STEPS) gradientVarianceAlongTraining({ ...common, step }); });
  const python = process.env.SGDLAB_PYTHON ?? '/usr/bin/python3';
  const torch = spawnSync(python, [new URL('../../bench/gradient_variance_torch.py', import.meta.url).pathname], {
    input: JSON.stringify({ dim: DIM, n: N, widths, sequences, batch_sizes: BATCH_SIZES, steps: STEPS, lr: LR, replacement: true }),
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' }, encoding: 'utf8', maxBuffer: 1 << 26,
  });
  if (torch.status !== 0) throw new Error(`the PyTorch side failed: ${torch.stderr}`);
  const t = JSON.parse(torch.stdout) as { seconds: number; cpu_seconds: number };
  const pytorch = { wall: t.seconds, cpu: t.cpu_seconds };
  const rows = { model: spec.name === 'deep-linear' ? `deep linear ${DIM}–${widths.join('–')}–1` : `linear regression (${DIM} inputs)`, sequences, packed, serial, pytorch };
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const f = (s: Side) => `${s.wall.toFixed(2)} s wall, ${s.cpu.toFixed(2)} s CPU`;
  process.stdout.write(`${rows.model}, ${sequences} sequences, b ∈ {${BATCH_SIZES.join(', ')}}, k ∈ {${STEPS.join(', ')}}:\n`);
  process.stdout.write(`  sgdlab packed   ${f(packed)}\n  sgdlab serial   ${f(serial)}  (${(serial.cpu / packed.cpu).toFixed(1)}× packed's CPU)\n  PyTorch serial  ${f(pytorch)}  (${(pytorch.cpu / packed.cpu).toFixed(1)}× packed's CPU)\n`);
}

main();
