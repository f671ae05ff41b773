/**
 * Progress of `sgdlab run` on a terminal: one bar for the study (trials done, running, failed,
 * diverged, and an ETA from the work done this run, counting the fraction of each running trial),
 * and one bar per worker with the trial it trains (its grid coordinates, steps, memory) or the
 * measurement it takes. Nothing is drawn when stderr is not a terminal.
 */
import cliProgress from 'cli-progress';
import type { RunProgress, WorkerState } from '../study/index.js';

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

export class StudyProgress {
  private readonly bars: cliProgress.MultiBar | undefined = !process.stderr.isTTY ? undefined : new cliProgress.MultiBar({ stream: process.stderr, hideCursor: true, format: '{label} |{bar}| {detail}', barsize: 24, autopadding: true }, cliProgress.Presets.shades_classic);
  private overall: cliProgress.SingleBar | undefined;
  private workers: cliProgress.SingleBar[] = [];
  private phase: RunProgress['phase'] | undefined;
  private start = { time: 0, progress: 0 };

  constructor(private readonly study: string) {}

  update(p: RunProgress): void {
    const bars = this.bars;
    if (!bars) return;
    const fraction = (w: WorkerState) => (w.doing.type === 'trial' && w.doing.totalSteps > 0 ? w.doing.step / w.doing.totalSteps : 0);
    const c = p.phase === 'train' ? p.counts : p.measurements;
    const total = (Object.values(c) as number[]).reduce((a, b) => a + b, 0);
    const done = p.phase === 'train' ? p.counts.completed + p.counts.diverged + p.counts.failed : p.measurements.completed + p.measurements.failed;
    const progress = done + p.workers.reduce((a, w) => a + fraction(w), 0);
    if (this.phase !== p.phase) {
      this.phase = p.phase;
      this.start = { time: performance.now(), progress };
            for (const b of [...this.workers, ...(this.overall ? [this.overall] : [])]) bars.remove(b);
      this.overall = bars.create(total, done, { label: p.phase === 'train' ? this.study : 'measure', detail: '' });
      this.workers = p.workers.map((w) => bars.create(1, 0, { label: `worker ${w.slot + 1}`, detail: 'starting' }));
    }
    const eta = estimateSecondsLeft((performance.now() - this.start.time) / 1000, this.start.progress, progress, total);
    const unit = p.phase === 'train' ? 'trials' : 'measurements';
    const extra = p.phase === 'train' ? `${p.counts.running} running, ${p.counts.failed} failed, ${p.counts.diverged} diverged` : `${p.measurements.running} running, ${p.measurements.failed} failed`;
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
