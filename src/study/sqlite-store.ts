/**
 * The SQLite study store (better-sqlite3): WAL journal, synchronous=FULL so that a committed trial
 * survives SIGKILL (and power loss), numbered migrations in a schema_version table, and every write
 * in a transaction. Concurrent processes share one file: claims are serialized by an immediate
 * transaction (SQLite has one writer at a time, the equivalent of PostgreSQL's row lock), so two
 * workers never take the same trial. Leases are epoch milliseconds of this machine's clock (one
 * machine shares one clock). The calls are synchronous underneath; the interface is asynchronous so
 * that PostgreSQL can stand beside it.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Study } from './schema.js';
import {
  DEFAULT_LEASE_SECONDS, IN_STORE, emptyMeasurementCounts, emptyTrialCounts, jobId, type ArtifactFile, type ArtifactSize, type ClaimOptions, type MeasurementJob, type MeasurementStatus, type Metric, type Refusal, type StoreBackend,
  type StoredMeasurement, type StoredTrial, type StudyDump, type StudyStore, type StudySummary, type TrialOutcome, type TrialStatus, type WorkerBeat, type WorkerRecord,
} from './store.js';
import type { Trial } from './trials.js';
import { readMeasurementResult, readTrialResult } from './records.js';

export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE studies (name TEXT PRIMARY KEY, spec TEXT NOT NULL, created_at TEXT NOT NULL);
   CREATE TABLE trials (
     study TEXT NOT NULL REFERENCES studies(name) ON DELETE CASCADE,
     key TEXT NOT NULL,
     coordinates TEXT NOT NULL,
     config TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending','running','completed','diverged','failed')),
     worker TEXT, started_at TEXT, finished_at TEXT, seconds REAL,
     result TEXT, error TEXT, checkpoint TEXT,
     PRIMARY KEY (study, key));
   CREATE INDEX trials_status ON trials(study, status);
   CREATE TABLE metrics (study TEXT NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL, name TEXT NOT NULL, value REAL NOT NULL,
     FOREIGN KEY (study, key) REFERENCES trials(study, key) ON DELETE CASCADE);
   CREATE INDEX metrics_trial ON metrics(study, key);
   CREATE TABLE measurements (study TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, result TEXT NOT NULL, created_at TEXT NOT NULL,
     FOREIGN KEY (study, key) REFERENCES trials(study, key) ON DELETE CASCADE);`,
  // 2: measurements become jobs (queued after training, claimed by workers, keyed by their options).
  `CREATE TABLE measurement_jobs (
     study TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, spec TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending','running','completed','failed')),
     worker TEXT, started_at TEXT, finished_at TEXT, seconds REAL, result TEXT, error TEXT,
     PRIMARY KEY (study, key, kind, spec),
     FOREIGN KEY (study, key) REFERENCES trials(study, key) ON DELETE CASCADE);
   CREATE INDEX measurement_jobs_status ON measurement_jobs(study, status);
   INSERT OR IGNORE INTO measurement_jobs (study, key, kind, spec, status, finished_at, result)
     SELECT study, key, kind, '{}', 'completed', created_at, result FROM measurements;
   DROP TABLE measurements;`,
  // 3: leases and attempts (fencing tokens) on claims, the workers' heartbeats, refused late results,
  // checkpoints kept in the store, and the study's last change.
  `ALTER TABLE studies ADD COLUMN updated_at TEXT;
   UPDATE studies SET updated_at = created_at;
   ALTER TABLE trials ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE trials ADD COLUMN lease_until INTEGER;
   ALTER TABLE measurement_jobs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE measurement_jobs ADD COLUMN lease_until INTEGER;
   ALTER TABLE metrics ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE workers (
     id TEXT PRIMARY KEY, study TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, state TEXT NOT NULL, holds TEXT,
     step INTEGER, total_steps INTEGER, loss REAL, rss_mb REAL, message TEXT,
     lease_seconds REAL NOT NULL, started_at TEXT NOT NULL, last_seen TEXT NOT NULL);
   CREATE INDEX workers_study ON workers(study);
   CREATE TABLE refusals (
     study TEXT NOT NULL REFERENCES studies(name) ON DELETE CASCADE,
     kind TEXT NOT NULL, key TEXT NOT NULL, measurement TEXT, spec TEXT, worker TEXT NOT NULL,
     attempt INTEGER NOT NULL, current_attempt INTEGER NOT NULL, what TEXT NOT NULL, at TEXT NOT NULL);
   CREATE INDEX refusals_study ON refusals(study);
   CREATE TABLE artifacts (
     study TEXT NOT NULL, key TEXT NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL,
     PRIMARY KEY (study, key, name),
     FOREIGN KEY (study, key) REFERENCES trials(study, key) ON DELETE CASCADE);`,
  // 4: a metric row is stored once per attempt, step and name, so that a write sent again (a call
  // retried after its reply was lost) adds nothing. Duplicates an earlier release stored go first.
  `DELETE FROM metrics WHERE rowid NOT IN (SELECT MIN(rowid) FROM metrics GROUP BY study, key, attempt, step, name);
   CREATE UNIQUE INDEX metrics_row ON metrics(study, key, attempt, step, name);`,
];

interface MeasurementRow {
  study: string; key: string; kind: string; spec: string; status: MeasurementStatus; worker: string | null; attempt: number; seconds: number | null; result: string | null; error: string | null;
  started_at: string | null; finished_at: string | null; lease_until: number | null;
}

const toMeasurement = (r: MeasurementRow): StoredMeasurement => ({
  key: r.key, kind: r.kind, spec: r.spec, status: r.status, worker: r.worker, attempt: r.attempt, seconds: r.seconds, result: readMeasurementResult(r.result, r.study, r.key, r.kind, r.spec), error: r.error,
});

interface TrialRow {
  study: string; key: string; coordinates: string; config: string; status: TrialStatus; worker: string | null; attempt: number; lease_until: number | null;
  started_at: string | null; finished_at: string | null; seconds: number | null; result: string | null; error: string | null; checkpoint: string | null;
}

const toTrial = (r: TrialRow): StoredTrial => ({
  study: r.study, key: r.key, coordinates: JSON.parse(r.coordinates), config: JSON.parse(r.config), status: r.status, worker: r.worker, attempt: r.attempt,
  startedAt: r.started_at, finishedAt: r.finished_at, seconds: r.seconds, result: readTrialResult(r.result, r.study, r.key), error: r.error, checkpoint: r.checkpoint,
});

interface WorkerRow {
  id: string; study: string; host: string; pid: number; state: WorkerBeat['state']; holds: string | null; step: number | null; total_steps: number | null;
  loss: number | null; rss_mb: number | null; message: string | null; lease_seconds: number; started_at: string; last_seen: string;
}

interface RefusalRow { kind: Refusal['kind']; key: string; measurement: string | null; spec: string | null; worker: string; attempt: number; current_attempt: number; what: string; at: string }

const toRefusal = (r: RefusalRow): Refusal => ({ kind: r.kind, key: r.key, measurement: r.measurement, spec: r.spec, worker: r.worker, attempt: r.attempt, currentAttempt: r.current_attempt, what: r.what, at: r.at });

const now = () => new Date().toISOString();
const JOB = 'study = ? AND key = ? AND kind = ? AND spec = ?';

export class SqliteStudyStore implements StudyStore {
  readonly backend: StoreBackend = 'sqlite';
  readonly db: Database.Database;
  readonly url: string;
  readonly defaultArtifacts: string;

  constructor(readonly path: string) {
    this.url = path;
    this.defaultArtifacts = path === ':memory:' ? IN_STORE : `${path}.checkpoints`;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    try {
      this.db = new Database(path);
    } catch (error) {
      // After a switch of Node, better-sqlite3's module is still the one built for the previous Node's ABI.
      const rebuild = (error as NodeJS.ErrnoException).code === 'ERR_DLOPEN_FAILED'
        ? `\nbetter-sqlite3's native module does not load in Node ${process.version}: run \`bash scripts/setup.sh\` in sgdlab's checkout (or \`npm rebuild better-sqlite3\`), which rebuilds it for the running Node.`
        : '';
      throw new Error(`cannot open the study store ${path}: ${(error as Error).message}${rebuild}`);
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 10000');
    this.migrate();
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = this.db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    const current = row?.version ?? 0;
    if (current > MIGRATIONS.length) throw new Error(`the study store ${this.path} has schema version ${current}, newer than this sgdlab (${MIGRATIONS.length}); upgrade sgdlab`);
    if (current === MIGRATIONS.length) return;
    this.db.transaction(() => {
      for (let v = current; v < MIGRATIONS.length; v++) this.db.exec(MIGRATIONS[v]!);
      if (row === undefined) this.db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(MIGRATIONS.length);
      else this.db.prepare('UPDATE schema_version SET version = ?').run(MIGRATIONS.length);
    }).immediate();
  }

  private touch(study: string): void {
    this.db.prepare('UPDATE studies SET updated_at = ? WHERE name = ?').run(now(), study);
  }

  async upsertStudy(study: Study, trials: readonly Trial[]): Promise<number> {
    return this.db.transaction(() => {
      const t = now();
      this.db.prepare('INSERT INTO studies (name, spec, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at').run(study.name, JSON.stringify(study), t, t);
      const insert = this.db.prepare("INSERT OR IGNORE INTO trials (study, key, coordinates, config, status) VALUES (?, ?, ?, ?, 'pending')");
      let added = 0;
      for (const trial of trials) added += insert.run(study.name, trial.key, JSON.stringify(trial.coordinates), JSON.stringify(trial.config)).changes;
      return added;
    }).immediate();
  }

  async getStudy(name: string): Promise<{ study: Study; createdAt: string } | undefined> {
    const row = this.db.prepare('SELECT spec, created_at FROM studies WHERE name = ?').get(name) as { spec: string; created_at: string } | undefined;
    return row && { study: JSON.parse(row.spec) as Study, createdAt: row.created_at };
  }

  async listStudies(): Promise<StudySummary[]> {
    const studies = this.db.prepare('SELECT name, created_at, updated_at FROM studies ORDER BY created_at, name').all() as { name: string; created_at: string; updated_at: string }[];
    const count = this.db.prepare('SELECT status, COUNT(*) AS n FROM trials WHERE study = ? GROUP BY status');
    const countMeasurements = this.db.prepare('SELECT status, COUNT(*) AS n FROM measurement_jobs WHERE study = ? GROUP BY status');
    const refused = this.db.prepare('SELECT COUNT(*) AS n FROM refusals WHERE study = ?');
    const workers = this.db.prepare("SELECT last_seen, lease_seconds FROM workers WHERE study = ? AND state != 'exited'");
    return studies.map((s) => {
      const counts = emptyTrialCounts();
      for (const r of count.all(s.name) as { status: TrialStatus; n: number }[]) counts[r.status] = r.n;
      const measurements = emptyMeasurementCounts();
      for (const r of countMeasurements.all(s.name) as { status: MeasurementStatus; n: number }[]) measurements[r.status] = r.n;
      const active = (workers.all(s.name) as { last_seen: string; lease_seconds: number }[]).filter((w) => Date.parse(w.last_seen) + 1000 * w.lease_seconds >= Date.now()).length;
      return { name: s.name, createdAt: s.created_at, updatedAt: s.updated_at ?? s.created_at, counts, measurements, refused: (refused.get(s.name) as { n: number }).n, activeWorkers: active };
    });
  }

  /** The first pending row of a queue table, else one left 'running' whose lease expired or whose worker is dead, which is taken over. */
  private nextClaimable<R extends { worker: string | null; lease_until: number | null }>(table: 'trials' | 'measurement_jobs', study: string, isWorkerAlive: (worker: string) => boolean): R | undefined {
    const pending = this.db.prepare(`SELECT * FROM ${table} WHERE study = ? AND status = 'pending' ORDER BY rowid LIMIT 1`).get(study) as R | undefined;
    if (pending) return pending;
    const t = Date.now();
    return (this.db.prepare(`SELECT * FROM ${table} WHERE study = ? AND status = 'running' ORDER BY rowid`).all(study) as R[])
      .find((r) => r.worker === null || r.lease_until === null || r.lease_until < t || !isWorkerAlive(r.worker));
  }

  async claim(study: string, worker: string, options: ClaimOptions = {}): Promise<StoredTrial | undefined> {
    const lease = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
    return this.db.transaction(() => {
      const row = this.nextClaimable<TrialRow>('trials', study, options.isWorkerAlive ?? (() => true));
      if (!row) return undefined;
      const startedAt = now();
      this.db.prepare("UPDATE trials SET status = 'running', worker = ?, started_at = ?, attempt = attempt + 1, lease_until = ? WHERE study = ? AND key = ?").run(worker, startedAt, Date.now() + 1000 * lease, study, row.key);
      this.touch(study);
      return toTrial({ ...row, status: 'running', worker, attempt: row.attempt + 1, started_at: startedAt });
    }).immediate();
  }

  /** Runs `write` if `attempt` is still the trial's running claim; otherwise records the refusal. Inside a transaction. */
  private fenced(study: string, key: string, attempt: number, what: string, write: () => void, job?: MeasurementJob): boolean {
    const row = (job
      ? this.db.prepare(`SELECT status, attempt, worker FROM measurement_jobs WHERE ${JOB}`).get(study, job.key, job.kind, job.spec)
      : this.db.prepare('SELECT status, attempt, worker FROM trials WHERE study = ? AND key = ?').get(study, key)) as { status: string; attempt: number; worker: string | null } | undefined;
    if (row && row.status === 'running' && row.attempt === attempt) {
      write();
      this.touch(study);
      return true;
    }
    // The current attempt's result sent again (a call retried after its reply was lost) is already stored.
    if (row && row.attempt === attempt && what !== 'metrics' && row.status !== 'pending') return true;
    // Recorded once per stale attempt and kind of write: a stale worker still training sends its live
    // metrics again and again, each refused, and one line says so.
    if (row) {
      this.db.prepare(`INSERT INTO refusals (study, kind, key, measurement, spec, worker, attempt, current_attempt, what, at)
        SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM refusals WHERE study = ? AND kind = ? AND key = ? AND measurement IS ? AND spec IS ? AND attempt = ? AND what = ?)`)
        .run(study, job ? 'measurement' : 'trial', key, job?.kind ?? null, job?.spec ?? null, row.worker ?? '', attempt, row.attempt, what, now(),
          study, job ? 'measurement' : 'trial', key, job?.kind ?? null, job?.spec ?? null, attempt, what);
    }
    return false;
  }

  private insertMetrics(study: string, key: string, attempt: number, rows: readonly Metric[]): void {
    // Rows already stored (the same write sent again) are skipped: the first value of a step's metric stays.
    const insert = this.db.prepare('INSERT INTO metrics (study, key, attempt, step, name, value) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (study, key, attempt, step, name) DO NOTHING');
    for (const r of rows) insert.run(study, key, attempt, r.step, r.name, r.value);
  }

  async finish(study: string, key: string, attempt: number, outcome: TrialOutcome): Promise<boolean> {
    return this.db.transaction(() => this.fenced(study, key, attempt, 'finish', () => {
      this.db.prepare('UPDATE trials SET status = ?, result = ?, seconds = ?, checkpoint = ?, finished_at = ?, error = NULL, lease_until = NULL WHERE study = ? AND key = ?')
        .run(outcome.status, JSON.stringify(outcome.result), outcome.seconds, outcome.checkpoint ?? null, now(), study, key);
      if (outcome.metrics) this.insertMetrics(study, key, attempt, outcome.metrics);
      if (outcome.artifacts) this.putArtifacts(study, key, outcome.artifacts);
    })).immediate();
  }

  private putArtifacts(study: string, key: string, files: readonly ArtifactFile[]): void {
    this.db.prepare('DELETE FROM artifacts WHERE study = ? AND key = ?').run(study, key);
    const insert = this.db.prepare('INSERT INTO artifacts (study, key, name, data) VALUES (?, ?, ?, ?)');
    for (const f of files) insert.run(study, key, f.name, Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength));
  }

  async fail(study: string, key: string, attempt: number, error: string, seconds: number): Promise<boolean> {
    return this.db.transaction(() => this.fenced(study, key, attempt, 'fail', () => {
      this.db.prepare("UPDATE trials SET status = 'failed', error = ?, seconds = ?, finished_at = ?, lease_until = NULL WHERE study = ? AND key = ?").run(error, seconds, now(), study, key);
    })).immediate();
  }

  async addMetrics(study: string, key: string, attempt: number, rows: readonly Metric[]): Promise<boolean> {
    return this.db.transaction(() => this.fenced(study, key, attempt, 'metrics', () => this.insertMetrics(study, key, attempt, rows))).immediate();
  }

  async metrics(study: string, key: string): Promise<Metric[]> {
    return this.db.prepare('SELECT m.step, m.name, m.value FROM metrics m JOIN trials t ON t.study = m.study AND t.key = m.key AND t.attempt = m.attempt WHERE m.study = ? AND m.key = ? ORDER BY m.rowid')
      .all(study, key) as Metric[];
  }

  async addMeasurementJobs(study: string, jobs: readonly MeasurementJob[]): Promise<number> {
    const insert = this.db.prepare("INSERT OR IGNORE INTO measurement_jobs (study, key, kind, spec, status) VALUES (?, ?, ?, ?, 'pending')");
    return this.db.transaction(() => {
      const added = jobs.reduce((n, j) => n + insert.run(study, j.key, j.kind, j.spec).changes, 0);
      if (added > 0) this.touch(study);
      return added;
    }).immediate();
  }

  async withdrawMeasurements(study: string, keep: readonly MeasurementJob[], isWorkerAlive: (worker: string) => boolean = () => true): Promise<number> {
    const wanted = new Set(keep.map(jobId));
    return this.db.transaction(() => {
      const open = this.db.prepare("SELECT key, kind, spec, status, worker, lease_until FROM measurement_jobs WHERE study = ? AND status IN ('pending', 'running')").all(study) as MeasurementRow[];
      const remove = this.db.prepare(`DELETE FROM measurement_jobs WHERE ${JOB}`);
      const t = Date.now();
      let n = 0;
      for (const j of open) {
        if (wanted.has(jobId(j))) continue;
        if (j.status === 'running' && j.worker !== null && j.lease_until !== null && j.lease_until >= t && isWorkerAlive(j.worker)) continue;
        n += remove.run(study, j.key, j.kind, j.spec).changes;
      }
      if (n > 0) this.touch(study);
      return n;
    }).immediate();
  }

  async claimMeasurement(study: string, worker: string, options: ClaimOptions = {}): Promise<StoredMeasurement | undefined> {
    const lease = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
    return this.db.transaction(() => {
      const row = this.nextClaimable<MeasurementRow>('measurement_jobs', study, options.isWorkerAlive ?? (() => true));
      if (!row) return undefined;
      this.db.prepare(`UPDATE measurement_jobs SET status = 'running', worker = ?, started_at = ?, attempt = attempt + 1, lease_until = ? WHERE ${JOB}`).run(worker, now(), Date.now() + 1000 * lease, study, row.key, row.kind, row.spec);
      this.touch(study);
      return toMeasurement({ ...row, status: 'running', worker, attempt: row.attempt + 1 });
    }).immediate();
  }

  async finishMeasurement(study: string, job: MeasurementJob, attempt: number, result: Record<string, unknown>, seconds: number): Promise<boolean> {
    return this.db.transaction(() => this.fenced(study, job.key, attempt, 'finish', () => {
      this.db.prepare(`UPDATE measurement_jobs SET status = 'completed', result = ?, seconds = ?, finished_at = ?, error = NULL, lease_until = NULL WHERE ${JOB}`)
        .run(JSON.stringify(result), seconds, now(), study, job.key, job.kind, job.spec);
    }, job)).immediate();
  }

  async failMeasurement(study: string, job: MeasurementJob, attempt: number, error: string, seconds: number): Promise<boolean> {
    return this.db.transaction(() => this.fenced(study, job.key, attempt, 'fail', () => {
      this.db.prepare(`UPDATE measurement_jobs SET status = 'failed', error = ?, seconds = ?, finished_at = ?, lease_until = NULL WHERE ${JOB}`).run(error, seconds, now(), study, job.key, job.kind, job.spec);
    }, job)).immediate();
  }

  async measurements(study: string, key?: string): Promise<StoredMeasurement[]> {
    const rows = key === undefined
      ? this.db.prepare('SELECT * FROM measurement_jobs WHERE study = ? ORDER BY rowid').all(study)
      : this.db.prepare('SELECT * FROM measurement_jobs WHERE study = ? AND key = ? ORDER BY rowid').all(study, key);
    return (rows as MeasurementRow[]).map(toMeasurement);
  }

  async failHeldBy(study: string, workerPrefix: string, error: string): Promise<number> {
    const like = `${workerPrefix.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
    return this.db.transaction(() => {
      const n = this.db.prepare("UPDATE trials SET status = 'failed', error = ?, finished_at = ?, lease_until = NULL WHERE study = ? AND status = 'running' AND worker LIKE ? ESCAPE '\\'").run(error, now(), study, like).changes +
        this.db.prepare("UPDATE measurement_jobs SET status = 'failed', error = ?, finished_at = ?, lease_until = NULL WHERE study = ? AND status = 'running' AND worker LIKE ? ESCAPE '\\'").run(error, now(), study, like).changes;
      if (n > 0) this.touch(study);
      return n;
    }).immediate();
  }

  async trials(study: string): Promise<StoredTrial[]> {
    return (this.db.prepare('SELECT * FROM trials WHERE study = ? ORDER BY rowid').all(study) as TrialRow[]).map(toTrial);
  }

  async statuses(study: string): Promise<{ trials: { key: string; status: TrialStatus }[]; measurements: (MeasurementJob & { status: MeasurementStatus })[] }> {
    return {
      trials: this.db.prepare('SELECT key, status FROM trials WHERE study = ? ORDER BY rowid').all(study) as { key: string; status: TrialStatus }[],
      measurements: this.db.prepare('SELECT key, kind, spec, status FROM measurement_jobs WHERE study = ? ORDER BY rowid').all(study) as (MeasurementJob & { status: MeasurementStatus })[],
    };
  }

  async trial(study: string, key: string): Promise<StoredTrial | undefined> {
    const row = this.db.prepare('SELECT * FROM trials WHERE study = ? AND key = ?').get(study, key) as TrialRow | undefined;
    return row && toTrial(row);
  }

  async heartbeat(beat: WorkerBeat, leaseSeconds: number): Promise<number> {
    return this.db.transaction(() => {
      const t = now();
      this.db.prepare(`INSERT INTO workers (id, study, host, pid, state, holds, step, total_steps, loss, rss_mb, message, lease_seconds, started_at, last_seen)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET study = excluded.study, state = excluded.state, holds = excluded.holds, step = excluded.step, total_steps = excluded.total_steps,
          loss = excluded.loss, rss_mb = excluded.rss_mb, message = excluded.message, lease_seconds = excluded.lease_seconds, last_seen = excluded.last_seen`)
        .run(beat.id, beat.study, beat.host, beat.pid, beat.state, beat.holds === null ? null : JSON.stringify(beat.holds), beat.step, beat.totalSteps, beat.loss, beat.rssMb, beat.message, leaseSeconds, t, t);
      const h = beat.holds;
      if (beat.state === 'exited' || h === null) return 0;
      // Only the claim it holds now (key and attempt): a claim it lost, or one whose reply it never got, is not renewed.
      const until = Date.now() + 1000 * leaseSeconds;
      return h.kind === 'trial'
        ? this.db.prepare("UPDATE trials SET lease_until = ? WHERE study = ? AND key = ? AND status = 'running' AND worker = ? AND attempt = ?").run(until, beat.study, h.key, beat.id, h.attempt).changes
        : this.db.prepare(`UPDATE measurement_jobs SET lease_until = ? WHERE ${JOB} AND status = 'running' AND worker = ? AND attempt = ?`).run(until, beat.study, h.key, h.measurement, h.spec, beat.id, h.attempt).changes;
    }).immediate();
  }

  async workers(study?: string): Promise<WorkerRecord[]> {
    const rows = (study === undefined
      ? this.db.prepare('SELECT * FROM workers ORDER BY last_seen DESC, id').all()
      : this.db.prepare('SELECT * FROM workers WHERE study = ? ORDER BY last_seen DESC, id').all(study)) as WorkerRow[];
    const t = Date.now();
    return rows.map((w) => ({
      id: w.id, study: w.study, host: w.host, pid: w.pid, state: w.state, holds: w.holds === null ? null : JSON.parse(w.holds), step: w.step, totalSteps: w.total_steps,
      loss: w.loss, rssMb: w.rss_mb, message: w.message, leaseSeconds: w.lease_seconds, startedAt: w.started_at, lastSeen: w.last_seen,
      expired: Date.parse(w.last_seen) + 1000 * w.lease_seconds < t,
    }));
  }

  async refusals(study: string): Promise<Refusal[]> {
    return (this.db.prepare('SELECT * FROM refusals WHERE study = ? ORDER BY rowid').all(study) as RefusalRow[]).map(toRefusal);
  }

  async artifact(study: string, key: string): Promise<ArtifactFile[] | undefined> {
    const rows = this.db.prepare('SELECT name, data FROM artifacts WHERE study = ? AND key = ? ORDER BY name').all(study, key) as { name: string; data: Buffer }[];
    return rows.length === 0 ? undefined : rows.map((r) => ({ name: r.name, data: new Uint8Array(r.data) }));
  }

  async artifactSizes(study: string, key: string): Promise<ArtifactSize[] | undefined> {
    // length() of a BLOB is read from the row's header: the bytes stay on disk.
    const rows = this.db.prepare('SELECT name, length(data) AS bytes FROM artifacts WHERE study = ? AND key = ? ORDER BY name').all(study, key) as ArtifactSize[];
    return rows.length === 0 ? undefined : rows;
  }

  async deleteStudy(name: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM workers WHERE study = ?').run(name);
      return this.db.prepare('DELETE FROM studies WHERE name = ?').run(name).changes > 0;
    }).immediate();
  }

  async dumpStudy(name: string): Promise<StudyDump | undefined> {
    return this.db.transaction(() => {
      const s = this.db.prepare('SELECT spec, created_at FROM studies WHERE name = ?').get(name) as { spec: string; created_at: string } | undefined;
      if (!s) return undefined;
      const trials = (this.db.prepare('SELECT * FROM trials WHERE study = ? ORDER BY rowid').all(name) as TrialRow[]).map(toTrial);
      const metrics = new Map<string, { key: string; attempt: number; rows: Metric[] }>();
      for (const m of this.db.prepare('SELECT key, attempt, step, name, value FROM metrics WHERE study = ? ORDER BY rowid').all(name) as (Metric & { key: string; attempt: number })[]) {
        const id = `${m.key}\u0000${m.attempt}`;
        if (!metrics.has(id)) metrics.set(id, { key: m.key, attempt: m.attempt, rows: [] });
        metrics.get(id)!.rows.push({ step: m.step, name: m.name, value: m.value });
      }
      const measurements = (this.db.prepare('SELECT * FROM measurement_jobs WHERE study = ? ORDER BY rowid').all(name) as MeasurementRow[])
        .map((r) => ({ ...toMeasurement(r), startedAt: r.started_at, finishedAt: r.finished_at }));
      const refusals = (this.db.prepare('SELECT * FROM refusals WHERE study = ? ORDER BY rowid').all(name) as RefusalRow[]).map(toRefusal);
      const artifacts = new Map<string, { key: string; files: ArtifactFile[] }>();
      for (const a of this.db.prepare('SELECT key, name, data FROM artifacts WHERE study = ? ORDER BY key, name').all(name) as { key: string; name: string; data: Buffer }[]) {
        if (!artifacts.has(a.key)) artifacts.set(a.key, { key: a.key, files: [] });
        artifacts.get(a.key)!.files.push({ name: a.name, data: new Uint8Array(a.data) });
      }
      return { name, spec: JSON.parse(s.spec) as Study, createdAt: s.created_at, trials, metrics: [...metrics.values()], measurements, refusals, artifacts: [...artifacts.values()] };
    })();
  }

  async loadStudy(dump: StudyDump): Promise<void> {
    this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM studies WHERE name = ?').get(dump.name)) throw new Error(`study '${dump.name}' already exists in ${this.url}`);
      this.db.prepare('INSERT INTO studies (name, spec, created_at, updated_at) VALUES (?, ?, ?, ?)').run(dump.name, JSON.stringify(dump.spec), dump.createdAt, now());
      const trial = this.db.prepare(`INSERT INTO trials (study, key, coordinates, config, status, worker, attempt, started_at, finished_at, seconds, result, error, checkpoint)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      // A trial that was running in the source is pending here: its worker writes to the source.
      for (const t of dump.trials) {
        const running = t.status === 'running';
        trial.run(dump.name, t.key, JSON.stringify(t.coordinates), JSON.stringify(t.config), running ? 'pending' : t.status, running ? null : t.worker, t.attempt, t.startedAt, t.finishedAt, t.seconds,
          t.result === null ? null : JSON.stringify(t.result), t.error, t.checkpoint);
      }
      for (const m of dump.metrics) this.insertMetrics(dump.name, m.key, m.attempt, m.rows);
      const job = this.db.prepare(`INSERT INTO measurement_jobs (study, key, kind, spec, status, worker, attempt, started_at, finished_at, seconds, result, error)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const m of dump.measurements) {
        const running = m.status === 'running';
        job.run(dump.name, m.key, m.kind, m.spec, running ? 'pending' : m.status, running ? null : m.worker, m.attempt, m.startedAt, m.finishedAt, m.seconds, m.result === null ? null : JSON.stringify(m.result), m.error);
      }
      const refusal = this.db.prepare('INSERT INTO refusals (study, kind, key, measurement, spec, worker, attempt, current_attempt, what, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
      for (const r of dump.refusals) refusal.run(dump.name, r.kind, r.key, r.measurement, r.spec, r.worker, r.attempt, r.currentAttempt, r.what, r.at);
      for (const a of dump.artifacts) this.putArtifacts(dump.name, a.key, a.files);
    }).immediate();
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
