/**
 * GPU benchmark (issue 24): sgdlab's tensor API on a CUDA device against PyTorch's own CUDA loop for
 * the same work (bench/gpu_torch.py), on MNIST held on the device:
 *   f1-epoch       one epoch of Keskar's F1 (784 → 5 × [Linear 512 → BatchNorm → ReLU] → 10), Adam 1e-3,
 *                  batch 256, random reshuffling, every step's loss read back (as sgdlab's trainer does);
 *   f1-lambda-max  the top Hessian eigenvalue of a freshly initialized F1 (evaluation mode) on 10,000
 *                  images by power iteration, 20 iterations, each a Hessian-vector product by double
 *                  backward over chunks of 1,000 (PyHessian's loop);
 *   smith-B        a slice of Smith, Elsen & De's grid (src/study/builtin/smith.ts): the MLP 784-256-256-10
 *                  with ghost batch norm (ghost size 64), SGD momentum 0.9, L2 5e-4, lr 0.1, 200 steps at
 *                  batch B ∈ {64, 256, 1024}, on MNIST (the study's Fashion-MNIST is not carried to the GPU machine).
 * Each workload runs twice (the first run warms up CUDA: context, cuBLAS, kernels); the table shows
 * the second, with each side's final loss or eigenvalue as a check that both did the same work.
 * The model is written with the tensor API and { device } directly, not with src/nn or the trainer, so
 * that the benchmark does not depend on how training configs name their device.
 *   node dist/bench/gpu.js [--device cuda|cpu] [--torch PYTHON|none] [--quick] [--only WORKLOAD,…]
 * --quick: fewer steps (a smoke test, e.g. on CPU). Prints one JSON line per measurement, then the table.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../src/tensor/index.js';
import { prepareData } from '../src/data/index.js';
import { Adam, SGD, type Optimizer } from '../src/optim/index.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const device = flag('--device', 'cuda') as T.Device;
const python = flag('--torch', 'python3');
const quick = args.includes('--quick');
const only = flag('--only', '');

interface Result { workload: string; ms: number; check: number; error?: string }

/** A linear layer's parameters, initialized as torch.nn.Linear (uniform in ±1/√fan_in). */
function linearParams(inputs: number, outputs: number, g: T.Generator): [T.Tensor, T.Tensor] {
  const bound = 1 / Math.sqrt(inputs);
  const draw = (shape: number[]) => T.keep(T.tidy(() => T.sub(T.mul(T.rand(shape, { generator: g, device }), 2 * bound), bound))).requiresGrad_(true);
  return [draw([outputs, inputs]), draw([outputs])];
}

interface Net {
  params: T.Tensor[];
  buffers: T.Tensor[];
  forward(x: T.Tensor, training: boolean): T.Tensor;
}

/** Linear → batch norm (ghost batches of `ghost` when set) → ReLU blocks, then a linear output layer. */
function mlp(widths: number[], g: T.Generator, ghost?: number): Net {
  const params: T.Tensor[] = [];
  const buffers: T.Tensor[] = [];
  const blocks: { w: T.Tensor; b: T.Tensor; gamma: T.Tensor; beta: T.Tensor; mean: T.Tensor; var: T.Tensor }[] = [];
  for (let i = 1; i < widths.length - 1; i++) {
    const [w, b] = linearParams(widths[i - 1]!, widths[i]!, g);
    const gamma = T.keep(T.ones([widths[i]!], { device })).requiresGrad_(true);
    const beta = T.keep(T.zeros([widths[i]!], { device })).requiresGrad_(true);
    const mean = T.keep(T.zeros([widths[i]!], { device }));
    const variance = T.keep(T.ones([widths[i]!], { device }));
    blocks.push({ w, b, gamma, beta, mean, var: variance });
    params.push(w, b, gamma, beta);
    buffers.push(mean, variance);
  }
  const [wOut, bOut] = linearParams(widths[widths.length - 2]!, widths[widths.length - 1]!, g);
  params.push(wOut, bOut);
  return {
    params, buffers,
    forward(x, training) {
      let h = T.flatten(x, 1, -1);
      for (const k of blocks) {
        h = T.linear(h, k.w, k.b);
        const norm = (part: T.Tensor) => T.batchNorm(part, { weight: k.gamma, bias: k.beta, runningMean: k.mean, runningVar: k.var, training });
        h = T.relu(ghost && training && h.shape[0]! > ghost ? T.cat(T.split(h, ghost, 0).map(norm), 0) : norm(h));
      }
      return T.linear(h, wOut, bOut);
    },
  };
}

