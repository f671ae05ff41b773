/**
 * The study store's algorithm, written once over a SqlDialect (sql-dialect.ts): claims with leases
 * and attempt numbers, the fence every result, failure and metric passes, heartbeats, listing,
 * withdrawing measurements, dump and load. The SQL here is what SQLite and PostgreSQL both accept;
 * what differs (the clock, row locks, transactions, insertion order) comes from the dialect.
 *
 * A claim is one statement: the first pending row, picked with the dialect's lock (PostgreSQL:
 * `FOR UPDATE SKIP LOCKED`, concurrent claimers skip each other's candidates; SQLite: none needed,
 * BEGIN IMMEDIATE admits one writer at a time), marked running with the next attempt and a lease on
 * the store's clock. Only when nothing is pending, a second one takes a running row whose lease
 * expired or whose worker this host knows dead. A result is one fenced statement too (its WHERE is
 * the running claim's attempt); the refusal is looked up and recorded only when it matched nothing.
 *
 * A trial's claim and result do not touch the studies row: every worker would queue on that one
 * row's lock, each holding it through its commit's fsync (no two commits could share one), and
 * rewrite the row, spec and all. A study's last change is read as the latest of the row's
 * `updated_at` (the other writes still set it) and its trials' `started_at` and `finished_at`.
 */
import { readMeasurementResult, readTrialResult } from './records.js';
import type { Study } from './schema.js';
import type { Query, Row, SqlDialect } from './sql-dialect.js';
import {
  DEFAULT_LEASE_SECONDS, emptyMeasurementCounts, emptyTrialCounts, jobId, type ArtifactFile, type ArtifactSize, type ClaimOptions, type MeasurementJob, type MeasurementStatus, type Metric,
  type PrunedOutcome, type Refusal, type RungValue, type StoreBackend, type StoredMeasurement, type StoredTrial, type StudyDump, type StudyStore, type StudySummary, type TrialOutcome, type TrialStatus, type WorkerBeat, type WorkerRecord,
} from './store.js';
import type { Trial } from './trials.js';

// Column values as either driver returns them (PostgreSQL: Date, string counts; SQLite: text, numbers).
const iso = (v: unknown): string | null => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v));
/** The latest of some timestamps (either driver's; nulls skipped), as iso() writes it. */
const latest = (...vs: unknown[]): string | null => vs.map(iso).reduce<string | null>((a, b) => (b === null || (a !== null && Date.parse(a) >= Date.parse(b)) ? a : b), null);
const json = (v: unknown) => (v === null || v === undefined ? null : JSON.parse(v as string));
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
/** A SQL condition's value: PostgreSQL returns a boolean, SQLite 0 or 1. */
const truth = (v: unknown) => v === true || v === 1;
const jsonText = (v: unknown) => (v === null ? null : JSON.stringify(v));

/** A trials row as a StoredTrial: the one place a stored trial is decoded. */
export const trialFromRow = (r: Row): StoredTrial => ({
  study: r.study as string, key: r.key as string, coordinates: json(r.coordinates), config: json(r.config), status: r.status as TrialStatus, worker: text(r.worker),
  attempt: Number(r.attempt), startedAt: iso(r.started_at), finishedAt: iso(r.finished_at), seconds: num(r.seconds), result: readTrialResult(r.result, r.study as string, r.key as string), error: text(r.error),
  checkpoint: text(r.checkpoint),
});

/** A measurement_jobs row as a StoredMeasurement: the one place a stored measurement is decoded. */
export const measurementFromRow = (r: Row): StoredMeasurement => ({
  key: r.key as string, kind: r.kind as string, spec: r.spec as string, status: r.status as MeasurementStatus, worker: text(r.worker), attempt: Number(r.attempt),
  seconds: num(r.seconds), result: readMeasurementResult(r.result, r.study as string, r.key as string, r.kind as string, r.spec as string), error: text(r.error),
});

const refusalFromRow = (r: Row): Refusal => ({
  kind: r.kind as Refusal['kind'], key: r.key as string, measurement: text(r.measurement), spec: text(r.spec), worker: r.worker as string,
  attempt: Number(r.attempt), currentAttempt: Number(r.current_attempt), what: r.what as string, at: iso(r.at)!,
});

const workerFromRow = (w: Row): WorkerRecord => ({
  id: w.id as string, study: w.study as string, host: w.host as string, pid: Number(w.pid), state: w.state as WorkerBeat['state'], holds: json(w.holds), step: num(w.step), totalSteps: num(w.total_steps),
  loss: num(w.loss), rssMb: num(w.rss_mb), message: text(w.message), leaseSeconds: Number(w.lease_seconds), startedAt: iso(w.started_at)!, lastSeen: iso(w.last_seen)!, expired: truth(w.expired),
});

