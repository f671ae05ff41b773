/**
 * Everything the dashboard reads. The server's routes read the study store only through this module
 * (through its interface, any backend), on the connection serve-command.ts opens; the one other
 * reader is the report thread it starts (report-thread.ts), which opens a connection of its own so
 * that a report's computation never queues behind the pages' reads. What a page needs is computed
 * here, on the server: counts and progress from the store's summaries, the trials table filtered,
 * sorted and paged, the report's tables and figures (the same functions as `sgdlab report`), a
 * trial's learning curves downsampled. Per study, what is derived from all its trials is cached under
 * the study's version (its counts), so a page or a poll of an unchanged study costs no full read, and
 * a study that changes is read once per change, whoever asks.
 */
import { Worker } from 'node:worker_threads';
import { budgetLabel } from '../report/data.js';
import { CHECKPOINT_FILES, canonicalJson, checkpointFiles, checkpointSizes, gridPoints, measurementValues, shortValue, type ArtifactFile, type ArtifactSize, type Study, type StoredTrial, type StudyStore, type StudySummary } from '../study/index.js';
import type { Axis, CurvePoint, MeasurementStatus, Progress, StudyDetail, StudyListEntry, StudyReport, TrialCurves, TrialDetail, TrialPage, TrialRow, TrialStatus, WorkerRow } from './api.js';
import { minMaxDecimate } from './downsample.js';
import type { ReportAnswer, ReportRequest } from './report-thread.js';
import { trialCurvesSpec } from './trial-figure.js';

/** A report as the server sends it: JSON, and its gzip. */
export interface ReadyReport {
  version: string;
  json: Uint8Array;
  gzip: Uint8Array;
}

/** A request for one page of a study's trials. Every field was validated by the server (query-params.ts: parseTrialQuery). */
export interface TrialQuery {
  /** Keep trials whose status is one of these (all when empty). */
  status: TrialStatus[];
  /** Keep trials whose coordinate at `path` displays as one of `values` (AND over paths, OR within one). */
  filters: { path: string; values: string[] }[];
  /** A fixed column (TRIAL_SORT_FIXED) or `c.PATH` for a grid coordinate. */
  sort: string;
  descending: boolean;
  offset: number;
  limit: number;
}

type Counts = Record<TrialStatus, number>;
type MeasurementCounts = Record<MeasurementStatus, number>;

type Summary = StudySummary;

/** A trial as the table shows it, with its raw coordinate values kept for sorting. */
interface Row extends TrialRow {
  raw: Record<string, unknown>;
}

interface StudyState {
  version: string;
  study: Study;
  axes: Axis[];
  rows: Row[];
  /** Mean seconds of the trials that finished (null before the first). */
  meanSeconds: number | null;
  /** The rows sorted by a column and direction, as asked so far. */
  sorted: Map<string, Row[]>;
}

/** Past this many changed trials, a refresh reads them all in one query rather than one by one. */
const REREAD_ALL_ABOVE = 200;

/** Workers that stopped stay in the table this long (so a page shows that one just exited, and why). */
const EXITED_SHOWN_MS = 60_000;


/** How a grid coordinate is shown (and filtered on): budgets as "2 epochs", models as mlp(widths=[512]). */
export const displayValue = (path: string, v: unknown): string => (path === 'budget' ? budgetLabel(v) : shortValue(v));

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const firstLine = (s: string | null) => (s === null ? null : (s.split('\n')[0] ?? '').slice(0, 300));

/** The grid's axes and their values in the study file's order (numbers ascending). */
export function studyAxes(study: Study): Axis[] {
  const values = new Map<string, Map<string, unknown>>();
  for (const point of gridPoints(study)) {
    for (const [path, v] of Object.entries(point)) {
      const seen = values.get(path) ?? new Map<string, unknown>();
      seen.set(displayValue(path, v), v);
      values.set(path, seen);
    }
  }
  return [...values].map(([path, seen]) => {
    const entries = [...seen];
    if (entries.every(([, v]) => typeof v === 'number')) entries.sort((a, b) => (a[1] as number) - (b[1] as number));
    return { path, values: entries.map(([label]) => label) };
  });
}