function sync(): void {
  if (device !== 'cpu') T.cudaSynchronize();
}

let mnist: { x: T.Tensor; y: T.Tensor } | undefined;
function data(): { x: T.Tensor; y: T.Tensor } {
  if (!mnist) {
    const splits = prepareData({ name: 'mnist' });
    mnist = { x: T.keep(T.to(splits.train.x, { device })), y: T.keep(T.to(splits.train.y, { device })) };
  }
  return mnist;
}

/** Minibatch training: `steps` steps at batch `batch` over a fresh random order; the last loss. */
function trainSteps(net: Net, optimizer: Optimizer, batch: number, steps: number, g: T.Generator): number {
  const { x, y } = data();
  const n = x.shape[0]!;
  let loss = NaN;
  let order = T.keep(T.to(T.randperm(n, { generator: g }), { device }));
  let at = 0;
  for (let s = 0; s < steps; s++) {
    if (at + batch > n) {
      order.dispose();
      order = T.keep(T.to(T.randperm(n, { generator: g }), { device }));
      at = 0;
    }
    const from = at;
    at += batch;
    T.tidy(() => {
      const idx = T.narrow(order, 0, from, batch);
      const xb = T.indexSelect(x, 0, idx);
      const yb = T.indexSelect(y, 0, idx);
      optimizer.step(() => {
        const l = T.crossEntropy(net.forward(xb, true), yb);
        loss = l.item();
        return T.gradients([l], net.params);
      });
    });
  }
  order.dispose();
  return loss;
}

function timed(fn: () => number): { ms: number; check: number } {
  sync();
  const started = performance.now();
  const check = fn();
  sync();
  return { ms: performance.now() - started, check };
}

function f1Epoch(): { ms: number; check: number } {
  const g = new T.Generator(0);
  const net = mlp([784, 512, 512, 512, 512, 512, 10], g);
  const optimizer = new Adam(net.params, { lr: 1e-3 });
  const steps = quick ? 20 : Math.floor(60000 / 256);
  const r = timed(() => trainSteps(net, optimizer, 256, steps, g));
  optimizer.dispose();
  T.dispose([...net.params, ...net.buffers]);
  return r;
}

function f1LambdaMax(): { ms: number; check: number } {
  const g = new T.Generator(0);
  const net = mlp([784, 512, 512, 512, 512, 512, 10], g);
  const { x, y } = data();
  const n = 10000;
  const chunk = 1000;
  const iterations = quick ? 3 : 20;
  const r = timed(() => {
    let v = net.params.map((p) => T.keep(T.randn(p.shape, { generator: g, device })));
    let eigenvalue = NaN;
    T.tidy(() => {
      const norm = T.listNorm(v, 2);
      T.noGrad(() => T.listMul_(v, 1 / norm.item()));
    });
    for (let it = 0; it < iterations; it++) {
      const hv = net.params.map((p) => T.keep(T.zeros(p.shape, { device })));
      for (let s = 0; s < n; s += chunk) {
        T.tidy(() => {
          const loss = T.div(T.crossEntropy(net.forward(T.narrow(x, 0, s, chunk), false), T.narrow(y, 0, s, chunk), { reduction: 'sum' }), n);
          const grads = T.gradients([loss], net.params, { createGraph: true });
          const h = T.gradients([T.listDot(grads, v)], net.params);
          T.noGrad(() => T.listAdd_(hv, h, 1));
        });
      }
      T.tidy(() => {
        eigenvalue = T.listDot(hv, v).item();
        const norm = T.listNorm(hv, 2).item();
        T.noGrad(() => T.listMul_(hv, 1 / norm));
      });
      T.dispose(v);
      v = hv;
    }
    T.dispose(v);
    return eigenvalue;
  });
  T.dispose([...net.params, ...net.buffers]);
  return r;
}

