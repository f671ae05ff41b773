/**
 * The PostgreSQL study store (the `pg` driver), for studies that span machines. Same numbered
 * migrations as SQLite (in PostgreSQL's dialect), same behaviour, same test suite.
 *
 * Coordination is PostgreSQL's own: a claim is one statement that picks the next claimable row with
 * `FOR UPDATE SKIP LOCKED` (concurrent claimers skip each other's candidates instead of queueing
 * behind them) and marks it running with the next attempt number and a lease measured on the
 * server's clock (`clock_timestamp()`), so machines with skewed clocks agree on who holds what.
 * Results are written in one transaction that first locks the trial's row and checks the attempt
 * (the fencing token); a stale attempt's result is recorded in `refusals` instead.
 *
 * Connection safety: SQL is parameterized only; the URL's libpq parameters (sslmode, host=/socket
 * dir, application_name…) pass through to the driver; a lost connection is retried with
 * exponential backoff for `retrySeconds`; every error leaving this module has the password redacted.
 */
import pg from 'pg';
import type { Study } from './schema.js';
import {
  DEFAULT_LEASE_SECONDS, IN_STORE, emptyMeasurementCounts, emptyTrialCounts, jobId, type ArtifactFile, type ArtifactSize, type ClaimOptions, type MeasurementJob, type MeasurementStatus, type Metric,
  type Refusal, type OpenStoreOptions, type StoreBackend, type StoredMeasurement, type StoredTrial, type StudyDump, type StudyStore, type StudySummary, type TrialOutcome, type TrialStatus, type WorkerBeat, type WorkerRecord,
} from './store.js';
import { StoreUrlError, redactSecrets, redactUrl, registerSecrets, urlPasswords } from './store-url.js';
import type { Trial } from './trials.js';
import { readMeasurementResult, readTrialResult } from './records.js';