function toRow(t: StoredTrial): Row {
  const result = t.result;
  return {
    key: t.key,
    status: t.status,
    coordinates: Object.fromEntries(Object.entries(t.coordinates).map(([path, v]) => [path, displayValue(path, v)])),
    raw: t.coordinates,
    seconds: t.seconds,
    testAccuracy: num(result?.test?.accuracy),
    trainLoss: num(result?.train?.loss),
    finishedAt: t.finishedAt,
    worker: t.worker,
    error: firstLine(t.error),
  };
}

/** One collator for every comparison (String.localeCompare with options builds one per call: 100× slower). */
const collator = new Intl.Collator('en', { numeric: true });

const compareValues = (a: unknown, b: unknown): number => {
  // Numbers numerically, the rest as text with numbers in it ordered as numbers (missing values: the caller).
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return collator.compare(String(typeof a === 'object' ? canonicalJson(a) : a), String(typeof b === 'object' ? canonicalJson(b) : b));
};

/** Sorting key of a row for a column: null sorts last in either direction. */
function sortValue(row: Row, column: string): unknown {
  if (column.startsWith('c.')) return row.raw[column.slice(2)] ?? null;
  return row[column as keyof TrialRow] ?? null;
}

/** The rows in the order of a column (stable; missing values last in either direction). */
export function sortRows(rows: readonly Row[], column: string, descending: boolean): Row[] {
  const sign = descending ? -1 : 1;
  return rows.map((row, index) => ({ row, index, value: sortValue(row, column) })).sort((a, b) => {
    if (a.value === null || b.value === null) return a.value === b.value ? a.index - b.index : a.value === null ? 1 : -1;
    return sign * compareValues(a.value, b.value) || a.index - b.index;
  }).map((x) => x.row);
}

/** The trials of one page, filtered and sorted as asked; `sorted` is the rows already in the query's order. */
export function pageOf(rows: readonly Row[], q: TrialQuery, sorted: readonly Row[] = sortRows(rows, q.sort, q.descending)): TrialPage {
  const status = new Set(q.status);
  const filters = q.filters.map((f) => ({ path: f.path, values: new Set(f.values) }));
  const keep = (r: Row) => (status.size === 0 || status.has(r.status)) && filters.every((f) => f.values.has(r.coordinates[f.path] ?? ''));
  const matching = sorted.filter(keep);
  return {
    total: rows.length,
    matching: matching.length,
    offset: q.offset,
    limit: q.limit,
    rows: matching.slice(q.offset, q.offset + q.limit).map(({ raw: _raw, ...r }) => r),
  };
}

/** Seconds left: the mean duration of finished trials times the work left, shared by the workers at work. */
export function estimateSeconds(counts: Counts, runningFraction: number, meanSeconds: number | null, workers: number): number | null {
  const left = counts.pending + counts.running - runningFraction;
  if (left <= 0) return 0;
  if (meanSeconds === null || workers <= 0) return null;
  return (left * meanSeconds) / workers;
}

const measured = (m: MeasurementCounts) => m.pending + m.running + m.completed + m.failed;

/** Progress of a study (see api.ts): 100% only when nothing is left to claim, measurements included. */
export function progressOf(study: Study | undefined, counts: Counts, measurements: MeasurementCounts, runningFraction: number, etaSeconds: number | null): Progress {
  const total = counts.pending + counts.running + counts.completed + counts.diverged + counts.failed + counts.pruned;
  const done = counts.completed + counts.diverged + counts.failed + counts.pruned;
  const measurementsTotal = measured(measurements);
  const measurementsDone = measurements.completed + measurements.failed;
  const work = total + measurementsTotal;
  const finished = counts.pending + counts.running + measurements.pending + measurements.running === 0 &&
    (!study?.measure || measurementsTotal > 0 || counts.completed === 0);
  const fraction = work === 0 ? (finished ? 1 : 0) : (done + measurementsDone + runningFraction) / work;
  return { done, total, measurementsDone, measurementsTotal, fraction: finished ? 1 : Math.min(fraction, 0.99), etaSeconds: finished ? 0 : etaSeconds };
}

