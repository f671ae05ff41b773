/**
 * `node dist/bench/packed.js [--quick] [--json] [--k=1,4,13] [--b=16,64,256,1024,4096] [--widths=512,512]`:
 * packed trials (issue 23) against separate runs. The MLP 784–512–512–10 (or other hidden widths) of a
 * Smith-style grid on 10,000 MNIST images,
 * plain SGD, K members differing in seed and learning rate: the training-loop time per step of one
 * packed run of K members (trainPacked) against the sum of K separate runs (train()), the same steps,
 * one libtorch thread as a trial worker has. Only the loop is timed, from the end of its first step (a
 * warm-up) to the end of its last, through the progress hooks, with no evaluation during the steps; data
 * are loaded once. Two rounds (one with --quick) alternate which side goes first; each side keeps its
 * least time. Both the process's CPU time (what a busy shared machine distorts least) and the wall
 * time are reported. speed-up = separate / packed: above 1, packing wins.
 */
import os from 'node:os';
import * as T from '../src/tensor/index.js';
import { prepareData, type DataSplits } from '../src/data/index.js';
import { parseTrainConfig, train, type TrainConfig } from '../src/train/index.js';
import { trainPacked } from '../src/train/packed.js';

export interface PackedBenchRow {
  /** Hidden widths of the MLP. */
  widths: number[];
  batch: number;
  members: number;
  steps: number;
  /** CPU time per step of the packed run (all K members). */
  packed_cpu_ms: number;
  /** CPU time per step of K separate runs together. */
  separate_cpu_ms: number;
  /** separate / packed, CPU time. */
  speedup_cpu: number;
  /** separate / packed, wall time. */
  speedup_wall: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Times a loop's steps 2…last from its progress reports (step = steps done). */
class LoopClock {
  #start = { cpu: 0, wall: 0 };
  cpu = 0;
  wall = 0;
  constructor(private readonly steps: number) {}
  readonly onProgress = (p: { step: number }): void => {
    if (p.step === 1) this.#start = { cpu: cpuMs(), wall: performance.now() };
    if (p.step === this.steps) {
      this.cpu += cpuMs() - this.#start.cpu;
      this.wall += performance.now() - this.#start.wall;
    }
  };
}

const EXAMPLES = 10_000;

function configs(widths: readonly number[], batch: number, k: number, steps: number): TrainConfig[] {
  return Array.from({ length: k }, (_, i) => parseTrainConfig({
    model: { name: 'mlp', widths: [...widths] },
    data: { name: 'mnist', subset: EXAMPLES },
    // Learning rates of a grid (small enough that no member diverges within the few steps timed).
    optimizer: { name: 'sgd', lr: 0.002 * 1.5 ** i },
    batchSize: batch,
    budget: { steps },
    eval: { every: 1_000_000 },
    seed: i,
  }));
}

/** Steps so that each measurement draws about `examples` examples per member (at least 3 steps: the first is not timed). */
const stepsFor = (batch: number, examples: number) => Math.max(3, Math.round(examples / batch) + 1);

function timePacked(members: readonly TrainConfig[], data: DataSplits, steps: number): LoopClock {
  const clock = new LoopClock(steps);
  for (const m of trainPacked(members, { data, onProgress: clock.onProgress })) m.model.dispose();
  return clock;
}

function timeSeparate(members: readonly TrainConfig[], data: DataSplits, steps: number): LoopClock {
  const clock = new LoopClock(steps);
  for (const c of members) train(c, { data, hooks: { onProgress: clock.onProgress } }).model.dispose();
  return clock;
}

/**
 * `rounds` rounds that alternate which side goes first; each side keeps its least time over the rounds
 * (the other helpers' load on a shared machine only ever adds time).
 */
function measure(data: DataSplits, widths: readonly number[], batch: number, k: number, steps: number, rounds: number): PackedBenchRow {
  const members = configs(widths, batch, k, steps);
  const best = { packed: { cpu: Infinity, wall: Infinity }, separate: { cpu: Infinity, wall: Infinity } };
  const keep = (side: 'packed' | 'separate', c: LoopClock) => {
    best[side] = { cpu: Math.min(best[side].cpu, c.cpu), wall: Math.min(best[side].wall, c.wall) };
  };
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      keep('packed', timePacked(members, data, steps));
      keep('separate', timeSeparate(members, data, steps));
    } else {
      keep('separate', timeSeparate(members, data, steps));
      keep('packed', timePacked(members, data, steps));
    }
  }
  const timed = steps - 1;
  return {
    widths: [...widths], batch, members: k, steps,
    packed_cpu_ms: best.packed.cpu / timed, separate_cpu_ms: best.separate.cpu / timed,
    speedup_cpu: best.separate.cpu / best.packed.cpu, speedup_wall: best.separate.wall / best.packed.wall,
  };
}

export function markdownTable(rows: readonly PackedBenchRow[]): string {
  const lines = ['| MLP | B | K | steps timed | packed CPU ms/step | K separate CPU ms/step | speed-up, CPU | speed-up, wall |', '|---|---:|---:|---:|---:|---:|---:|---:|'];
  for (const r of rows) lines.push(`| 784–${r.widths.join('–')}–10 | ${r.batch} | ${r.members} | ${r.steps - 1} | ${r.packed_cpu_ms.toFixed(2)} | ${r.separate_cpu_ms.toFixed(2)} | ${r.speedup_cpu.toFixed(2)} | ${r.speedup_wall.toFixed(2)} |`);
  return lines.join('\n');
}

function listFlag(args: readonly string[], name: string, fallback: number[]): number[] {
  const raw = args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (raw === undefined) return fallback;
  const values = raw.split(',').map(Number);
  if (values.some((v) => !(Number.isInteger(v) && v > 0))) throw new Error(`--${name}: expected positive integers separated by commas, got '${raw}'`);
  return values;
}

function main(): void {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const ks = listFlag(args, 'k', [1, 4, 13]);
  const batches = listFlag(args, 'b', [16, 64, 256, 1024, 4096]);
  const widths = listFlag(args, 'widths', [512, 512]);
  // Examples per member and measurement: enough steps at small B for a stable mean, 2 timed steps at B = 4,096.
  const examples = quick ? 1024 : 4096;
  const rounds = quick ? 1 : 2;
  T.setNumThreads(1);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`bench packed: ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}, libtorch ${T.libtorchVersion()}, threads ${T.getNumThreads()}`);
  const data = prepareData({ name: 'mnist', subset: EXAMPLES });
  // One warm-up of both paths (allocator, first-call costs) before anything is timed.
  measure(data, widths, 64, 2, 3, 1);
  const rows: PackedBenchRow[] = [];
  for (const batch of batches) {
    for (const k of ks) {
      const row = measure(data, widths, batch, k, stepsFor(batch, examples), rounds);
      log(`  widths ${widths.join(',')} B=${batch} K=${k}: packed ${row.packed_cpu_ms.toFixed(2)} CPU ms/step, separate ${row.separate_cpu_ms.toFixed(2)}, speed-up ${row.speedup_cpu.toFixed(2)} (CPU), ${row.speedup_wall.toFixed(2)} (wall)`);
      rows.push(row);
    }
  }
  log(`bench packed: load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  process.stdout.write(args.includes('--json') ? `${JSON.stringify(rows, null, 2)}\n` : `${markdownTable(rows)}\n`);
}

main();
