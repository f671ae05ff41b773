/** A study's progress: the bar, the counts and the time left. */
import type { Progress, StudyListEntry } from '../api.js';
import { duration } from './format.js';

export function ProgressBar({ progress, label }: { progress: Progress; label: string }) {
  const pct = Math.round(1000 * progress.fraction) / 10;
  return (
    <div class="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} data-fraction={progress.fraction}>
      <div class="progress-fill" style={{ width: `${pct}%` }} />
      <span class="progress-text">{pct.toFixed(1)}%</span>
    </div>
  );
}

export const eta = (p: Progress) => (p.fraction >= 1 ? 'done' : p.etaSeconds === null ? 'unknown' : duration(p.etaSeconds));

const STATUS_ORDER = ['completed', 'running', 'pending', 'diverged', 'failed', 'pruned'] as const;

export function Counts({ entry }: { entry: Pick<StudyListEntry, 'counts' | 'measurements'> }) {
  const m = entry.measurements;
  const measured = m.pending + m.running + m.completed + m.failed;
  return (
    <span class="counts">
      {/* 'pruned' only in studies that prune (it is 0 everywhere else). */}
      {STATUS_ORDER.filter((s) => s !== 'pruned' || entry.counts.pruned > 0).map((s) => (
        <span key={s} class={`count status-${s}`} data-count={s} title={s}>
          {entry.counts[s]} {s}
        </span>
      ))}
      {measured > 0 && (
        <span class="count measurements" data-count="measurements" title="measurements completed / queued">
          {m.completed}/{measured} measured{m.failed > 0 ? `, ${m.failed} failed` : ''}
        </span>
      )}
    </span>
  );
}
