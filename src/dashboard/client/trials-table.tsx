/**
 * The trials table: filtered by status and any grid coordinate, sorted by any column, paged on the
 * server. Keyboard: Tab reaches the filters, the column headers (Enter sorts) and the rows; in the
 * rows ↑/↓ move, Home/End jump, PageUp/PageDown turn pages, Enter opens the trial.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Axis, TrialPage, TrialRow, TrialStatus } from '../api.js';
import { apiStudy, trialPath, useJson } from './api.js';
import { Problem } from './common.js';
import { duration, number, percent } from './format.js';
import { navigate } from './router.js';

const STATUSES: TrialStatus[] = ['pending', 'running', 'completed', 'diverged', 'failed', 'pruned'];
const PAGE = 25;

interface Query {
  status: string;
  filters: Record<string, string>;
  sort: string;
  dir: 'asc' | 'desc';
  offset: number;
}

const shortPath = (path: string) => path.split('.').at(-1) ?? path;

interface Column {
  id: string;
  label: string;
}

/** The query the table shows and the page of trials that answers it, fetched again on each refresh. */
function useTrialsQuery(study: string, refresh: number) {
  const [q, setQ] = useState<Query>({ status: '', filters: {}, sort: 'key', dir: 'asc', offset: 0 });
  const params = new URLSearchParams({ sort: q.sort, dir: q.dir, offset: String(q.offset), limit: String(PAGE) });
  if (q.status) params.set('status', q.status);
  for (const [path, value] of Object.entries(q.filters)) if (value !== '') params.append(`f.${path}`, value);
  const page = useJson<TrialPage>(`${apiStudy(study)}/trials?${params}`);
  useEffect(() => {
    if (refresh > 0) page.reload();
  }, [refresh]);
  return { q, setQ, page };
}

/**
 * The row that has the keyboard focus (the only row in the tab order). A page turned from the keyboard
 * leaves a row number in `pendingFocus`, focused once the new page arrives.
 */
function useRowFocus(p: TrialPage | undefined) {
  const [focus, setFocus] = useState(0);
  const rows = useRef<(HTMLTableRowElement | null)[]>([]);
  const pendingFocus = useRef<number | null>(null);
  useEffect(() => {
    if (pendingFocus.current !== null && p) {
      const i = Math.min(pendingFocus.current, p.rows.length - 1);
      pendingFocus.current = null;
      setFocus(Math.max(0, i));
      rows.current[Math.max(0, i)]?.focus();
    }
  }, [p]);
  const moveTo = (i: number) => {
    setFocus(i);
    rows.current[i]?.focus();
  };
  return { focus, setFocus, rows, pendingFocus, moveTo };
}

function Filters({ axes, q, set }: { axes: Axis[]; q: Query; set: (change: Partial<Query>) => void }) {
  const chosen = (e: Event) => (e.target as HTMLSelectElement).value;
  return (
    <div class="filters" role="group" aria-label="filter trials">
      <label>status{' '}
        <select value={q.status} onChange={(e) => set({ status: chosen(e) })} data-filter="status">
          <option value="">all</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </label>
      {axes.map((a) => (
        <label key={a.path} title={a.path}>{shortPath(a.path)}{' '}
          <select value={q.filters[a.path] ?? ''} onChange={(e) => set({ filters: { ...q.filters, [a.path]: chosen(e) } })} data-filter={a.path}>
            <option value="">all</option>
            {a.values.map((v) => <option key={v} value={v}>{v}</option>)}
          </select>
        </label>
      ))}
    </div>
  );
}

