/** A study: live progress and workers, the report's tables and figures, and the trials table. */
import type { StudyDetail, StudyReport, TableData, WorkerRow } from '../api.js';
import { apiStudy, trialPath, useJson, useLive } from './api.js';
import { LiveBadge, Problem } from './common.js';
import { VegaFigure } from './figure.js';
import { ago, duration, number } from './format.js';
import { Counts, ProgressBar, eta } from './progress.js';
import { Link } from './router.js';
import { TrialsTable } from './trials-table.js';
import { useEffect, useState } from 'preact/hooks';

export function StudyPage({ name }: { name: string }) {
  const detail = useJson<StudyDetail>(apiStudy(name));
  const report = useJson<StudyReport | { computing: true }>(`${apiStudy(name)}/report`);
  const computing = report.value !== undefined && 'computing' in report.value;
  // The first report of a large study is computed after the server starts: its event says when; look again meanwhile.
  useEffect(() => {
    if (!computing) return;
    const timer = setTimeout(() => report.reload(), 3000);
    return () => clearTimeout(timer);
  }, [computing, report.value]);
  const [trialsTick, setTrialsTick] = useState(0);
  const live = useLive({ study: name }, (e) => {
    if (e.type === 'study' || e.type === 'workers' || e.type === 'reconnected') detail.reload();
    if (e.type === 'study' || e.type === 'reconnected') setTrialsTick((t) => t + 1);
    if (e.type === 'report' || e.type === 'reconnected') report.reload();
  });
  const d = detail.value;
  return (
    <main>
      <nav class="crumbs" aria-label="breadcrumbs"><Link href="/">Studies</Link> / <span>{name}</span></nav>
      <header class="page-header">
        <h1>{name}</h1>
        <LiveBadge state={live} />
      </header>
      {detail.error && <Problem error={detail.error} />}
      {d && (
        <>
          {d.description && <p class="description">{d.description}</p>}
          <section class="summary" aria-label="progress">
            <ProgressBar progress={d.progress} label={`progress of ${d.name}`} />
            <p>
              <Counts entry={d} /> · ETA <span data-eta>{eta(d.progress)}</span> · created <span title={d.createdAt}>{ago(d.createdAt)}</span> · last change <span title={d.updatedAt}>{ago(d.updatedAt)}</span>
              {d.refused > 0 && <> · <span class="warn">{d.refused} late results refused</span></>}
            </p>
            <p class="sub">Best learning rate chosen by {d.select}.</p>
          </section>
          <Workers study={d.name} workers={d.workers} />
        </>
      )}
      {report.error && <Problem error={report.error} />}
      {computing && <p class="sub" data-computing>Computing the report's tables and figures…</p>}
      {report.value && !('computing' in report.value) && <Report report={report.value} />}
      {d && <TrialsTable study={d.name} axes={d.axes} refresh={trialsTick} />}
    </main>
  );
}

function Workers({ study, workers }: { study: string; workers: WorkerRow[] }) {
  const shown = workers.filter((w) => w.state !== 'exited');
  return (
    <section aria-labelledby="workers-title">
      <h2 id="workers-title">Workers</h2>
      {shown.length === 0 ? <p class="sub">No worker is running.</p> : (
        <table class="workers" aria-labelledby="workers-title">
          <thead><tr><th scope="col">host</th><th scope="col">pid</th><th scope="col">holds</th><th scope="col">step</th><th scope="col">loss</th><th scope="col">memory</th><th scope="col">last seen</th></tr></thead>
          <tbody>
            {shown.map((w) => (
              <tr key={w.id} class={w.expired ? 'expired' : ''} data-worker={w.id}>
                <td>{w.host}</td>
                <td>{w.pid}</td>
                <td>
                  {w.holdsTrial ? <Link href={trialPath(study, w.holdsTrial)}>{w.holds}</Link> : w.holds ?? 'idle'}
                  {w.coordinates && <div class="sub">{w.coordinates}</div>}
                </td>
                <td data-step>{w.step === null ? '–' : `${w.step}/${w.totalSteps ?? '?'}`}</td>
                <td>{number(w.loss)}</td>
                <td>{w.rssMb === null ? '–' : `${Math.round(w.rssMb)} MB`}</td>
                <td title={w.lastSeen}>{ago(w.lastSeen)}{w.expired ? ' (lease expired)' : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Table({ table }: { table: TableData }) {
  return (
    <table class="report-table" id={`table-${table.id}`}>
      <caption>{table.title}</caption>
      <thead><tr>{table.columns.map((c) => <th scope="col" key={c}>{c}</th>)}</tr></thead>
      <tbody>{table.rows.map((r, i) => <tr key={i}>{r.map((c, j) => <td key={j}>{c}</td>)}</tr>)}</tbody>
    </table>
  );
}

function Report({ report }: { report: StudyReport }) {
  return (
    <>
      <section aria-labelledby="tables-title">
        <h2 id="tables-title">Results</h2>
        {report.tables.every((t) => t.rows.length === 0) ? <p class="sub">No completed trial yet.</p> : report.tables.map((t) => <Table key={t.id} table={t} />)}
      </section>
      <section aria-labelledby="figures-title">
        <h2 id="figures-title">Figures</h2>
        <p class="sub">Hover for values; click a legend entry to pick a series (shift-click for several); scroll or drag to zoom and pan, double-click to reset. Computed in {duration(report.computeMs / 1000)}.</p>
        {report.figures.length === 0 && <p class="sub">No figure yet: they appear as trials complete.</p>}
        <div class="figures">{report.figures.map((f) => <VegaFigure key={f.id} id={f.id} title={f.title} caption={f.caption} spec={f.spec} />)}</div>
      </section>
    </>
  );
}
