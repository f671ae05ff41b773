/**
 * Progress of `sgdlab run` on a terminal: one bar for the study (trials done, running, failed,
 * diverged, and an ETA from the work done this run, counting the fraction of each running trial),
 * and one bar per worker with the trial it trains (its grid coordinates, steps, memory) or the
 * measurement it takes. When stderr is not a terminal (CI, nohup, a Slurm job's log), plain
 * timestamped lines instead: one per finished trial or measurement, and the counts with the ETA at
 * least every 30 s (`ProgressLog`).
 */
import cliProgress from 'cli-progress';
import type { FinishedWork, RunProgress, WorkerState } from '../study/index.js';

const clock = (seconds: number) => {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
};

const shortValue = (v: unknown) => (typeof v === 'number' ? String(Number(v.toPrecision(4))) : typeof v === 'string' ? v : JSON.stringify(v));
export const describeCoordinates = (c: Record<string, unknown>) => Object.entries(c).map(([k, v]) => `${k.split('.').at(-1)}=${shortValue(v)}`).join(' ');

/** Estimated seconds left: the rate of progress since the run started (done trials plus fractions of running ones). */
export function estimateSecondsLeft(elapsedSeconds: number, progressAtStart: number, progressNow: number, total: number): number {
  const rate = (progressNow - progressAtStart) / elapsedSeconds;
  return rate > 0 ? (total - progressNow) / rate : Infinity;
}

/** Where a phase stands: work done and in all, progress counting running trials' fractions, the line's counts. */
function phaseState(p: RunProgress): { total: number; done: number; progress: number; unit: string; extra: string } {
  const fraction = (w: WorkerState) => (w.doing.type === 'trial' && w.doing.totalSteps > 0 ? w.doing.step / w.doing.totalSteps : 0);
  const c = p.phase === 'train' ? p.counts : p.measurements;
  const total = (Object.values(c) as number[]).reduce((a, b) => a + b, 0);
  const done = p.phase === 'train' ? p.counts.completed + p.counts.diverged + p.counts.failed + p.counts.pruned : p.measurements.completed + p.measurements.failed;
  return {
    total, done,
    progress: done + p.workers.reduce((a, w) => a + fraction(w), 0),
    unit: p.phase === 'train' ? 'trials' : 'measurements',
    extra: p.phase === 'train' ? `${p.counts.running} running, ${p.counts.failed} failed, ${p.counts.diverged} diverged${p.counts.pruned > 0 ? `, ${p.counts.pruned} pruned` : ''}` : `${p.measurements.running} running, ${p.measurements.failed} failed`,
  };
}

/** Seconds between the plain log's progress lines when nothing finishes. */
export const LOG_EVERY_SECONDS = 30;

/**
 * The progress of a run that nobody watches, as plain lines (no cursor movement, no bars):
 * `2026-12-02T10:31:05Z keskar: trial 3f9c… completed (batchSize=256 lr=0.1 seed=0) in 12 s, test accuracy 97.12%`
 * for each finished trial or measurement, and `… keskar: train 12/48 trials | 2 running, 0 failed, 0 diverged | ETA 05:10`
 * after them and at least every 30 s.
 */
export class ProgressLog {
  private phase: RunProgress['phase'] | undefined;
  private start = { time: 0, progress: 0 };
  private lastLine = -Infinity;

  constructor(private readonly study: string, private readonly write: (line: string) => void = (l) => process.stderr.write(l), private readonly now: () => number = () => performance.now(), private readonly clockTime: () => Date = () => new Date()) {}

  private line(text: string): void {
    this.write(`${this.clockTime().toISOString().replace(/\.\d{3}Z$/, 'Z')} ${this.study}: ${text}\n`);
  }