export const PG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE studies (name TEXT PRIMARY KEY, spec TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL);
   CREATE TABLE trials (
     seq BIGSERIAL NOT NULL,
     study TEXT NOT NULL REFERENCES studies(name) ON DELETE CASCADE,
     key TEXT NOT NULL,
     coordinates TEXT NOT NULL,
     config TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending','running','completed','diverged','failed')),
     worker TEXT, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, seconds DOUBLE PRECISION,
     result TEXT, error TEXT, checkpoint TEXT,
     PRIMARY KEY (study, key));
   CREATE INDEX trials_status ON trials(study, status, seq);
   CREATE TABLE metrics (seq BIGSERIAL NOT NULL, study TEXT NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL, name TEXT NOT NULL, value DOUBLE PRECISION NOT NULL,
     FOREIGN KEY (study, key) REFERENCES trials(study, key) ON DELETE CASCADE);
   CREATE INDEX metrics_trial ON metrics(study, key, seq);
   CREATE TABLE measurements (study TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, result TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL,
     FOREIGN KEY (study, key) REFERENCES trials(study, key) ON DELETE CASCADE);`,
  // 2: measurements become jobs (queued after training, claimed by workers, keyed by their options).
  `CREATE TABLE measurement_jobs (
     seq BIGSERIAL NOT NULL,
     study TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, spec TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending','running','completed','failed')),
     worker TEXT, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, seconds DOUBLE PRECISION, result TEXT, error TEXT,
     PRIMARY KEY (study, key, kind, spec),
     FOREIGN KEY (study, key) REFERENCES trials(study, key) ON DELETE CASCADE);
   CREATE INDEX measurement_jobs_status ON measurement_jobs(study, status, seq);
   INSERT INTO measurement_jobs (study, key, kind, spec, status, finished_at, result)
     SELECT study, key, kind, '{}', 'completed', created_at, result FROM measurements ON CONFLICT DO NOTHING;
   DROP TABLE measurements;`,
  // 3: leases and attempts (fencing tokens) on claims, the workers' heartbeats, refused late results,
  // checkpoints kept in the store, and the study's last change.
  `ALTER TABLE studies ADD COLUMN updated_at TIMESTAMPTZ;
   UPDATE studies SET updated_at = created_at;
   ALTER TABLE trials ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE trials ADD COLUMN lease_until TIMESTAMPTZ;
   ALTER TABLE measurement_jobs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE measurement_jobs ADD COLUMN lease_until TIMESTAMPTZ;
   ALTER TABLE metrics ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE workers (
     id TEXT PRIMARY KEY, study TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, state TEXT NOT NULL, holds TEXT,
     step INTEGER, total_steps INTEGER, loss DOUBLE PRECISION, rss_mb DOUBLE PRECISION, message TEXT,
     lease_seconds DOUBLE PRECISION NOT NULL, started_at TIMESTAMPTZ NOT NULL, last_seen TIMESTAMPTZ NOT NULL);
   CREATE INDEX workers_study ON workers(study);
   CREATE TABLE refusals (
     seq BIGSERIAL NOT NULL,
     study TEXT NOT NULL REFERENCES studies(name) ON DELETE CASCADE,
     kind TEXT NOT NULL, key TEXT NOT NULL, measurement TEXT, spec TEXT, worker TEXT NOT NULL,
     attempt INTEGER NOT NULL, current_attempt INTEGER NOT NULL, what TEXT NOT NULL, at TIMESTAMPTZ NOT NULL);
   CREATE INDEX refusals_study ON refusals(study, seq);
   CREATE TABLE artifacts (
     study TEXT NOT NULL, key TEXT NOT NULL, name TEXT NOT NULL, data BYTEA NOT NULL,
     PRIMARY KEY (study, key, name),
     FOREIGN KEY (study, key) REFERENCES trials(study, key) ON DELETE CASCADE);`,
  // 4: a metric row is stored once per attempt, step and name, so that a transaction run again after
  // its COMMIT's acknowledgement was lost (it passes the fence again) adds nothing. Duplicates an
  // earlier release stored go first (the first stored of each stays).
  `DELETE FROM metrics m USING metrics d
     WHERE d.study = m.study AND d.key = m.key AND d.attempt = m.attempt AND d.step = m.step AND d.name = m.name AND d.seq < m.seq;
   ALTER TABLE metrics ADD CONSTRAINT metrics_row UNIQUE (study, key, attempt, step, name);`,
];

/** The advisory lock that serializes migrations when many workers open a fresh database at once. */
const MIGRATION_LOCK = 0x5367646c; // 'Sgdl'

type Row = Record<string, unknown>;
type Query = (sql: string, params?: readonly unknown[]) => Promise<Row[]>;

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v));
const json = (v: unknown) => (v === null || v === undefined ? null : JSON.parse(v as string));
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

const toTrial = (r: Row): StoredTrial => ({
  study: r.study as string, key: r.key as string, coordinates: json(r.coordinates), config: json(r.config), status: r.status as TrialStatus, worker: (r.worker as string | null) ?? null,
  attempt: Number(r.attempt), startedAt: iso(r.started_at), finishedAt: iso(r.finished_at), seconds: num(r.seconds), result: readTrialResult(r.result, r.study as string, r.key as string), error: (r.error as string | null) ?? null, checkpoint: (r.checkpoint as string | null) ?? null,
});

const toMeasurement = (r: Row): StoredMeasurement => ({
  key: r.key as string, kind: r.kind as string, spec: r.spec as string, status: r.status as MeasurementStatus, worker: (r.worker as string | null) ?? null, attempt: Number(r.attempt),
  seconds: num(r.seconds), result: readMeasurementResult(r.result, r.study as string, r.key as string, r.kind as string, r.spec as string), error: (r.error as string | null) ?? null,
});

const toRefusal = (r: Row): Refusal => ({
  kind: r.kind as Refusal['kind'], key: r.key as string, measurement: (r.measurement as string | null) ?? null, spec: (r.spec as string | null) ?? null, worker: r.worker as string,
  attempt: Number(r.attempt), currentAttempt: Number(r.current_attempt), what: r.what as string, at: iso(r.at)!,
});

/** Errors worth retrying: the connection was lost or refused, the server is restarting, or a transaction lost a race. */
function isTransient(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  if (e.code && /^(08|57P0[123]|40001|40P01|53300)/.test(e.code)) return true;
  if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOENT'].includes(e.code)) return true;
  return /Connection terminated|connection timeout|timeout expired|Client has encountered a connection error|server closed the connection|terminating connection/i.test(e.message ?? '');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long the server lets one of our sessions sit idle inside a transaction before ending it (its locks released). */
export const IDLE_IN_TRANSACTION_MS = 20_000;

export async function openPostgresStore(url: string, options: OpenStoreOptions = {}): Promise<PostgresStudyStore> {
  const store = new PostgresStudyStore(url, options);
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw store.redact(error, `cannot open the study store ${store.url}`);
  }
  return store;
}

const JOB = 'study = $1 AND key = $2 AND kind = $3 AND spec = $4';

export class PostgresStudyStore implements StudyStore {
  readonly backend: StoreBackend = 'postgres';
  readonly url: string;
  readonly defaultArtifacts = IN_STORE;
  private readonly pool: pg.Pool;
  private readonly secrets: string[];
  private readonly retrySeconds: number;
  private closed = false;

  constructor(rawUrl: string, options: OpenStoreOptions) {
    this.url = redactUrl(rawUrl);
    this.secrets = urlPasswords(rawUrl);
    registerSecrets(this.secrets);
    this.retrySeconds = options.retrySeconds ?? 30;
    let config: pg.PoolConfig;
    try {
      config = { connectionString: rawUrl };
      // Parse now, so that a malformed URL fails here with a message that cannot show the password.
      new URL(rawUrl.replace(/^postgres(ql)?:\/\/\//i, 'postgres://localhost/'));
    } catch {
      throw new StoreUrlError(`the store URL '${this.url}' is not a valid PostgreSQL URL (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…])`);
    }
    // A worker stopped or cut off inside a transaction (SIGSTOP, a suspended VM, a network that drops
    // without a reset) would keep its row locks while its TCP connection lives, and the claims that
    // skip locked rows would skip its trial for good: the server ends such a session, and with it the
    // locks, after IDLE_IN_TRANSACTION_MS. sgdlab's transactions send their statements back to back.
    this.pool = new pg.Pool({ idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS, ...config, max: options.maxConnections ?? 2, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000, application_name: process.env.PGAPPNAME ?? 'sgdlab' } as pg.PoolConfig);
    // An idle connection that breaks (the server restarted) is dropped by the pool; the next query opens another.
    this.pool.on('error', () => undefined);
  }

  /** An error with the password removed from its message and stack (pg's own messages included). */
  redact(error: unknown, context?: string): Error {
    const e = error instanceof Error ? error : new Error(String(error));
    const message = redactSecrets(context ? `${context}: ${e.message}` : e.message, this.secrets);
    const out = new Error(message);
    (out as { code?: string }).code = (e as { code?: string }).code;
    out.stack = `Error: ${message}\n${redactSecrets((e.stack ?? '').split('\n').slice(1).join('\n'), this.secrets)}`;
    return out;
  }

  /** Runs `work` (a statement or a transaction), retrying transient failures with backoff for retrySeconds. */
  private async retrying<T>(work: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + 1000 * this.retrySeconds;
    for (let attempt = 0; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (!isTransient(error) || Date.now() >= deadline) throw this.redact(error, `the study store ${this.url}`);
        await sleep(Math.min(5000, 100 * 2 ** attempt, Math.max(0, deadline - Date.now())));
      }
    }
  }

  private q: Query = (sql, params = []) => this.retrying(async () => (await this.pool.query(sql, params as unknown[])).rows);

  /** One transaction on one connection (retried whole on a transient failure). */
  private tx<T>(work: (q: Query) => Promise<T>): Promise<T> {
    return this.retrying(async () => {
      const client = await this.pool.connect();
      let broken: unknown;
      // A checked-out client whose connection drops (the server restarting) emits 'error' besides failing
      // its query: without a listener that would be an uncaught exception and end the worker.
      const onError = (error: Error) => {
        broken = error;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await work(async (sql, params = []) => (await client.query(sql, params as unknown[])).rows);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        broken ??= isTransient(error) ? error : undefined;
        if (!broken) await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.removeListener('error', onError);
        client.release(broken instanceof Error ? broken : undefined);
      }
    });
  }

  async migrate(): Promise<void> {
    await this.tx(async (q) => {
      await q('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await q('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      const row = (await q('SELECT version FROM schema_version'))[0];
      const current = row ? Number(row.version) : 0;
      if (current > PG_MIGRATIONS.length) throw new Error(`the study store ${this.url} has schema version ${current}, newer than this sgdlab (${PG_MIGRATIONS.length}); upgrade sgdlab`);
      if (current === PG_MIGRATIONS.length) return;
      for (let v = current; v < PG_MIGRATIONS.length; v++) await q(PG_MIGRATIONS[v]!);
      if (row === undefined) await q('INSERT INTO schema_version (version) VALUES ($1)', [PG_MIGRATIONS.length]);
      else await q('UPDATE schema_version SET version = $1', [PG_MIGRATIONS.length]);
    });
  }

  private touch(q: Query, study: string) {
    return q('UPDATE studies SET updated_at = clock_timestamp() WHERE name = $1', [study]);
  }

  async upsertStudy(study: Study, trials: readonly Trial[]): Promise<number> {
    return this.tx(async (q) => {
      await q(`INSERT INTO studies (name, spec, created_at, updated_at) VALUES ($1, $2, clock_timestamp(), clock_timestamp())
        ON CONFLICT (name) DO UPDATE SET spec = EXCLUDED.spec, updated_at = EXCLUDED.updated_at`, [study.name, JSON.stringify(study)]);
      let added = 0;
      // In chunks of 500 rows, in the grid's order (seq keeps it for claims).
      for (let i = 0; i < trials.length; i += 500) {
        const chunk = trials.slice(i, i + 500);
        const rows = await q(`INSERT INTO trials (study, key, coordinates, config, status)
          SELECT $1, k, c, f, 'pending' FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u(k, c, f, o) ORDER BY o
          ON CONFLICT (study, key) DO NOTHING RETURNING key`,
        [study.name, chunk.map((t) => t.key), chunk.map((t) => JSON.stringify(t.coordinates)), chunk.map((t) => JSON.stringify(t.config))]);
        added += rows.length;
      }
      return added;
    });
  }

  async getStudy(name: string): Promise<{ study: Study; createdAt: string } | undefined> {
    const row = (await this.q('SELECT spec, created_at FROM studies WHERE name = $1', [name]))[0];
    return row && { study: JSON.parse(row.spec as string) as Study, createdAt: iso(row.created_at)! };
  }

  async listStudies(): Promise<StudySummary[]> {
    const studies = await this.q('SELECT name, created_at, updated_at FROM studies ORDER BY created_at, name');
    const counts = await this.q('SELECT study, status, COUNT(*) AS n FROM trials GROUP BY study, status');
    const measured = await this.q('SELECT study, status, COUNT(*) AS n FROM measurement_jobs GROUP BY study, status');
    const refused = await this.q('SELECT study, COUNT(*) AS n FROM refusals GROUP BY study');
    const active = await this.q(`SELECT study, COUNT(*) AS n FROM workers WHERE state <> 'exited' AND last_seen + make_interval(secs => lease_seconds) >= clock_timestamp() GROUP BY study`);
    return studies.map((s) => {
      const c = emptyTrialCounts();
      for (const r of counts) if (r.study === s.name) c[r.status as TrialStatus] = Number(r.n);
      const m = emptyMeasurementCounts();
      for (const r of measured) if (r.study === s.name) m[r.status as MeasurementStatus] = Number(r.n);
      return {
        name: s.name as string, createdAt: iso(s.created_at)!, updatedAt: iso(s.updated_at ?? s.created_at)!, counts: c, measurements: m,
        refused: Number(refused.find((r) => r.study === s.name)?.n ?? 0), activeWorkers: Number(active.find((r) => r.study === s.name)?.n ?? 0),
      };
    });
  }

  /**
   * One claim statement: the first row (by seq) among `where`, skipping rows other claimers have
   * locked, marked running under `worker` with the next attempt and a lease on the server's clock.
   */
  private async claimRow(table: 'trials' | 'measurement_jobs', keyColumns: string, study: string, worker: string, lease: number, where: string, extra: readonly unknown[]): Promise<Row | undefined> {
    const rows = await this.q(`WITH candidate AS (
        SELECT ${keyColumns} FROM ${table} WHERE study = $1 AND ${where} ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED),
      claimed AS (
        UPDATE ${table} t SET status = 'running', worker = $2, started_at = clock_timestamp(), attempt = t.attempt + 1, lease_until = clock_timestamp() + make_interval(secs => $3)
        FROM candidate c WHERE ${keyColumns.split(', ').map((k) => `t.${k} = c.${k}`).join(' AND ')} RETURNING t.*),
      touched AS (UPDATE studies SET updated_at = clock_timestamp() WHERE name = $1 AND EXISTS (SELECT 1 FROM claimed))
      SELECT * FROM claimed`, [study, worker, lease, ...extra]);
    return rows[0];
  }

  /** Pending first; else a running row whose lease expired or whose worker is known dead (checked here, on this host). */
  private async claimFrom(table: 'trials' | 'measurement_jobs', keyColumns: string, study: string, worker: string, options: ClaimOptions): Promise<Row | undefined> {
    const lease = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
    const pending = await this.claimRow(table, keyColumns, study, worker, lease, "status = 'pending'", []);
    if (pending) return pending;
    const alive = options.isWorkerAlive ?? (() => true);
    const holders = await this.q(`SELECT DISTINCT worker FROM ${table} WHERE study = $1 AND status = 'running' AND worker IS NOT NULL`, [study]);
    const dead = holders.map((r) => r.worker as string).filter((w) => !alive(w));
    return this.claimRow(table, keyColumns, study, worker, lease,
      "status = 'running' AND (worker IS NULL OR lease_until IS NULL OR lease_until < clock_timestamp() OR worker = ANY($4::text[]))", [dead]);
  }

  async claim(study: string, worker: string, options: ClaimOptions = {}): Promise<StoredTrial | undefined> {
    const row = await this.claimFrom('trials', 'study, key', study, worker, options);
    return row && toTrial(row);
  }

  /**
   * Inside a transaction: locks the row, runs `write` if `attempt` is its running claim, else records
   * the refusal (a retried call of the current attempt whose first reply was lost is not one).
   */
  private async fenced(q: Query, study: string, key: string, attempt: number, what: string, write: () => Promise<unknown>, job?: MeasurementJob): Promise<boolean> {
    const row = (job
      ? await q(`SELECT status, attempt, worker FROM measurement_jobs WHERE ${JOB} FOR UPDATE`, [study, job.key, job.kind, job.spec])
      : await q('SELECT status, attempt, worker FROM trials WHERE study = $1 AND key = $2 FOR UPDATE', [study, key]))[0];
    if (row && row.status === 'running' && Number(row.attempt) === attempt) {
      await write();
      await this.touch(q, study);
      return true;
    }
    if (row && Number(row.attempt) === attempt && what !== 'metrics' && row.status !== 'pending') return true;
    // Recorded once per stale attempt and kind of write (a stale worker's live metrics are refused batch after batch).
    if (row) {
      await q(`INSERT INTO refusals (study, kind, key, measurement, spec, worker, attempt, current_attempt, what, at)
        SELECT $1, $2, $3, $4::text, $5::text, $6, $7, $8, $9, clock_timestamp() WHERE NOT EXISTS (SELECT 1 FROM refusals
          WHERE study = $1 AND kind = $2 AND key = $3 AND measurement IS NOT DISTINCT FROM $4::text AND spec IS NOT DISTINCT FROM $5::text AND attempt = $7 AND what = $9)`,
      [study, job ? 'measurement' : 'trial', key, job?.kind ?? null, job?.spec ?? null, (row.worker as string | null) ?? '', attempt, Number(row.attempt), what]);
    }
    return false;
  }

  private async insertMetrics(q: Query, study: string, key: string, attempt: number, rows: readonly Metric[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 2000) {
      const chunk = rows.slice(i, i + 2000);
      await q(`INSERT INTO metrics (study, key, attempt, step, name, value)
        SELECT $1, $2, $3, s, n, v FROM unnest($4::int[], $5::text[], $6::float8[]) WITH ORDINALITY AS u(s, n, v, o) ORDER BY o
        ON CONFLICT (study, key, attempt, step, name) DO NOTHING`,
      [study, key, attempt, chunk.map((r) => r.step), chunk.map((r) => r.name), chunk.map((r) => r.value)]);
    }
  }

  private async putArtifacts(q: Query, study: string, key: string, files: readonly ArtifactFile[]): Promise<void> {
    await q('DELETE FROM artifacts WHERE study = $1 AND key = $2', [study, key]);
    for (const f of files) await q('INSERT INTO artifacts (study, key, name, data) VALUES ($1, $2, $3, $4)', [study, key, f.name, Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength)]);
  }

  async finish(study: string, key: string, attempt: number, outcome: TrialOutcome): Promise<boolean> {
    return this.tx((q) => this.fenced(q, study, key, attempt, 'finish', async () => {
      await q(`UPDATE trials SET status = $1, result = $2, seconds = $3, checkpoint = $4, finished_at = clock_timestamp(), error = NULL, lease_until = NULL WHERE study = $5 AND key = $6`,
        [outcome.status, JSON.stringify(outcome.result), outcome.seconds, outcome.checkpoint ?? null, study, key]);
      if (outcome.metrics) await this.insertMetrics(q, study, key, attempt, outcome.metrics);
      if (outcome.artifacts) await this.putArtifacts(q, study, key, outcome.artifacts);
    }));
  }

  async fail(study: string, key: string, attempt: number, error: string, seconds: number): Promise<boolean> {
    return this.tx((q) => this.fenced(q, study, key, attempt, 'fail', () =>
      q("UPDATE trials SET status = 'failed', error = $1, seconds = $2, finished_at = clock_timestamp(), lease_until = NULL WHERE study = $3 AND key = $4", [error, seconds, study, key])));
  }

  async addMetrics(study: string, key: string, attempt: number, rows: readonly Metric[]): Promise<boolean> {
    return this.tx((q) => this.fenced(q, study, key, attempt, 'metrics', () => this.insertMetrics(q, study, key, attempt, rows)));
  }

  async metrics(study: string, key: string): Promise<Metric[]> {
    const rows = await this.q(`SELECT m.step, m.name, m.value FROM metrics m JOIN trials t ON t.study = m.study AND t.key = m.key AND t.attempt = m.attempt
      WHERE m.study = $1 AND m.key = $2 ORDER BY m.seq`, [study, key]);
    return rows.map((r) => ({ step: Number(r.step), name: r.name as string, value: Number(r.value) }));
  }

  async addMeasurementJobs(study: string, jobs: readonly MeasurementJob[]): Promise<number> {
    if (jobs.length === 0) return 0;
    return this.tx(async (q) => {
      const rows = await q(`INSERT INTO measurement_jobs (study, key, kind, spec, status)
        SELECT $1, k, d, s, 'pending' FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u(k, d, s, o) ORDER BY o
        ON CONFLICT DO NOTHING RETURNING key`, [study, jobs.map((j) => j.key), jobs.map((j) => j.kind), jobs.map((j) => j.spec)]);
      if (rows.length > 0) await this.touch(q, study);
      return rows.length;
    });
  }

  async withdrawMeasurements(study: string, keep: readonly MeasurementJob[], isWorkerAlive: (worker: string) => boolean = () => true): Promise<number> {
    const wanted = new Set(keep.map(jobId));
    return this.tx(async (q) => {
      const open = await q(`SELECT key, kind, spec, status, worker, (lease_until IS NOT NULL AND lease_until >= clock_timestamp()) AS leased
        FROM measurement_jobs WHERE study = $1 AND status IN ('pending', 'running') FOR UPDATE`, [study]);
      let n = 0;
      for (const j of open) {
        if (wanted.has(jobId(j as unknown as MeasurementJob))) continue;
        if (j.status === 'running' && j.worker !== null && j.leased && isWorkerAlive(j.worker as string)) continue;
        n += (await q(`DELETE FROM measurement_jobs WHERE ${JOB} RETURNING key`, [study, j.key, j.kind, j.spec])).length;
      }
      if (n > 0) await this.touch(q, study);
      return n;
    });
  }

  async claimMeasurement(study: string, worker: string, options: ClaimOptions = {}): Promise<StoredMeasurement | undefined> {
    const row = await this.claimFrom('measurement_jobs', 'study, key, kind, spec', study, worker, options);
    return row && toMeasurement(row);
  }

  async finishMeasurement(study: string, job: MeasurementJob, attempt: number, result: Record<string, unknown>, seconds: number): Promise<boolean> {
    return this.tx((q) => this.fenced(q, study, job.key, attempt, 'finish', () =>
      q(`UPDATE measurement_jobs SET status = 'completed', result = $5, seconds = $6, finished_at = clock_timestamp(), error = NULL, lease_until = NULL WHERE ${JOB}`,
        [study, job.key, job.kind, job.spec, JSON.stringify(result), seconds]), job));
  }

  async failMeasurement(study: string, job: MeasurementJob, attempt: number, error: string, seconds: number): Promise<boolean> {
    return this.tx((q) => this.fenced(q, study, job.key, attempt, 'fail', () =>
      q(`UPDATE measurement_jobs SET status = 'failed', error = $5, seconds = $6, finished_at = clock_timestamp(), lease_until = NULL WHERE ${JOB}`,
        [study, job.key, job.kind, job.spec, error, seconds]), job));
  }

  async measurements(study: string, key?: string): Promise<StoredMeasurement[]> {
    const rows = key === undefined
      ? await this.q('SELECT * FROM measurement_jobs WHERE study = $1 ORDER BY seq', [study])
      : await this.q('SELECT * FROM measurement_jobs WHERE study = $1 AND key = $2 ORDER BY seq', [study, key]);
    return rows.map(toMeasurement);
  }

  async failHeldBy(study: string, workerPrefix: string, error: string): Promise<number> {
    const like = `${workerPrefix.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
    return this.tx(async (q) => {
      const n = (await q("UPDATE trials SET status = 'failed', error = $1, finished_at = clock_timestamp(), lease_until = NULL WHERE study = $2 AND status = 'running' AND worker LIKE $3 RETURNING key", [error, study, like])).length
        + (await q("UPDATE measurement_jobs SET status = 'failed', error = $1, finished_at = clock_timestamp(), lease_until = NULL WHERE study = $2 AND status = 'running' AND worker LIKE $3 RETURNING key", [error, study, like])).length;
      if (n > 0) await this.touch(q, study);
      return n;
    });
  }

  async trials(study: string): Promise<StoredTrial[]> {
    return (await this.q('SELECT * FROM trials WHERE study = $1 ORDER BY seq', [study])).map(toTrial);
  }

  async statuses(study: string): Promise<{ trials: { key: string; status: TrialStatus }[]; measurements: (MeasurementJob & { status: MeasurementStatus })[] }> {
    const trials = await this.q('SELECT key, status FROM trials WHERE study = $1 ORDER BY seq', [study]);
    const measurements = await this.q('SELECT key, kind, spec, status FROM measurement_jobs WHERE study = $1 ORDER BY seq', [study]);
    return { trials: trials as unknown as { key: string; status: TrialStatus }[], measurements: measurements as unknown as (MeasurementJob & { status: MeasurementStatus })[] };
  }

  async trial(study: string, key: string): Promise<StoredTrial | undefined> {
    const row = (await this.q('SELECT * FROM trials WHERE study = $1 AND key = $2', [study, key]))[0];
    return row && toTrial(row);
  }

  async heartbeat(beat: WorkerBeat, leaseSeconds: number): Promise<number> {
    return this.tx(async (q) => {
      await q(`INSERT INTO workers (id, study, host, pid, state, holds, step, total_steps, loss, rss_mb, message, lease_seconds, started_at, last_seen)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, clock_timestamp(), clock_timestamp())
        ON CONFLICT (id) DO UPDATE SET study = EXCLUDED.study, state = EXCLUDED.state, holds = EXCLUDED.holds, step = EXCLUDED.step, total_steps = EXCLUDED.total_steps,
          loss = EXCLUDED.loss, rss_mb = EXCLUDED.rss_mb, message = EXCLUDED.message, lease_seconds = EXCLUDED.lease_seconds, last_seen = EXCLUDED.last_seen`,
      [beat.id, beat.study, beat.host, beat.pid, beat.state, beat.holds === null ? null : JSON.stringify(beat.holds), beat.step, beat.totalSteps, beat.loss, beat.rssMb, beat.message, leaseSeconds]);
      const h = beat.holds;
      if (beat.state === 'exited' || h === null) return 0;
      const renew = "lease_until = clock_timestamp() + make_interval(secs => $1)";
      return h.kind === 'trial'
        ? (await q(`UPDATE trials SET ${renew} WHERE study = $2 AND key = $3 AND status = 'running' AND worker = $4 AND attempt = $5 RETURNING key`, [leaseSeconds, beat.study, h.key, beat.id, h.attempt])).length
        : (await q(`UPDATE measurement_jobs SET ${renew} WHERE study = $2 AND key = $3 AND kind = $4 AND spec = $5 AND status = 'running' AND worker = $6 AND attempt = $7 RETURNING key`,
          [leaseSeconds, beat.study, h.key, h.measurement, h.spec, beat.id, h.attempt])).length;
    });
  }

  async workers(study?: string): Promise<WorkerRecord[]> {
    const select = `SELECT *, last_seen + make_interval(secs => lease_seconds) < clock_timestamp() AS expired FROM workers`;
    const rows = study === undefined ? await this.q(`${select} ORDER BY last_seen DESC, id`) : await this.q(`${select} WHERE study = $1 ORDER BY last_seen DESC, id`, [study]);
    return rows.map((w) => ({
      id: w.id as string, study: w.study as string, host: w.host as string, pid: Number(w.pid), state: w.state as WorkerBeat['state'], holds: json(w.holds), step: num(w.step), totalSteps: num(w.total_steps),
      loss: num(w.loss), rssMb: num(w.rss_mb), message: (w.message as string | null) ?? null, leaseSeconds: Number(w.lease_seconds), startedAt: iso(w.started_at)!, lastSeen: iso(w.last_seen)!, expired: w.expired === true,
    }));
  }

  async refusals(study: string): Promise<Refusal[]> {
    return (await this.q('SELECT * FROM refusals WHERE study = $1 ORDER BY seq', [study])).map(toRefusal);
  }

  async artifact(study: string, key: string): Promise<ArtifactFile[] | undefined> {
    const rows = await this.q('SELECT name, data FROM artifacts WHERE study = $1 AND key = $2 ORDER BY name', [study, key]);
    return rows.length === 0 ? undefined : rows.map((r) => ({ name: r.name as string, data: new Uint8Array(r.data as Buffer) }));
  }

  async artifactSizes(study: string, key: string): Promise<ArtifactSize[] | undefined> {
    // octet_length() of a bytea is read from its header (TOAST's pointer for a large one): the bytes are not fetched.
    const rows = await this.q('SELECT name, octet_length(data) AS bytes FROM artifacts WHERE study = $1 AND key = $2 ORDER BY name', [study, key]);
    return rows.length === 0 ? undefined : rows.map((r) => ({ name: r.name as string, bytes: Number(r.bytes) }));
  }

  async deleteStudy(name: string): Promise<boolean> {
    return this.tx(async (q) => {
      await q('DELETE FROM workers WHERE study = $1', [name]);
      return (await q('DELETE FROM studies WHERE name = $1 RETURNING name', [name])).length > 0;
    });
  }

  async dumpStudy(name: string): Promise<StudyDump | undefined> {
    // One snapshot of the whole study (REPEATABLE READ), however many statements it takes.
    return this.tx(async (q) => {
      await q('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const s = (await q('SELECT spec, created_at FROM studies WHERE name = $1', [name]))[0];
      if (!s) return undefined;
      const trials = (await q('SELECT * FROM trials WHERE study = $1 ORDER BY seq', [name])).map(toTrial);
      const metrics = new Map<string, { key: string; attempt: number; rows: Metric[] }>();
      for (const m of await q('SELECT key, attempt, step, name, value FROM metrics WHERE study = $1 ORDER BY seq', [name])) {
        const id = `${m.key}\u0000${m.attempt}`;
        if (!metrics.has(id)) metrics.set(id, { key: m.key as string, attempt: Number(m.attempt), rows: [] });
        metrics.get(id)!.rows.push({ step: Number(m.step), name: m.name as string, value: Number(m.value) });
      }
      const measurements = (await q('SELECT * FROM measurement_jobs WHERE study = $1 ORDER BY seq', [name])).map((r) => ({ ...toMeasurement(r), startedAt: iso(r.started_at), finishedAt: iso(r.finished_at) }));
      const refusals = (await q('SELECT * FROM refusals WHERE study = $1 ORDER BY seq', [name])).map(toRefusal);
      const artifacts = new Map<string, { key: string; files: ArtifactFile[] }>();
      for (const a of await q('SELECT key, name, data FROM artifacts WHERE study = $1 ORDER BY key, name', [name])) {
        if (!artifacts.has(a.key as string)) artifacts.set(a.key as string, { key: a.key as string, files: [] });
        artifacts.get(a.key as string)!.files.push({ name: a.name as string, data: new Uint8Array(a.data as Buffer) });
      }
      return { name, spec: JSON.parse(s.spec as string) as Study, createdAt: iso(s.created_at)!, trials, metrics: [...metrics.values()], measurements, refusals, artifacts: [...artifacts.values()] };
    });
  }

  async loadStudy(dump: StudyDump): Promise<void> {
    await this.tx(async (q) => {
      if ((await q('SELECT 1 FROM studies WHERE name = $1', [dump.name])).length > 0) throw new Error(`study '${dump.name}' already exists in ${this.url}`);
      await q('INSERT INTO studies (name, spec, created_at, updated_at) VALUES ($1, $2, $3, clock_timestamp())', [dump.name, JSON.stringify(dump.spec), dump.createdAt]);
      // A trial that was running in the source is pending here: its worker writes to the source.
      for (const t of dump.trials) {
        const running = t.status === 'running';
        await q(`INSERT INTO trials (study, key, coordinates, config, status, worker, attempt, started_at, finished_at, seconds, result, error, checkpoint)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
        [dump.name, t.key, JSON.stringify(t.coordinates), JSON.stringify(t.config), running ? 'pending' : t.status, running ? null : t.worker, t.attempt, t.startedAt, t.finishedAt, t.seconds,
          t.result === null ? null : JSON.stringify(t.result), t.error, t.checkpoint]);
      }
      for (const m of dump.metrics) await this.insertMetrics(q, dump.name, m.key, m.attempt, m.rows);
      for (const m of dump.measurements) {
        const running = m.status === 'running';
        await q(`INSERT INTO measurement_jobs (study, key, kind, spec, status, worker, attempt, started_at, finished_at, seconds, result, error)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [dump.name, m.key, m.kind, m.spec, running ? 'pending' : m.status, running ? null : m.worker, m.attempt, m.startedAt, m.finishedAt, m.seconds, m.result === null ? null : JSON.stringify(m.result), m.error]);
      }
      for (const r of dump.refusals) {
        await q('INSERT INTO refusals (study, kind, key, measurement, spec, worker, attempt, current_attempt, what, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
          [dump.name, r.kind, r.key, r.measurement, r.spec, r.worker, r.attempt, r.currentAttempt, r.what, r.at]);
      }
      for (const a of dump.artifacts) await this.putArtifacts(q, dump.name, a.key, a.files);
    });
  }

  /** Ends the pool's connections; a second call does nothing (pg's pool would refuse it with an error). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.pool.end();
    } catch (error) {
      // pg's errors can quote the connection string: this one leaves the module redacted like every other.
      throw this.redact(error, `cannot close the study store ${this.url}`);
    }
  }
}