export class DashboardData {
  private readonly states = new Map<string, StudyState>();
  private readonly loading = new Map<string, Promise<StudyState | undefined>>();
  /** The latest report of each study, serialized; what the thread is computing, and what is queued for it. */
  private readonly reports = new Map<string, ReadyReport>();
  private computing: { name: string; version: string } | undefined;
  private readonly wanted = new Map<string, string>();
  private waiting: { name: string; version: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly reportListeners = new Set<(name: string) => void>();
  private thread: Worker | undefined;

  /**
   * `url` opens the same store again for the report thread (it is not printed: it may hold a password).
   * `log` receives the server's own troubles (a report that fails to compute).
   */
  constructor(private readonly store: StudyStore, private readonly url: string, private readonly log: (line: string) => void = () => {}) {}

  private async summaries(): Promise<Summary[]> {
    return this.store.listStudies();
  }

  /**
   * What the trials table and the report are computed from changes only when a trial or measurement
   * changes status (a claim, a result, a failure, a queued job) or a late result is refused: the
   * counts say when. (The last-change time moves with every stored metric of a running trial too.)
   */
  private static version(s: Summary): string {
    return `${canonicalJson(s.counts)}|${canonicalJson(s.measurements)}|${s.refused}`;
  }

  /** The workers of a study (those that exited long ago are not shown), as the table shows them. */
  async workers(name: string): Promise<WorkerRow[]> {
    const records = await this.store.workers(name);
    const rows = new Map(this.states.get(name)?.rows.map((r) => [r.key, r]));
    const now = Date.now();
    return records.filter((w) => w.state !== 'exited' || now - Date.parse(w.lastSeen) < EXITED_SHOWN_MS).map((w) => {
      const trialKey = w.holds?.kind === 'trial' ? w.holds.key : null;
      const coordinates = w.holds ? rows.get(w.holds.key)?.coordinates : undefined;
      return {
        id: w.id, host: w.host, pid: w.pid, state: w.state,
        holds: w.holds === null ? null : w.holds.kind === 'trial' ? w.holds.key : `${w.holds.measurement} of ${w.holds.key}`,
        holdsTrial: trialKey,
        coordinates: coordinates ? Object.entries(coordinates).map(([k, v]) => `${k.split('.').at(-1)}=${v}`).join(' ') : null,
        step: w.step, totalSteps: w.totalSteps, loss: w.loss, rssMb: w.rssMb, lastSeen: w.lastSeen, expired: w.expired && w.state !== 'exited', message: w.message,
      };
    });
  }

  /** Sum over a study's working workers of the fraction of their trial done. */
  private static runningFraction(workers: readonly WorkerRow[]): number {
    return workers.reduce((a, w) => a + (w.state === 'working' && w.holdsTrial !== null && w.step !== null && w.totalSteps ? Math.min(1, w.step / w.totalSteps) : 0), 0);
  }

  /**
   * A study's trials and what is derived from them, per version of the study. The first read takes
   * every trial; later versions re-read only the trials whose status changed (from the cheap
   * `statuses()`), so a study of 10,000 trials finishing one trial costs one row, not 10,000.
   */
  private async state(summary: Summary): Promise<StudyState | undefined> {
    const version = DashboardData.version(summary);
    const cached = this.states.get(summary.name);
    if (cached?.version === version) return cached;
    const id = `${summary.name}\u0000${version}`;
    const inFlight = this.loading.get(id);
    if (inFlight) return inFlight;
    const load = (async () => {
      const found = await this.store.getStudy(summary.name);
      if (!found) return undefined;
      const rows = cached && canonicalJson(cached.study) === canonicalJson(found.study) ? await this.refreshRows(summary.name, cached.rows) : (await this.store.trials(summary.name)).map(toRow);
      const finished = rows.filter((r) => r.seconds !== null && r.status !== 'running' && r.status !== 'pending');
      const state: StudyState = {
        version,
        study: found.study,
        axes: cached && canonicalJson(cached.study) === canonicalJson(found.study) ? cached.axes : studyAxes(found.study),
        rows,
        meanSeconds: finished.length === 0 ? null : finished.reduce((a, r) => a + r.seconds!, 0) / finished.length,
        sorted: new Map(),
      };
      this.states.set(summary.name, state);
      return state;
    })().finally(() => this.loading.delete(id));
    this.loading.set(id, load);
    return load;
  }

  /** The rows again, re-reading only trials whose status changed (or all of them when many did). */
  private async refreshRows(name: string, before: readonly Row[]): Promise<Row[]> {
    const { trials: now } = await this.store.statuses(name);
    const old = new Map(before.map((r) => [r.key, r]));
    const changed = now.filter((t) => old.get(t.key)?.status !== t.status || t.status === 'running');
    if (changed.length > REREAD_ALL_ABOVE) return (await this.store.trials(name)).map(toRow);
    const fresh = new Map<string, Row>();
    for (const t of changed) {
      const trial = await this.store.trial(name, t.key);
      if (trial) fresh.set(t.key, toRow(trial));
    }
    return now.flatMap((t) => fresh.get(t.key) ?? old.get(t.key) ?? []);
  }

  private async entry(s: Summary, state: StudyState | undefined, workers: readonly WorkerRow[]): Promise<StudyListEntry> {
    const running = DashboardData.runningFraction(workers);
    const atWork = Math.max(s.activeWorkers, workers.filter((w) => w.state === 'working').length, s.counts.running);
    const eta = estimateSeconds(s.counts, running, state?.meanSeconds ?? null, atWork);
    return {
      name: s.name,
      description: state?.study.description ?? null,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
      counts: s.counts,
      measurements: s.measurements,
      progress: progressOf(state?.study, s.counts, s.measurements, running, eta),
      activeWorkers: s.activeWorkers,
    };
  }

  async studies(): Promise<StudyListEntry[]> {
    const summaries = await this.summaries();
    return Promise.all(summaries.map(async (s) => this.entry(s, await this.state(s), await this.workers(s.name))));
  }

  private async summary(name: string): Promise<Summary | undefined> {
    return (await this.summaries()).find((s) => s.name === name);
  }

  async study(name: string): Promise<StudyDetail | undefined> {
    const s = await this.summary(name);
    if (!s) return undefined;
    const state = await this.state(s);
    if (!state) return undefined;
    const workers = await this.workers(name);
    return { ...(await this.entry(s, state, workers)), select: state.study.select, axes: state.axes, workers, refused: s.refused };
  }

  async trials(name: string, query: TrialQuery): Promise<TrialPage | undefined> {
    const s = await this.summary(name);
    const state = s && (await this.state(s));
    if (!state) return undefined;
    // Each order is sorted once per version of the study: paging and filtering then cost a scan.
    const order = `${query.sort}\u0000${query.descending}`;
    let sorted = state.sorted.get(order);
    if (!sorted) state.sorted.set(order, (sorted = sortRows(state.rows, query.sort, query.descending)));
    return pageOf(state.rows, query, sorted);
  }

  /**
   * The report's tables and figures, as JSON ready to send: the latest one computed (possibly of an
   * older version of the study, while the current one is computed in the report thread; undefined
   * before the first). Asking also queues the current version, once whoever asks.
   */
  async report(name: string): Promise<{ ready: ReadyReport | undefined } | undefined> {
    const s = await this.summary(name);
    if (!s) return undefined;
    this.requestReport(name, DashboardData.version(s));
    return { ready: this.reports.get(name) };
  }

  /** The report of the study's current version, once computed (tests, the benchmark). */
  async currentReport(name: string): Promise<StudyReport | undefined> {
    const s = await this.summary(name);
    if (!s) return undefined;
    const version = DashboardData.version(s);
    this.requestReport(name, version);
    const ready = this.reports.get(name);
    // The report thread serialized a StudyReport (report-thread.ts): the JSON read back is one.
    if (ready?.version === version) return JSON.parse(Buffer.from(ready.json).toString('utf8')) as StudyReport;
    await new Promise<void>((resolve, reject) => this.waiting.push({ name, version, resolve, reject }));
    return this.currentReport(name);
  }

  /** Called with a study's name each time a newer report of it is ready. */
  onReport(listener: (name: string) => void): void {
    this.reportListeners.add(listener);
  }

  /** Reads every study once and queues their reports, so that the first visitor finds them ready. */
  async prewarm(): Promise<void> {
    trialCurvesSpec([]); // its interactive template, checked once
    for (const s of await this.summaries()) {
      await this.state(s);
      this.requestReport(s.name, DashboardData.version(s));
    }
  }

  private requestReport(name: string, version: string): void {
    if (this.reports.get(name)?.version === version || (this.computing?.name === name && this.computing.version === version)) return;
    this.wanted.set(name, version);
    this.nextReport();
  }

  private nextReport(): void {
    if (this.computing !== undefined) return;
    const next = this.wanted.entries().next();
    if (next.done) return;
    const [name, version] = next.value;
    this.wanted.delete(name);
    this.computing = { name, version };
    this.thread ??= this.startThread();
    this.thread.ref(); // busy: keeps the process alive until it answers
    this.thread.postMessage({ name, version } satisfies ReportRequest);
  }

  private startThread(): Worker {
    const thread = new Worker(new URL('./report-thread.js', import.meta.url), { workerData: { role: 'report', url: this.url } });
    thread.on('message', (answer: ReportAnswer) => {
      this.computing = undefined;
      thread.unref();
      if ('error' in answer) {
        for (const w of this.waiting.filter((x) => x.name === answer.name)) w.reject(new Error(answer.error));
        this.log(`the report of ${answer.name} failed: ${answer.error}`);
      } else {
        this.reports.set(answer.name, { version: answer.version, json: answer.json, gzip: answer.gzip });
        for (const l of this.reportListeners) l(answer.name);
        for (const w of this.waiting.filter((x) => x.name === answer.name)) w.resolve();
      }
      this.waiting = this.waiting.filter((x) => x.name !== answer.name);
      this.nextReport();
    });
    thread.on('error', (error) => {
      this.log(`the report thread stopped: ${error.message}`);
      for (const w of this.waiting) w.reject(error);
      this.waiting = [];
      this.computing = undefined;
      this.thread = undefined;
    });
    // Idle, it keeps no process alive (unref after the listeners: adding one refs it again).
    thread.unref();
    return thread;
  }

  /** Stops the report thread. */
  async close(): Promise<void> {
    await this.thread?.terminate();
    this.thread = undefined;
  }

  /**
   * What the live pages show, as one string per thing that can change (the hub compares them between
   * polls): 'studies' (counts, last changes and running trials' steps of every study), and per watched
   * study its version ('study') and its workers' heartbeats ('workers'), per watched trial its status
   * and the step its worker reported ('trial'). Ids are kind NUL study NUL key.
   */
  async fingerprints(studies: ReadonlySet<string>, trials: readonly { study: string; key: string }[]): Promise<Map<string, string>> {
    const summaries = await this.summaries();
    const out = new Map<string, string>();
    const workers = new Map<string, WorkerRow[]>();
    const workersOf = async (name: string) => workers.get(name) ?? workers.set(name, await this.workers(name)).get(name)!;
    const list: string[] = [];
    for (const s of summaries) {
      const running = DashboardData.runningFraction(await workersOf(s.name));
      list.push(`${s.name}|${s.updatedAt}|${DashboardData.version(s)}|${running.toFixed(3)}`);
      if (!studies.has(s.name)) continue;
      out.set(`study\u0000${s.name}`, DashboardData.version(s));
      out.set(`workers\u0000${s.name}`, canonicalJson((await workersOf(s.name)).map((w) => [w.id, w.state, w.holds, w.step, w.loss, w.expired])));
    }
    out.set('studies', list.join('\n'));
    for (const { study, key } of trials) {
      const t = await this.store.trial(study, key);
      const holder = (await workersOf(study)).find((w) => w.holdsTrial === key);
      out.set(`trial\u0000${study}\u0000${key}`, canonicalJson([t?.status ?? null, t?.finishedAt ?? null, holder?.step ?? null, holder?.loss ?? null]));
    }
    return out;
  }

  async trial(name: string, key: string): Promise<TrialDetail | undefined> {
    const t = await this.store.trial(name, key);
    if (!t) return undefined;
    const measurements = await this.store.measurements(name, key);
    const workers = await this.workers(name);
    return {
      study: name,
      key: t.key,
      status: t.status,
      coordinates: toRow(t).coordinates,
      config: t.config,
      worker: t.worker,
      attempt: t.attempt,
      startedAt: t.startedAt,
      finishedAt: t.finishedAt,
      seconds: t.seconds,
      error: t.error,
      result: flatten(t.result ?? {}),
      measurements: measurements.map((m) => ({
        kind: m.kind, status: m.status, seconds: m.seconds, error: m.error,
        values: m.result ? Object.entries(measurementValues(m)).map(([k, v]) => [k, formatNumber(v)] as [string, string]) : [],
      })),
      checkpoint: await this.checkpointSizes(t),
      live: t.status === 'running' ? workers.find((w) => w.holdsTrial === t.key) ?? null : null,
    };
  }

  /** The files of a trial's checkpoint, from the store or its directory (study/artifacts.ts); none if it has none or they are unreadable here. */
  private async checkpointFiles(t: StoredTrial): Promise<ArtifactFile[]> {
    if (!t.checkpoint) return [];
    try {
      return await checkpointFiles(this.store, t);
    } catch {
      return []; // on another machine's disk, or deleted since: nothing to download from here
    }
  }

  /** The names and sizes of a trial's checkpoint files, read without their bytes (a page shows them; a download reads one). */
  private async checkpointSizes(t: StoredTrial): Promise<ArtifactSize[]> {
    if (!t.checkpoint) return [];
    try {
      return await checkpointSizes(this.store, t);
    } catch {
      return []; // as checkpointFiles: nothing to download from here
    }
  }

  /** One file of a trial's checkpoint, by its name (one of the checkpoint's files; anything else: undefined). */
  async checkpointFile(name: string, key: string, file: string): Promise<ArtifactFile | undefined> {
    if (!(CHECKPOINT_FILES as readonly string[]).includes(file)) return undefined;
    const t = await this.store.trial(name, key);
    return t && (await this.checkpointFiles(t)).find((f) => f.name === file);
  }

  /** A trial's stored metrics, at most `maxPoints` per metric (min/max decimation), and the figure that draws them. */
  async curves(name: string, key: string, maxPoints: number): Promise<TrialCurves | undefined> {
    const t = await this.store.trial(name, key);
    if (!t) return undefined;
    const rows = await this.store.metrics(name, key);
    const byName = new Map<string, { step: number; value: number }[]>();
    for (const r of rows) if (Number.isFinite(r.value)) (byName.get(r.name) ?? byName.set(r.name, []).get(r.name)!).push({ step: r.step, value: r.value });
    const points: CurvePoint[] = [];
    for (const [metric, series] of byName) {
      series.sort((a, b) => a.step - b.step);
      for (const p of minMaxDecimate(series, maxPoints)) points.push({ step: p.step, value: p.value, metric });
    }
    return { stored: rows.length, points, spec: trialCurvesSpec(points) };
  }
}

export const formatNumber = (v: number): string => (Number.isInteger(v) ? String(v) : Number(v.toPrecision(6)).toString());

const isJsonObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A stored result as (dotted key, text) pairs; long arrays are summarized, not listed. */
export function flatten(value: Record<string, unknown>, prefix = ''): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(value)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isJsonObject(v)) out.push(...flatten(v, key));
    else if (Array.isArray(v)) out.push([key, v.length <= 8 && v.every((x) => typeof x !== 'object' || x === null) ? `[${v.map((x) => (typeof x === 'number' ? formatNumber(x) : String(x))).join(', ')}]` : `[${v.length} values]`]);
    else out.push([key, typeof v === 'number' ? formatNumber(v) : String(v)]);
  }
  return out;
}
