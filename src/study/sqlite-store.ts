/**
 * The SQLite study store (better-sqlite3): WAL journal, synchronous=FULL so that a committed trial
 * survives SIGKILL (and power loss), numbered migrations in a schema_version table, and every write
 * in a transaction. Concurrent processes share one file: claims are serialized by an immediate
 * transaction, so two workers never take the same trial.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Study } from './schema.js';
import type { MeasurementStatus, StoredMeasurement, StoredTrial, StudyStore, TrialStatus } from './store.js';
import type { Trial } from './trials.js';

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
];

interface MeasurementRow {
  key: string; kind: string; spec: string; status: StoredMeasurement['status']; worker: string | null; seconds: number | null; result: string | null; error: string | null;
}

const toMeasurement = (r: MeasurementRow): StoredMeasurement => ({
  key: r.key, kind: r.kind, spec: r.spec, status: r.status, worker: r.worker, seconds: r.seconds, result: r.result === null ? null : JSON.parse(r.result), error: r.error,
});

interface TrialRow {
  study: string; key: string; coordinates: string; config: string; status: TrialStatus; worker: string | null;
  started_at: string | null; finished_at: string | null; seconds: number | null; result: string | null; error: string | null; checkpoint: string | null;
}

const toTrial = (r: TrialRow): StoredTrial => ({
  study: r.study, key: r.key, coordinates: JSON.parse(r.coordinates), config: JSON.parse(r.config), status: r.status, worker: r.worker,
  startedAt: r.started_at, finishedAt: r.finished_at, seconds: r.seconds, result: r.result === null ? null : JSON.parse(r.result), error: r.error, checkpoint: r.checkpoint,
});

const now = () => new Date().toISOString();

export class SqliteStudyStore implements StudyStore {
  readonly db: Database.Database;

  constructor(readonly path: string) {
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
    this.db.transaction(() => {
      for (let v = current; v < MIGRATIONS.length; v++) this.db.exec(MIGRATIONS[v]!);
      if (row === undefined) this.db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(MIGRATIONS.length);
      else this.db.prepare('UPDATE schema_version SET version = ?').run(MIGRATIONS.length);
    })();
  }

  upsertStudy(study: Study, trials: readonly Trial[]): number {
    return this.db.transaction(() => {
      this.db.prepare('INSERT INTO studies (name, spec, created_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET spec = excluded.spec').run(study.name, JSON.stringify(study), now());
      const insert = this.db.prepare("INSERT OR IGNORE INTO trials (study, key, coordinates, config, status) VALUES (?, ?, ?, ?, 'pending')");
      let added = 0;
      for (const t of trials) added += insert.run(study.name, t.key, JSON.stringify(t.coordinates), JSON.stringify(t.config)).changes;
      return added;
    }).immediate();
  }

  getStudy(name: string): { study: Study; createdAt: string } | undefined {
    const row = this.db.prepare('SELECT spec, created_at FROM studies WHERE name = ?').get(name) as { spec: string; created_at: string } | undefined;
    return row && { study: JSON.parse(row.spec) as Study, createdAt: row.created_at };
  }

  listStudies(): { name: string; createdAt: string; counts: Record<TrialStatus, number>; measurements: Record<MeasurementStatus, number> }[] {
    const studies = this.db.prepare('SELECT name, created_at FROM studies ORDER BY created_at').all() as { name: string; created_at: string }[];
    const count = this.db.prepare('SELECT status, COUNT(*) AS n FROM trials WHERE study = ? GROUP BY status');
    const countMeasurements = this.db.prepare('SELECT status, COUNT(*) AS n FROM measurement_jobs WHERE study = ? GROUP BY status');
    return studies.map((s) => {
      const counts: Record<TrialStatus, number> = { pending: 0, running: 0, completed: 0, diverged: 0, failed: 0 };
      for (const r of count.all(s.name) as { status: TrialStatus; n: number }[]) counts[r.status] = r.n;
      const measurements: Record<MeasurementStatus, number> = { pending: 0, running: 0, completed: 0, failed: 0 };
      for (const r of countMeasurements.all(s.name) as { status: MeasurementStatus; n: number }[]) measurements[r.status] = r.n;
      return { name: s.name, createdAt: s.created_at, counts, measurements };
    });
  }

  /** The first pending row of a queue table, else one left 'running' by a worker that no longer exists (killed), which is taken over. */
  private nextClaimable<R extends { worker: string | null }>(table: 'trials' | 'measurement_jobs', study: string, isWorkerAlive: (worker: string) => boolean): R | undefined {
    const pending = this.db.prepare(`SELECT * FROM ${table} WHERE study = ? AND status = 'pending' ORDER BY rowid LIMIT 1`).get(study) as R | undefined;
    if (pending) return pending;
    return (this.db.prepare(`SELECT * FROM ${table} WHERE study = ? AND status = 'running' ORDER BY rowid`).all(study) as R[]).find((r) => r.worker === null || !isWorkerAlive(r.worker));
  }

  claim(study: string, worker: string, isWorkerAlive: (worker: string) => boolean = () => false): StoredTrial | undefined {
    return this.db.transaction(() => {
      const row = this.nextClaimable<TrialRow>('trials', study, isWorkerAlive);
      if (!row) return undefined;
      this.db.prepare("UPDATE trials SET status = 'running', worker = ?, started_at = ? WHERE study = ? AND key = ?").run(worker, now(), study, row.key);
      return toTrial({ ...row, status: 'running', worker });
    }).immediate();
  }

  finish(study: string, key: string, outcome: { status: 'completed' | 'diverged'; result: Record<string, unknown>; seconds: number; checkpoint?: string }): void {
    this.db.prepare('UPDATE trials SET status = ?, result = ?, seconds = ?, checkpoint = ?, finished_at = ?, error = NULL WHERE study = ? AND key = ?')
      .run(outcome.status, JSON.stringify(outcome.result), outcome.seconds, outcome.checkpoint ?? null, now(), study, key);
  }

  fail(study: string, key: string, error: string, seconds: number): void {
    this.db.prepare("UPDATE trials SET status = 'failed', error = ?, seconds = ?, finished_at = ? WHERE study = ? AND key = ?").run(error, seconds, now(), study, key);
  }

  addMetrics(study: string, key: string, rows: readonly { step: number; name: string; value: number }[]): void {
    const insert = this.db.prepare('INSERT INTO metrics (study, key, step, name, value) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const r of rows) insert.run(study, key, r.step, r.name, r.value);
    })();
  }

  metrics(study: string, key: string): { step: number; name: string; value: number }[] {
    return this.db.prepare('SELECT step, name, value FROM metrics WHERE study = ? AND key = ? ORDER BY rowid').all(study, key) as { step: number; name: string; value: number }[];
  }

  addMeasurementJobs(study: string, jobs: readonly { key: string; kind: string; spec: string }[]): number {
    const insert = this.db.prepare("INSERT OR IGNORE INTO measurement_jobs (study, key, kind, spec, status) VALUES (?, ?, ?, ?, 'pending')");
    return this.db.transaction(() => jobs.reduce((added, j) => added + insert.run(study, j.key, j.kind, j.spec).changes, 0)).immediate();
  }

  withdrawMeasurements(study: string, keep: readonly { key: string; kind: string; spec: string }[], isWorkerAlive: (worker: string) => boolean = () => false): number {
    const wanted = new Set(keep.map((j) => `${j.key}\u0000${j.kind}\u0000${j.spec}`));
    return this.db.transaction(() => {
      const open = this.db.prepare("SELECT key, kind, spec, status, worker FROM measurement_jobs WHERE study = ? AND status IN ('pending', 'running')").all(study) as { key: string; kind: string; spec: string; status: string; worker: string | null }[];
      const remove = this.db.prepare('DELETE FROM measurement_jobs WHERE study = ? AND key = ? AND kind = ? AND spec = ?');
      let n = 0;
      for (const j of open) {
        if (wanted.has(`${j.key}\u0000${j.kind}\u0000${j.spec}`)) continue;
        if (j.status === 'running' && j.worker !== null && isWorkerAlive(j.worker)) continue;
        n += remove.run(study, j.key, j.kind, j.spec).changes;
      }
      return n;
    }).immediate();
  }

  claimMeasurement(study: string, worker: string, isWorkerAlive: (worker: string) => boolean = () => false): StoredMeasurement | undefined {
    return this.db.transaction(() => {
      const row = this.nextClaimable<MeasurementRow>('measurement_jobs', study, isWorkerAlive);
      if (!row) return undefined;
      this.db.prepare("UPDATE measurement_jobs SET status = 'running', worker = ?, started_at = ? WHERE study = ? AND key = ? AND kind = ? AND spec = ?").run(worker, now(), study, row.key, row.kind, row.spec);
      return toMeasurement({ ...row, status: 'running', worker });
    }).immediate();
  }

  finishMeasurement(study: string, job: { key: string; kind: string; spec: string }, result: Record<string, unknown>, seconds: number): void {
    this.db.prepare("UPDATE measurement_jobs SET status = 'completed', result = ?, seconds = ?, finished_at = ?, error = NULL WHERE study = ? AND key = ? AND kind = ? AND spec = ?")
      .run(JSON.stringify(result), seconds, now(), study, job.key, job.kind, job.spec);
  }

  failMeasurement(study: string, job: { key: string; kind: string; spec: string }, error: string, seconds: number): void {
    this.db.prepare("UPDATE measurement_jobs SET status = 'failed', error = ?, seconds = ?, finished_at = ? WHERE study = ? AND key = ? AND kind = ? AND spec = ?")
      .run(error, seconds, now(), study, job.key, job.kind, job.spec);
  }

  measurements(study: string, key?: string): StoredMeasurement[] {
    const rows = key === undefined
      ? this.db.prepare('SELECT * FROM measurement_jobs WHERE study = ? ORDER BY rowid').all(study)
      : this.db.prepare('SELECT * FROM measurement_jobs WHERE study = ? AND key = ? ORDER BY rowid').all(study, key);
    return (rows as MeasurementRow[]).map(toMeasurement);
  }

  failHeldBy(study: string, workerPrefix: string, error: string): number {
    const like = `${workerPrefix.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
    return this.db.transaction(() =>
      this.db.prepare("UPDATE trials SET status = 'failed', error = ?, finished_at = ? WHERE study = ? AND status = 'running' AND worker LIKE ? ESCAPE '\\'").run(error, now(), study, like).changes +
      this.db.prepare("UPDATE measurement_jobs SET status = 'failed', error = ?, finished_at = ? WHERE study = ? AND status = 'running' AND worker LIKE ? ESCAPE '\\'").run(error, now(), study, like).changes).immediate();
  }

  trials(study: string): StoredTrial[] {
    return (this.db.prepare('SELECT * FROM trials WHERE study = ? ORDER BY rowid').all(study) as TrialRow[]).map(toTrial);
  }

  statuses(study: string): { trials: { key: string; status: TrialStatus }[]; measurements: { key: string; kind: string; spec: string; status: MeasurementStatus }[] } {
    return {
      trials: this.db.prepare('SELECT key, status FROM trials WHERE study = ?').all(study) as { key: string; status: TrialStatus }[],
      measurements: this.db.prepare('SELECT key, kind, spec, status FROM measurement_jobs WHERE study = ?').all(study) as { key: string; kind: string; spec: string; status: MeasurementStatus }[],
    };
  }

  trial(study: string, key: string): StoredTrial | undefined {
    const row = this.db.prepare('SELECT * FROM trials WHERE study = ? AND key = ?').get(study, key) as TrialRow | undefined;
    return row && toTrial(row);
  }

  deleteStudy(name: string): boolean {
    return this.db.prepare('DELETE FROM studies WHERE name = ?').run(name).changes > 0;
  }

  close(): void {
    this.db.close();
  }
}