  static describe(f: FinishedWork): string {
    const what = f.measurement === undefined ? `trial ${f.key}` : `${f.measurement} of trial ${f.key}`;
    const where = describeCoordinates(f.coordinates);
    const details = [
      ...(f.seconds !== null ? [`in ${clock(f.seconds)}`] : []),
      ...(f.testAccuracy !== null ? [`test accuracy ${(100 * f.testAccuracy).toFixed(2)}%`] : []),
      ...(f.error ? [`error: ${f.error.split('\n')[0]!.slice(0, 200)}`] : []),
    ];
    return `${what} ${f.status}${where ? ` (${where})` : ''}${details.length > 0 ? ` ${details.join(', ')}` : ''}`;
  }

  update(p: RunProgress): void {
    const s = phaseState(p);
    const t = this.now();
    if (this.phase !== p.phase) {
      this.phase = p.phase;
      this.start = { time: t, progress: s.progress };
      this.line(`${p.phase === 'train' ? 'training' : 'measuring'}: ${s.done}/${s.total} ${s.unit} done, ${p.workers.length} worker${p.workers.length === 1 ? '' : 's'}`);
    }
    for (const f of p.finished) this.line(ProgressLog.describe(f));
    if (p.finished.length > 0 || t - this.lastLine >= LOG_EVERY_SECONDS * 1000) {
      const eta = estimateSecondsLeft((t - this.start.time) / 1000, this.start.progress, s.progress, s.total);
      this.line(`${p.phase} ${s.done}/${s.total} ${s.unit} | ${s.extra} | ETA ${s.done === s.total ? '00:00' : clock(eta)}`);
      this.lastLine = t;
    }
  }
}

export class StudyProgress {
  private readonly bars: cliProgress.MultiBar | undefined = !process.stderr.isTTY ? undefined : new cliProgress.MultiBar({ stream: process.stderr, hideCursor: true, format: '{label} |{bar}| {detail}', barsize: 24, autopadding: true }, cliProgress.Presets.shades_classic);
  /** The plain log, when stderr is not a terminal. */
  private readonly log: ProgressLog | undefined;
  private overall: cliProgress.SingleBar | undefined;
  private workers: cliProgress.SingleBar[] = [];
  private phase: RunProgress['phase'] | undefined;
  private start = { time: 0, progress: 0 };

  constructor(private readonly study: string) {
    this.log = this.bars ? undefined : new ProgressLog(study);
  }

  update(p: RunProgress): void {
    this.log?.update(p);
    const bars = this.bars;
    if (!bars) return;
    const { total, done, progress, unit, extra } = phaseState(p);
    if (this.phase !== p.phase) {
      this.phase = p.phase;
      this.start = { time: performance.now(), progress };
      for (const b of [...this.workers, ...(this.overall ? [this.overall] : [])]) bars.remove(b);
      this.overall = bars.create(total, done, { label: p.phase === 'train' ? this.study : 'measure', detail: '' });
      this.workers = p.workers.map((w) => bars.create(1, 0, { label: `worker ${w.slot + 1}`, detail: 'starting' }));
    }
    const eta = estimateSecondsLeft((performance.now() - this.start.time) / 1000, this.start.progress, progress, total);
    this.overall!.setTotal(total);
    this.overall!.update(done, { label: p.phase === 'train' ? this.study : 'measure', detail: `${done}/${total} ${unit} | ${extra} | ETA ${clock(eta)}` });
    p.workers.forEach((w, i) => {
      const bar = this.workers[i];
      if (!bar) return;
      const memory = `${Math.round(w.rssMb)} MB`;
      if (w.doing.type === 'trial') {
        bar.setTotal(w.doing.totalSteps);
        bar.update(w.doing.step, { label: `worker ${w.slot + 1}`, detail: `${describeCoordinates(w.doing.coordinates)} | step ${w.doing.step}/${w.doing.totalSteps} | ${memory}` });
      } else if (w.doing.type === 'measure') {
        bar.setTotal(1);
        bar.update(0, { label: `worker ${w.slot + 1}`, detail: `${w.doing.kind} of ${describeCoordinates(w.doing.coordinates)} | ${memory}` });
      } else bar.update(0, { label: `worker ${w.slot + 1}`, detail: `idle | ${memory}` });
    });
  }

  stop(): void {
    this.bars?.stop();
  }
}