function smithSlice(batch: number): { ms: number; check: number } {
  const g = new T.Generator(0);
  const net = mlp([784, 256, 256, 10], g, 64);
  const optimizer = new SGD(net.params, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
  const r = timed(() => trainSteps(net, optimizer, batch, quick ? 10 : 200, g));
  optimizer.dispose();
  T.dispose([...net.params, ...net.buffers]);
  return r;
}

const WORKLOADS: { name: string; run: () => { ms: number; check: number } }[] = [
  { name: 'f1-epoch', run: f1Epoch },
  { name: 'f1-lambda-max', run: f1LambdaMax },
  ...[64, 256, 1024].map((b) => ({ name: `smith-${b}`, run: () => smithSlice(b) })),
].filter((w) => !only || only.split(',').includes(w.name));

/** Every workload, a failing one reported (its error in the table) without stopping the others. */
function sgdlabSide(): Result[] {
  const noDevice = device !== 'cpu' && T.cudaDeviceCount() === 0 ? `--device ${device}: this libtorch sees no CUDA device (libtorch ${T.libtorchVersion()})` : undefined;
  const out: Result[] = [];
  for (const w of WORKLOADS) {
    try {
      if (noDevice) throw new Error(noDevice);
      w.run();  // warm-up run
      out.push({ workload: w.name, ...w.run() });
    } catch (e) {
      out.push({ workload: w.name, ms: NaN, check: NaN, error: (e as Error).message.split('\n')[0]!.slice(0, 300) });
    }
    console.log(JSON.stringify({ side: 'sgdlab', device, ...out[out.length - 1] }));
  }
  return out;
}

function torchSide(): { version: string; results: Result[] } | { error: string } {
  if (python === 'none') return { error: 'skipped (--torch none)' };
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'gpu_torch.py');
  const r = spawnSync(python, [script, device, quick ? 'quick' : 'full', only], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 180_000 });
  if (r.status !== 0) return { error: `${python} ${script} exited with ${r.status ?? r.signal}` };
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  } catch {
    return { error: `unreadable output from ${script}: ${r.stdout.slice(-300)}` };
  }
}

const ours = sgdlabSide();
const theirs = torchSide();
const fmt = (ms: number | undefined) => (ms === undefined ? '—' : ms < 100 ? ms.toFixed(1) : ms.toFixed(0));
console.log(`\nsgdlab (libtorch ${T.libtorchVersion()}) vs ${'error' in theirs ? `PyTorch: ${theirs.error}` : `PyTorch ${theirs.version}`}, device ${device}, milliseconds per run${quick ? ' (quick)' : ''}`);
console.log('workload         sgdlab ms   torch ms   ratio   sgdlab check   torch check');
for (const r of ours) {
  const t = 'error' in theirs ? undefined : theirs.results.find((x) => x.workload === r.workload);
  const tms = typeof t?.ms === 'number' ? t.ms : undefined;
  const tcheck = typeof t?.check === 'number' ? t.check.toPrecision(5) : '—';
  const ratio = tms !== undefined && Number.isFinite(r.ms) ? (r.ms / tms).toFixed(2) : '—';
  const mine = Number.isFinite(r.ms) ? fmt(r.ms) : 'error';
  console.log(`${r.workload.padEnd(16)} ${mine.padStart(9)} ${fmt(tms).padStart(10)} ${ratio.padStart(7)} ${r.check.toPrecision(5).padStart(14)} ${tcheck.padStart(13)}`);
}
for (const r of ours) if (r.error) console.log(`${r.workload}: sgdlab failed: ${r.error}`);
process.exitCode = ours.some((r) => r.error) || 'error' in theirs ? 1 : 0;