const bytes = (data: Uint8Array) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);

/** The key columns of a queue table, after `study`. */
const KEYS = { trials: ['key'], measurement_jobs: ['key', 'kind', 'spec'] } as const;
type QueueTable = keyof typeof KEYS;
const JOB = 'study = $1 AND key = $2 AND kind = $3 AND spec = $4';
/** The fence: the row is running under attempt `attempt` (a parameter). */
const RUNNING = (attempt: string) => `status = 'running' AND attempt = ${attempt}`;
/** Rows per multi-row INSERT: far under both databases' limit on parameters (SQLite 32766, PostgreSQL 65535). */
const CHUNK_ROWS = 500;

/**
 * Inserts `rows` (values of `columns`, in order) with multi-row VALUES, CHUNK_ROWS at a time, in the
 * order given; `conflict` (e.g. `ON CONFLICT … DO NOTHING`) follows each. Returns how many were inserted.
 */
async function insertRows(q: Query, table: string, columns: readonly string[], rows: readonly (readonly unknown[])[], conflict = ''): Promise<number> {
  let added = 0;
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
    const chunk = rows.slice(i, i + CHUNK_ROWS);
    const values = chunk.map((_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ');
    added += (await q(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values} ${conflict} RETURNING 1`, chunk.flat())).length;
  }
  return added;
}

/**
 * Refuses a NaN metric before anything is written. SQLite would turn it into NULL and fail on NOT NULL
 * while PostgreSQL stored it: one rule for both, and an error that says which row.
 */
function checkMetrics(rows: readonly Metric[]): void {
  const bad = rows.find((r) => Number.isNaN(r.value));
  if (bad) throw new Error(`metric '${bad.name}' at step ${bad.step} has value NaN: a stored metric value is a number (±Infinity allowed)`);
}

/** `value LIKE pattern` matching strings that start with `prefix` (its % _ \ escaped). */
const startsWith = (prefix: string) => `${prefix.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;

export class SqlStudyStore<D extends SqlDialect = SqlDialect> implements StudyStore {
  readonly backend: StoreBackend;
  readonly url: string;
  readonly defaultArtifacts: string;

  constructor(readonly dialect: D) {
    this.backend = dialect.backend;
    this.url = dialect.url;
    this.defaultArtifacts = dialect.defaultArtifacts;
  }

  private touch(q: Query, study: string) {
    return q(`UPDATE studies SET updated_at = ${this.dialect.now} WHERE name = $1`, [study]);
  }

  async upsertStudy(study: Study, trials: readonly Trial[]): Promise<number> {
    const now = this.dialect.now;
    return this.dialect.transaction(async (q) => {
      await q(`INSERT INTO studies (name, spec, created_at, updated_at) VALUES ($1, $2, ${now}, ${now})
        ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at`, [study.name, JSON.stringify(study)]);
      // In the grid's order (the insertion order keeps it for claims).
      return insertRows(q, 'trials', ['study', 'key', 'coordinates', 'config', 'status'],
        trials.map((t) => [study.name, t.key, JSON.stringify(t.coordinates), JSON.stringify(t.config), 'pending']), 'ON CONFLICT (study, key) DO NOTHING');
    });
  }

  async getStudy(name: string): Promise<{ study: Study; createdAt: string } | undefined> {
    const row = (await this.dialect.query('SELECT spec, created_at FROM studies WHERE name = $1', [name]))[0];
    return row && { study: JSON.parse(row.spec as string) as Study, createdAt: iso(row.created_at)! };
  }

  async listStudies(): Promise<StudySummary[]> {
    const d = this.dialect;
    const studies = await d.query('SELECT name, created_at, updated_at FROM studies ORDER BY created_at, name');
    const counts = await d.query('SELECT study, status, COUNT(*) AS n, MAX(started_at) AS started, MAX(finished_at) AS finished FROM trials GROUP BY study, status');
    const measured = await d.query('SELECT study, status, COUNT(*) AS n FROM measurement_jobs GROUP BY study, status');
    const refused = await d.query('SELECT study, COUNT(*) AS n FROM refusals GROUP BY study');
    const active = await d.query(`SELECT study, COUNT(*) AS n FROM workers WHERE state <> 'exited' AND ${d.leaseAfter('last_seen', 'lease_seconds')} >= ${d.leaseNow} GROUP BY study`);
    return studies.map((s) => {
      const c = emptyTrialCounts();
      let updated = latest(s.updated_at ?? s.created_at);
      for (const r of counts) {
        if (r.study !== s.name) continue;
        c[r.status as TrialStatus] = Number(r.n);
        updated = latest(updated, r.started, r.finished);
      }
      const m = emptyMeasurementCounts();
      for (const r of measured) if (r.study === s.name) m[r.status as MeasurementStatus] = Number(r.n);
      return {
        name: s.name as string, createdAt: iso(s.created_at)!, updatedAt: updated!, counts: c, measurements: m,
        refused: Number(refused.find((r) => r.study === s.name)?.n ?? 0), activeWorkers: Number(active.find((r) => r.study === s.name)?.n ?? 0),
      };
    });
  }

  /**
   * Claims the first row of `table` that `where` admits (the dialect's lock skipping rows other claimers
   * hold), in one statement: marked running under `worker` with the next attempt and a lease. Returns
   * the row as it is then, or undefined.
   */
  private async claimRow(table: QueueTable, study: string, worker: string, leaseSeconds: number, where: string, extra: readonly unknown[]): Promise<Row | undefined> {
    const d = this.dialect;
    const keys = KEYS[table].join(', ');
    const claim = async (q: Query) => {
      const claimed = (await q(`UPDATE ${table} SET status = 'running', worker = $2, started_at = ${d.now}, attempt = attempt + 1, lease_until = ${d.leaseAfter(d.now, '$3')}
        WHERE study = $1 AND (${keys}) = (SELECT ${keys} FROM ${table} WHERE study = $1 AND ${where} ORDER BY ${d.insertionOrder} LIMIT 1${d.lockRowsSkipLocked}) RETURNING *`,
      [study, worker, leaseSeconds, ...extra]))[0];
      // A measurement's claim still marks the study changed (its last change is read from its trials' times only).
      if (claimed && table === 'measurement_jobs') await this.touch(q, study);
      return claimed;
    };
    return table === 'trials' ? claim(d.write) : d.transaction(claim);
  }

  /**
   * The first pending row of `table`; else (nothing pending) the first running row whose lease expired
   * or whose worker `isWorkerAlive` finds dead (checked here, on this host; a dead worker stays dead, so
   * the list read before the claim's statement is still true in it).
   */
  private async claimFrom(table: QueueTable, study: string, worker: string, options: ClaimOptions): Promise<Row | undefined> {
    const lease = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
    const pending = await this.claimRow(table, study, worker, lease, "status = 'pending'", []);
    if (pending) return pending;
    const alive = options.isWorkerAlive ?? (() => true);
    const holders = await this.dialect.query(`SELECT DISTINCT worker FROM ${table} WHERE study = $1 AND status = 'running' AND worker IS NOT NULL`, [study]);
    const dead = holders.map((r) => r.worker as string).filter((w) => !alive(w));
    const deadWorker = dead.map((_, i) => ` OR worker = $${i + 4}`).join('');
    return this.claimRow(table, study, worker, lease, `status = 'running' AND (worker IS NULL OR lease_until IS NULL OR lease_until < ${this.dialect.leaseNow}${deadWorker})`, dead);
  }

  async claim(study: string, worker: string, options: ClaimOptions = {}): Promise<StoredTrial | undefined> {
    const row = await this.claimFrom('trials', study, worker, options);
    return row && trialFromRow(row);
  }

  async claimPending(study: string, worker: string, keys: readonly string[], limit: number, options: ClaimOptions = {}): Promise<StoredTrial[]> {
    const d = this.dialect;
    const wanted = keys.slice(0, CHUNK_ROWS);
    if (wanted.length === 0 || limit < 1) return [];
    const list = wanted.map((_, i) => `$${i + 5}`).join(', ');
    // One statement, as claimRow's: the candidates picked with the dialect's lock (PostgreSQL skips rows other
    // claimers hold). Picked in a CTE, which PostgreSQL evaluates once: as an IN (subquery) the LIMIT was
    // not kept (this suite saw 3 rows claimed under LIMIT 2: the subquery is run again for the join).
    const rows = await d.write(`WITH picked AS (SELECT key FROM trials WHERE study = $1 AND status = 'pending' AND checkpoint IS NULL AND key IN (${list})
        ORDER BY ${d.insertionOrder} LIMIT $4${d.lockRowsSkipLocked})
      UPDATE trials SET status = 'running', worker = $2, started_at = ${d.now}, attempt = attempt + 1, lease_until = ${d.leaseAfter(d.now, '$3')}
      WHERE study = $1 AND key IN (SELECT key FROM picked) RETURNING *`,
    [study, worker, options.leaseSeconds ?? DEFAULT_LEASE_SECONDS, limit, ...wanted]);
    const byKey = new Map(rows.map((r) => [r.key as string, trialFromRow(r)]));
    return wanted.flatMap((k) => byKey.get(k) ?? []);
  }

  /**
   * Inside a transaction: `write` writes the result if `attempt` is the row's running claim (its first
   * statement fenced by RUNNING in its WHERE, which locks the row) and says whether it did; if it did
   * not, the row is locked and the refusal recorded (a retried call of the current attempt whose first
   * reply was lost is not one).
   */
  private async fenced(q: Query, study: string, key: string, attempt: number, what: string, write: () => Promise<boolean>, job?: MeasurementJob): Promise<boolean> {
    if (await write()) return true;
    const lock = this.dialect.lockRows;
    const row = (job
      ? await q(`SELECT status, attempt, worker FROM measurement_jobs WHERE ${JOB}${lock}`, [study, job.key, job.kind, job.spec])
      : await q(`SELECT status, attempt, worker FROM trials WHERE study = $1 AND key = $2${lock}`, [study, key]))[0];
    // The current attempt's result sent again (a call retried after its reply was lost) is already stored.
    if (row && Number(row.attempt) === attempt && what !== 'metrics' && row.status !== 'pending') return true;
    // Recorded once per stale attempt and kind of write: a stale worker still training sends its live
    // metrics again and again, each refused, and one line says so.
    if (row) {
      await q(`INSERT INTO refusals (study, kind, key, measurement, spec, worker, attempt, current_attempt, what, at)
        SELECT $1, $2, $3, CAST($4 AS TEXT), CAST($5 AS TEXT), $6, $7, $8, $9, ${this.dialect.now} WHERE NOT EXISTS (SELECT 1 FROM refusals
          WHERE study = $1 AND kind = $2 AND key = $3 AND measurement IS NOT DISTINCT FROM CAST($4 AS TEXT) AND spec IS NOT DISTINCT FROM CAST($5 AS TEXT) AND attempt = $7 AND what = $9)`,
      [study, job ? 'measurement' : 'trial', key, job?.kind ?? null, job?.spec ?? null, text(row.worker) ?? '', attempt, Number(row.attempt), what]);
    }
    return false;
  }

  /** Rows already stored (the same write sent again) are skipped: the first value of a step's metric stays. */
  private insertMetrics(q: Query, study: string, key: string, attempt: number, rows: readonly Metric[]): Promise<number> {
    return insertRows(q, 'metrics', ['study', 'key', 'attempt', 'step', 'name', 'value'], rows.map((r) => [study, key, attempt, r.step, r.name, r.value]),
      'ON CONFLICT (study, key, attempt, step, name) DO NOTHING');
  }

  private async putArtifacts(q: Query, study: string, key: string, files: readonly ArtifactFile[]): Promise<void> {
    await q('DELETE FROM artifacts WHERE study = $1 AND key = $2', [study, key]);
    for (const f of files) await q('INSERT INTO artifacts (study, key, name, data) VALUES ($1, $2, $3, $4)', [study, key, f.name, bytes(f.data)]);
  }

  async finish(study: string, key: string, attempt: number, outcome: TrialOutcome): Promise<boolean> {
    checkMetrics(outcome.metrics ?? []);
    return this.dialect.transaction((q) => this.fenced(q, study, key, attempt, 'finish', async () => {
      const done = await q(`UPDATE trials SET status = $1, result = $2, seconds = $3, checkpoint = $4, finished_at = ${this.dialect.now}, error = NULL, lease_until = NULL
        WHERE study = $5 AND key = $6 AND ${RUNNING('$7')} RETURNING key`, [outcome.status, JSON.stringify(outcome.result), outcome.seconds, outcome.checkpoint ?? null, study, key, attempt]);
      if (done.length === 0) return false;
      if (outcome.metrics) await this.insertMetrics(q, study, key, attempt, outcome.metrics);
      if (outcome.artifacts) await this.putArtifacts(q, study, key, outcome.artifacts);
      return true;
    }));
  }

  async fail(study: string, key: string, attempt: number, error: string, seconds: number): Promise<boolean> {
    return this.dialect.transaction((q) => this.fenced(q, study, key, attempt, 'fail', async () =>
      (await q(`UPDATE trials SET status = 'failed', error = $1, seconds = $2, finished_at = ${this.dialect.now}, lease_until = NULL
        WHERE study = $3 AND key = $4 AND ${RUNNING('$5')} RETURNING key`, [error, seconds, study, key, attempt])).length > 0));
  }

  async addMetrics(study: string, key: string, attempt: number, rows: readonly Metric[]): Promise<boolean> {
    checkMetrics(rows);
    return this.dialect.transaction((q) => this.fenced(q, study, key, attempt, 'metrics', async () => {
      // Nothing of the row changes: it is locked (the claim cannot be taken over meanwhile) and checked.
      if ((await q(`SELECT key FROM trials WHERE study = $1 AND key = $2 AND ${RUNNING('$3')}${this.dialect.lockRows}`, [study, key, attempt])).length === 0) return false;
      await this.insertMetrics(q, study, key, attempt, rows);
      await this.touch(q, study);
      return true;
    }));
  }

  // Pruning (study/pruning.ts): a trial's rung values, and its end as pruned.

  async reportRung(study: string, key: string, attempt: number, row: Metric): Promise<RungValue[] | undefined> {
    checkMetrics([row]);
    return this.dialect.transaction(async (q) => {
      const stored = await this.fenced(q, study, key, attempt, 'metrics', async () => {
        if ((await q(`SELECT key FROM trials WHERE study = $1 AND key = $2 AND ${RUNNING('$3')}${this.dialect.lockRows}`, [study, key, attempt])).length === 0) return false;
        await this.insertMetrics(q, study, key, attempt, [row]);
        // Touching the study's row takes its lock (PostgreSQL; SQLite's BEGIN IMMEDIATE admits one writer):
        // rung reports of one study are serialized, and the SELECT below sees every rung row committed before it.
        await this.touch(q, study);
        return true;
      });
      if (!stored) return undefined;
      const rows = await q(`SELECT m.key, m.step, m.value FROM metrics m JOIN trials t ON t.study = m.study AND t.key = m.key AND t.attempt = m.attempt
        WHERE m.study = $1 AND m.name = $2 ORDER BY m.step, m.${this.dialect.insertionOrder}`, [study, row.name]);
      return rows.map((r) => ({ key: r.key as string, step: Number(r.step), value: Number(r.value) }));
    });
  }

  async prune(study: string, key: string, attempt: number, outcome: PrunedOutcome): Promise<boolean> {
    checkMetrics(outcome.metrics ?? []);
    return this.dialect.transaction((q) => this.fenced(q, study, key, attempt, 'prune', async () => {
      const done = await q(`UPDATE trials SET status = 'pruned', result = $1, seconds = $2, checkpoint = $3, finished_at = ${this.dialect.now}, error = NULL, lease_until = NULL
        WHERE study = $4 AND key = $5 AND ${RUNNING('$6')} RETURNING key`, [JSON.stringify(outcome.result), outcome.seconds, outcome.checkpoint ?? null, study, key, attempt]);
      if (done.length === 0) return false;
      if (outcome.metrics) await this.insertMetrics(q, study, key, attempt, outcome.metrics);
      if (outcome.artifacts) await this.putArtifacts(q, study, key, outcome.artifacts);
      return true;
    }));
  }

  async reopenPruned(study: string, keys: readonly string[]): Promise<number> {
    const d = this.dialect;
    return d.transaction(async (q) => {
      let n = 0;
      for (const key of keys) {
        const row = (await q(`SELECT attempt FROM trials WHERE study = $1 AND key = $2 AND status = 'pruned'${d.lockRows}`, [study, key]))[0];
        if (!row) continue;
        const attempt = Number(row.attempt);
        await q(`INSERT INTO metrics (study, key, attempt, step, name, value) SELECT study, key, $3, step, name, value FROM metrics WHERE study = $1 AND key = $2 AND attempt = $4 ORDER BY ${d.insertionOrder}`,
          [study, key, attempt + 1, attempt]);
        await q("UPDATE trials SET status = 'pending', worker = NULL, lease_until = NULL, result = NULL, finished_at = NULL, seconds = NULL, error = NULL WHERE study = $1 AND key = $2", [study, key]);
        n++;
      }
      if (n > 0) await this.touch(q, study);
      return n;
    });
  }

  async retryFailed(study: string): Promise<{ trials: number; measurements: number }> {
    return this.dialect.transaction(async (q) => {
      const again = (table: QueueTable) => q(`UPDATE ${table} SET status = 'pending', worker = NULL, lease_until = NULL, result = NULL, finished_at = NULL, seconds = NULL, error = NULL
        WHERE study = $1 AND status = 'failed' RETURNING key`, [study]);
      const trials = (await again('trials')).length;
      const measurements = (await again('measurement_jobs')).length;
      if (trials + measurements > 0) await this.touch(q, study);
      return { trials, measurements };
    });
  }

  async metrics(study: string, key: string): Promise<Metric[]> {
    const rows = await this.dialect.query(`SELECT m.step, m.name, m.value FROM metrics m JOIN trials t ON t.study = m.study AND t.key = m.key AND t.attempt = m.attempt
      WHERE m.study = $1 AND m.key = $2 ORDER BY m.${this.dialect.insertionOrder}`, [study, key]);
    return rows.map((r) => ({ step: Number(r.step), name: r.name as string, value: Number(r.value) }));
  }

  async addMeasurementJobs(study: string, jobs: readonly MeasurementJob[]): Promise<number> {
    if (jobs.length === 0) return 0;
    return this.dialect.transaction(async (q) => {
      const added = await insertRows(q, 'measurement_jobs', ['study', 'key', 'kind', 'spec', 'status'], jobs.map((j) => [study, j.key, j.kind, j.spec, 'pending']), 'ON CONFLICT DO NOTHING');
      if (added > 0) await this.touch(q, study);
      return added;
    });
  }

  async withdrawMeasurements(study: string, keep: readonly MeasurementJob[], isWorkerAlive: (worker: string) => boolean = () => true): Promise<number> {
    const d = this.dialect;
    const wanted = new Set(keep.map(jobId));
    return d.transaction(async (q) => {
      const open = await q(`SELECT key, kind, spec, status, worker, (lease_until IS NOT NULL AND lease_until >= ${d.leaseNow}) AS leased
        FROM measurement_jobs WHERE study = $1 AND status IN ('pending', 'running')${d.lockRows}`, [study]);
      let n = 0;
      for (const j of open) {
        if (wanted.has(jobId(j as unknown as MeasurementJob))) continue;
        if (j.status === 'running' && j.worker !== null && truth(j.leased) && isWorkerAlive(j.worker as string)) continue;
        n += (await q(`DELETE FROM measurement_jobs WHERE ${JOB} RETURNING key`, [study, j.key, j.kind, j.spec])).length;
      }
      if (n > 0) await this.touch(q, study);
      return n;
    });
  }

  async claimMeasurement(study: string, worker: string, options: ClaimOptions = {}): Promise<StoredMeasurement | undefined> {
    const row = await this.claimFrom('measurement_jobs', study, worker, options);
    return row && measurementFromRow(row);
  }

  async finishMeasurement(study: string, job: MeasurementJob, attempt: number, result: Record<string, unknown>, seconds: number): Promise<boolean> {
    return this.dialect.transaction((q) => this.fenced(q, study, job.key, attempt, 'finish', () =>
      this.writeMeasurement(q, `status = 'completed', result = $6, seconds = $7, error = NULL`, [study, job.key, job.kind, job.spec, attempt, JSON.stringify(result), seconds]), job));
  }

  async failMeasurement(study: string, job: MeasurementJob, attempt: number, error: string, seconds: number): Promise<boolean> {
    return this.dialect.transaction((q) => this.fenced(q, study, job.key, attempt, 'fail', () =>
      this.writeMeasurement(q, `status = 'failed', error = $6, seconds = $7`, [study, job.key, job.kind, job.spec, attempt, error, seconds]), job));
  }

  /** A measurement's result (`set`; the job and attempt are $1–$5), fenced; the study marked changed if written. */
  private async writeMeasurement(q: Query, set: string, params: readonly unknown[]): Promise<boolean> {
    const done = await q(`UPDATE measurement_jobs SET ${set}, finished_at = ${this.dialect.now}, lease_until = NULL WHERE ${JOB} AND ${RUNNING('$5')} RETURNING key`, params);
    if (done.length > 0) await this.touch(q, params[0] as string);
    return done.length > 0;
  }

  async measurements(study: string, key?: string): Promise<StoredMeasurement[]> {
    const order = `ORDER BY ${this.dialect.insertionOrder}`;
    const rows = key === undefined
      ? await this.dialect.query(`SELECT * FROM measurement_jobs WHERE study = $1 ${order}`, [study])
      : await this.dialect.query(`SELECT * FROM measurement_jobs WHERE study = $1 AND key = $2 ${order}`, [study, key]);
    return rows.map(measurementFromRow);
  }

  async failHeldBy(study: string, workerPrefix: string, error: string): Promise<number> {
    const held = (table: QueueTable) => `UPDATE ${table} SET status = 'failed', error = $1, finished_at = ${this.dialect.now}, lease_until = NULL
      WHERE study = $2 AND status = 'running' AND worker LIKE $3 ESCAPE '\\' RETURNING key`;
    return this.dialect.transaction(async (q) => {
      const params = [error, study, startsWith(workerPrefix)];
      const n = (await q(held('trials'), params)).length + (await q(held('measurement_jobs'), params)).length;
      if (n > 0) await this.touch(q, study);
      return n;
    });
  }

  async trials(study: string): Promise<StoredTrial[]> {
    return (await this.dialect.query(`SELECT * FROM trials WHERE study = $1 ORDER BY ${this.dialect.insertionOrder}`, [study])).map(trialFromRow);
  }

  async statuses(study: string): Promise<{ trials: { key: string; status: TrialStatus }[]; measurements: (MeasurementJob & { status: MeasurementStatus })[] }> {
    const order = `ORDER BY ${this.dialect.insertionOrder}`;
    const trials = await this.dialect.query(`SELECT key, status FROM trials WHERE study = $1 ${order}`, [study]);
    const measurements = await this.dialect.query(`SELECT key, kind, spec, status FROM measurement_jobs WHERE study = $1 ${order}`, [study]);
    return { trials: trials as unknown as { key: string; status: TrialStatus }[], measurements: measurements as unknown as (MeasurementJob & { status: MeasurementStatus })[] };
  }

  async trial(study: string, key: string): Promise<StoredTrial | undefined> {
    const row = (await this.dialect.query('SELECT * FROM trials WHERE study = $1 AND key = $2', [study, key]))[0];
    return row && trialFromRow(row);
  }

  async heartbeat(beat: WorkerBeat, leaseSeconds: number): Promise<number> {
    const d = this.dialect;
    return d.transaction(async (q) => {
      await q(`INSERT INTO workers (id, study, host, pid, state, holds, step, total_steps, loss, rss_mb, message, lease_seconds, started_at, last_seen)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, ${d.now}, ${d.now})
        ON CONFLICT (id) DO UPDATE SET study = excluded.study, state = excluded.state, holds = excluded.holds, step = excluded.step, total_steps = excluded.total_steps,
          loss = excluded.loss, rss_mb = excluded.rss_mb, message = excluded.message, lease_seconds = excluded.lease_seconds, last_seen = excluded.last_seen`,
      [beat.id, beat.study, beat.host, beat.pid, beat.state, jsonText(beat.holds), beat.step, beat.totalSteps, beat.loss, beat.rssMb, beat.message, leaseSeconds]);
      const h = beat.holds;
      if (beat.state === 'exited' || h === null) return 0;
      // Only the claim it holds now (key and attempt): a claim it lost, or one whose reply it never got, is not renewed.
      const renew = `lease_until = ${d.leaseAfter(d.now, '$1')}`;
      if (h.kind === 'trial') {
        // A pack's members' claims with the first's (each by its key and attempt).
        let renewed = 0;
        for (const c of [{ key: h.key, attempt: h.attempt }, ...(h.pack ?? [])]) {
          renewed += (await q(`UPDATE trials SET ${renew} WHERE study = $2 AND key = $3 AND status = 'running' AND worker = $4 AND attempt = $5 RETURNING key`, [leaseSeconds, beat.study, c.key, beat.id, c.attempt])).length;
        }
        return renewed;
      }
      return (await q(`UPDATE measurement_jobs SET ${renew} WHERE study = $2 AND key = $3 AND kind = $4 AND spec = $5 AND status = 'running' AND worker = $6 AND attempt = $7 RETURNING key`,
          [leaseSeconds, beat.study, h.key, h.measurement, h.spec, beat.id, h.attempt])).length;
    });
  }

  async workers(study?: string): Promise<WorkerRecord[]> {
    const d = this.dialect;
    const select = `SELECT *, ${d.leaseAfter('last_seen', 'lease_seconds')} < ${d.leaseNow} AS expired FROM workers`;
    const rows = study === undefined ? await d.query(`${select} ORDER BY last_seen DESC, id`) : await d.query(`${select} WHERE study = $1 ORDER BY last_seen DESC, id`, [study]);
    return rows.map(workerFromRow);
  }

  async refusals(study: string): Promise<Refusal[]> {
    return (await this.dialect.query(`SELECT * FROM refusals WHERE study = $1 ORDER BY ${this.dialect.insertionOrder}`, [study])).map(refusalFromRow);
  }

  async artifact(study: string, key: string): Promise<ArtifactFile[] | undefined> {
    const rows = await this.dialect.query('SELECT name, data FROM artifacts WHERE study = $1 AND key = $2 ORDER BY name', [study, key]);
    return rows.length === 0 ? undefined : rows.map((r) => ({ name: r.name as string, data: new Uint8Array(r.data as Buffer) }));
  }

  async artifactSizes(study: string, key: string): Promise<ArtifactSize[] | undefined> {
    // length() of a BLOB (SQLite) or a bytea (PostgreSQL: byteaoctetlen, TOAST's header for a large one)
    // is read from the value's header: the bytes are not fetched.
    const rows = await this.dialect.query('SELECT name, length(data) AS bytes FROM artifacts WHERE study = $1 AND key = $2 ORDER BY name', [study, key]);
    return rows.length === 0 ? undefined : rows.map((r) => ({ name: r.name as string, bytes: Number(r.bytes) }));
  }

  async deleteStudy(name: string): Promise<boolean> {
    return this.dialect.transaction(async (q) => {
      await q('DELETE FROM workers WHERE study = $1', [name]);
      return (await q('DELETE FROM studies WHERE name = $1 RETURNING name', [name])).length > 0;
    });
  }

  async dumpStudy(name: string): Promise<StudyDump | undefined> {
    const order = `ORDER BY ${this.dialect.insertionOrder}`;
    // One snapshot of the whole study, however many statements it takes.
    return this.dialect.transaction(async (q) => {
      const s = (await q('SELECT spec, created_at FROM studies WHERE name = $1', [name]))[0];
      if (!s) return undefined;
      const trials = (await q(`SELECT * FROM trials WHERE study = $1 ${order}`, [name])).map(trialFromRow);
      const metrics = new Map<string, { key: string; attempt: number; rows: Metric[] }>();
      for (const m of await q(`SELECT key, attempt, step, name, value FROM metrics WHERE study = $1 ${order}`, [name])) {
        const id = `${m.key}\u0000${m.attempt}`;
        if (!metrics.has(id)) metrics.set(id, { key: m.key as string, attempt: Number(m.attempt), rows: [] });
        metrics.get(id)!.rows.push({ step: Number(m.step), name: m.name as string, value: Number(m.value) });
      }
      const measurements = (await q(`SELECT * FROM measurement_jobs WHERE study = $1 ${order}`, [name]))
        .map((r) => ({ ...measurementFromRow(r), startedAt: iso(r.started_at), finishedAt: iso(r.finished_at) }));
      const refusals = (await q(`SELECT * FROM refusals WHERE study = $1 ${order}`, [name])).map(refusalFromRow);
      const artifacts = new Map<string, { key: string; files: ArtifactFile[] }>();
      for (const a of await q('SELECT key, name, data FROM artifacts WHERE study = $1 ORDER BY key, name', [name])) {
        if (!artifacts.has(a.key as string)) artifacts.set(a.key as string, { key: a.key as string, files: [] });
        artifacts.get(a.key as string)!.files.push({ name: a.name as string, data: new Uint8Array(a.data as Buffer) });
      }
      return { name, spec: JSON.parse(s.spec as string) as Study, createdAt: iso(s.created_at)!, trials, metrics: [...metrics.values()], measurements, refusals, artifacts: [...artifacts.values()] };
    }, 'snapshot');
  }

  async loadStudy(dump: StudyDump): Promise<void> {
    await this.dialect.transaction(async (q) => {
      if ((await q('SELECT 1 FROM studies WHERE name = $1', [dump.name])).length > 0) throw new Error(`study '${dump.name}' already exists in ${this.url}`);
      await q(`INSERT INTO studies (name, spec, created_at, updated_at) VALUES ($1, $2, $3, ${this.dialect.now})`, [dump.name, JSON.stringify(dump.spec), dump.createdAt]);
      // A trial or measurement that was running in the source is pending here: its worker writes to the source.
      await insertRows(q, 'trials', ['study', 'key', 'coordinates', 'config', 'status', 'worker', 'attempt', 'started_at', 'finished_at', 'seconds', 'result', 'error', 'checkpoint'],
        dump.trials.map((t) => [dump.name, t.key, JSON.stringify(t.coordinates), JSON.stringify(t.config), t.status === 'running' ? 'pending' : t.status, t.status === 'running' ? null : t.worker,
          t.attempt, t.startedAt, t.finishedAt, t.seconds, jsonText(t.result), t.error, t.checkpoint]));
      for (const m of dump.metrics) await this.insertMetrics(q, dump.name, m.key, m.attempt, m.rows);
      await insertRows(q, 'measurement_jobs', ['study', 'key', 'kind', 'spec', 'status', 'worker', 'attempt', 'started_at', 'finished_at', 'seconds', 'result', 'error'],
        dump.measurements.map((m) => [dump.name, m.key, m.kind, m.spec, m.status === 'running' ? 'pending' : m.status, m.status === 'running' ? null : m.worker,
          m.attempt, m.startedAt, m.finishedAt, m.seconds, jsonText(m.result), m.error]));
      await insertRows(q, 'refusals', ['study', 'kind', 'key', 'measurement', 'spec', 'worker', 'attempt', 'current_attempt', 'what', 'at'],
        dump.refusals.map((r) => [dump.name, r.kind, r.key, r.measurement, r.spec, r.worker, r.attempt, r.currentAttempt, r.what, r.at]));
      for (const a of dump.artifacts) await this.putArtifacts(q, dump.name, a.key, a.files);
    });
  }

  close(): Promise<void> {
    return this.dialect.close();
  }
}
