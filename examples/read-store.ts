/**
 * Read a study store from code: open it by URL, list its studies, and print every study's trials (grid
 * coordinates, status, metrics) and measurements (the numbers `sgdlab results` and the report use),
 * plus the metric rows recorded along one trial's training. Reading needs no libtorch: this is what
 * the CLI's `status`/`results`/`export`, the report and the dashboard do through the same interface.
 *
 *   npm run example -- read-store [STORE]
 *   node dist/examples/read-store.js [STORE]
 *
 * STORE is a SQLite path, sqlite:PATH or postgres://…; default the store study-from-code.ts writes,
 * $TMPDIR/sgdlab-examples/study.db. No size knob: it reads what is there.
 * Measured runtime (2 cores shared at load 6–9, /usr/bin/time -v): 0.2–0.4 s (65 MB: no libtorch, see
 * the import) on study-from-code's default store (20 trials, 4 measurements) and on its --quick store.
 * Prints a table of studies, then per study a table of trials and a table of measurements.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// 'sgdlab/study' rather than 'sgdlab': importing the main index loads libtorch, which this process never uses.
import * as S from 'sgdlab/study';

const url = process.argv[2] ?? join(tmpdir(), 'sgdlab-examples', 'study.db');
// Opening a SQLite path that does not exist would create an empty store: say what to do instead.
const location = S.parseStoreUrl(url);
if (location.backend === 'sqlite' && !existsSync(location.path)) {
  console.error(`read-store: no store at ${location.path}; run the study example first (npm run example -- study-from-code) or give a store's path or URL`);
  process.exit(2);
}

/** A Markdown table (pastes into notes and issues as it is). */
const markdown = (columns: string[], rows: string[][]): string =>
  [columns, columns.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
const pct = (a: number | null | undefined) => (a == null || !Number.isFinite(a) ? '–' : `${(100 * a).toFixed(1)}%`);
const coordinates = (c: Record<string, unknown>) => Object.entries(c).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');

const store = await S.openStore(url);
try {
  const studies = await store.listStudies();
  console.log(`studies in ${store.url} (${store.backend})`);
  console.log(markdown(['study', 'created', 'completed', 'diverged', 'failed', 'pending', 'measurements'],
    studies.map((s) => [s.name, s.createdAt, String(s.counts.completed), String(s.counts.diverged), String(s.counts.failed), String(s.counts.pending + s.counts.running), String(s.measurements.completed)])));

  for (const { name } of studies) {
    const trials = await store.trials(name);
    const byKey = new Map(trials.map((t) => [t.key, t]));
    console.log(`\n${name}: trials`);
    console.log(markdown(['trial', 'grid point', 'status', 'seconds', 'training loss', 'validation accuracy', 'test accuracy'], trials.map((t) => {
      const r = t.result;
      return [t.key.slice(0, 12), coordinates(t.coordinates), t.status, t.seconds?.toFixed(1) ?? '–', r?.train?.loss?.toPrecision(4) ?? '–', pct(r?.validation?.accuracy), pct(r?.test?.accuracy)];
    })));

    const measurements = await store.measurements(name);
    console.log(`\n${name}: measurements`);
    console.log(markdown(['trial', 'grid point', 'kind', 'status', 'values'], measurements.map((m) => [
      m.key.slice(0, 12), coordinates(byKey.get(m.key)?.coordinates ?? {}), m.kind, m.status,
      m.result === null ? (m.error ?? '–') : Object.entries(S.measurementValues(m)).map(([k, v]) => `${k} = ${v.toPrecision(4)}`).join(', '),
    ])));

    // The metrics recorded during training (loss per step, evaluations) of the first completed trial.
    const first = trials.find((t) => t.status === 'completed');
    if (first) {
      const rows = await store.metrics(name, first.key);
      const last = new Map(rows.map((m) => [m.name, m]));
      console.log(`\n${name}: ${rows.length} metric rows of trial ${first.key.slice(0, 12)}; the last of each: ${[...last.values()].map((m) => `${m.name} = ${m.value.toPrecision(4)} at step ${m.step}`).join(', ')}`);
    }
  }
} finally {
  await store.close();
}