function SortHeader({ columns, q, sortBy }: { columns: Column[]; q: Query; sortBy: (column: string) => void }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => (
          <th key={c.id} scope="col" aria-sort={q.sort === c.id ? (q.dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
            <button type="button" class="sort" onClick={() => sortBy(c.id)} data-sort={c.id}>
              {c.label}{q.sort === c.id ? (q.dir === 'asc' ? ' ▲' : ' ▼') : ''}
            </button>
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** One trial's cells (the row itself, which takes the focus and the keys, is the table's). */
function TrialCells({ study, axes, r }: { study: string; axes: Axis[]; r: TrialRow }) {
  return (
    <>
      <td><a href={trialPath(study, r.key)} tabIndex={-1} onClick={(e) => { e.preventDefault(); }}>{r.key}</a></td>
      <td><span class={`badge status-${r.status}`}>{r.status}</span>{r.error && <div class="sub error-line" title={r.error}>{r.error}</div>}</td>
      {axes.map((a) => <td key={a.path}>{r.coordinates[a.path] ?? ''}</td>)}
      <td>{percent(r.testAccuracy)}</td>
      <td>{number(r.trainLoss)}</td>
      <td>{duration(r.seconds)}</td>
    </>
  );
}

function Pager({ q, p, turn }: { q: Query; p: TrialPage; turn: (delta: number) => void }) {
  const range = p.matching === 0 ? 'no trials match' : `${q.offset + 1}–${q.offset + p.rows.length} of ${p.matching}`;
  return (
    <div class="pager">
      <button type="button" onClick={() => turn(-1)} disabled={q.offset === 0}>← previous</button>
      <span data-range>{range}{p.matching !== p.total ? ` (of ${p.total})` : ''}</span>
      <button type="button" onClick={() => turn(1)} disabled={q.offset + PAGE >= p.matching}>next →</button>
    </div>
  );
}

export function TrialsTable({ study, axes, refresh }: { study: string; axes: Axis[]; refresh: number }) {
  const { q, setQ, page } = useTrialsQuery(study, refresh);
  const p = page.value;
  const { focus, setFocus, rows, pendingFocus, moveTo } = useRowFocus(p);

  const set = (change: Partial<Query>) => setQ((old) => ({ ...old, offset: 0, ...change }));
  const sortBy = (column: string) => setQ((old) => ({ ...old, sort: column, dir: old.sort === column && old.dir === 'asc' ? 'desc' : 'asc', offset: 0 }));
  const turn = (delta: number, focusRow?: number) => {
    if (!p) return;
    const offset = Math.min(Math.max(0, q.offset + delta * PAGE), Math.max(0, Math.floor((p.matching - 1) / PAGE) * PAGE));
    if (offset === q.offset) return;
    if (focusRow !== undefined) pendingFocus.current = focusRow;
    setQ((old) => ({ ...old, offset }));
  };
  const onRowKey = (e: KeyboardEvent, i: number, key: string) => {
    const n = p?.rows.length ?? 0;
    if (e.key === 'ArrowDown') { if (i + 1 < n) moveTo(i + 1); else turn(1, 0); }
    else if (e.key === 'ArrowUp') { if (i > 0) moveTo(i - 1); else turn(-1, PAGE - 1); }
    else if (e.key === 'Home') moveTo(0);
    else if (e.key === 'End') moveTo(n - 1);
    else if (e.key === 'PageDown') turn(1, i);
    else if (e.key === 'PageUp') turn(-1, i);
    else if (e.key === 'Enter') navigate(trialPath(study, key));
    else return;
    e.preventDefault();
  };

  const columns: Column[] = [
    { id: 'key', label: 'trial' }, { id: 'status', label: 'status' },
    ...axes.map((a) => ({ id: `c.${a.path}`, label: shortPath(a.path) })),
    { id: 'testAccuracy', label: 'test accuracy' }, { id: 'trainLoss', label: 'training loss' }, { id: 'seconds', label: 'time' },
  ];

  return (
    <section aria-labelledby="trials-title">
      <h2 id="trials-title">Trials</h2>
      <Filters axes={axes} q={q} set={set} />
      {page.error && <Problem error={page.error} />}
      {p && (
        <>
          <table class="trials" aria-label="trials" aria-rowcount={p.matching + 1}>
            <SortHeader columns={columns} q={q} sortBy={sortBy} />
            <tbody>
              {p.rows.map((r, i) => (
                <tr
                  key={r.key}
                  ref={(el) => { rows.current[i] = el; }}
                  tabIndex={i === Math.min(focus, p.rows.length - 1) ? 0 : -1}
                  aria-rowindex={q.offset + i + 2}
                  data-key={r.key}
                  class="trial-row"
                  data-status={r.status}
                  onKeyDown={(e) => onRowKey(e, i, r.key)}
                  onFocus={() => setFocus(i)}
                  onClick={() => navigate(trialPath(study, r.key))}
                >
                  <TrialCells study={study} axes={axes} r={r} />
                </tr>
              ))}
            </tbody>
          </table>
          <Pager q={q} p={p} turn={turn} />
        </>
      )}
    </section>
  );
}
