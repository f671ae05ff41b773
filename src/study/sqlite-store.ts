/**
 * The SQLite study store (better-sqlite3): WAL journal, synchronous=FULL so that a committed trial
 * survives SIGKILL (and power loss), numbered migrations in a schema_version table, and every write
 * in a transaction. Its algorithm is sql-store.ts's; this file is its dialect. Concurrent processes
 * share one file: every write transaction is immediate (SQLite has one writer at a time, the
 * equivalent of PostgreSQL's row lock), so two workers never take the same trial and no claim needs
 * a lock clause. Leases are epoch milliseconds of this machine's clock (one machine shares one
 * clock), read by SQL functions this connection defines (`sgdlab_now()`, `sgdlab_clock_ms()`). The
 * calls are synchronous underneath; the interface is asynchronous so that PostgreSQL can stand beside
 * it, so this connection's statements and transactions run one after another (`serially`).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Query, Row, SqlDialect, TransactionMode } from './sql-dialect.js';
import { SqlStudyStore } from './sql-store.js';
import { IN_STORE, type StoreBackend } from './store.js';

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
  // 5: a trial can be 'pruned' (stopped by the study's pruning rule). SQLite cannot alter a CHECK
  // constraint: the table is rebuilt as https://www.sqlite.org/lang_altertable.html#otheralter
  // prescribes (foreign keys off around the migration: migrate()), keeping every rowid (the insertion order).
  `CREATE TABLE trials_new (
     study TEXT NOT NULL REFERENCES studies(name) ON DELETE CASCADE,
     key TEXT NOT NULL,
     coordinates TEXT NOT NULL,
     config TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending','running','completed','diverged','failed','pruned')),
     worker TEXT, started_at TEXT, finished_at TEXT, seconds REAL,
     result TEXT, error TEXT, checkpoint TEXT,
     attempt INTEGER NOT NULL DEFAULT 0, lease_until INTEGER,
     PRIMARY KEY (study, key));
   INSERT INTO trials_new (rowid, study, key, coordinates, config, status, worker, started_at, finished_at, seconds, result, error, checkpoint, attempt, lease_until)
     SELECT rowid, study, key, coordinates, config, status, worker, started_at, finished_at, seconds, result, error, checkpoint, attempt, lease_until FROM trials;
   DROP TABLE trials;
   ALTER TABLE trials_new RENAME TO trials;
   CREATE INDEX trials_status ON trials(study, status);`,
];

/** Prepared statements kept per connection; past this many distinct texts the cache starts again. */
const MAX_STATEMENTS = 256;

/** Opens (and migrates) a SQLite store file: the dialect of SqlStudyStore for SQLite. */
export class SqliteDialect implements SqlDialect {
  readonly backend: StoreBackend = 'sqlite';
  readonly url: string;
  readonly defaultArtifacts: string;
  readonly db: Database.Database;
  readonly now = 'sgdlab_now()';
  readonly leaseNow = 'sgdlab_clock_ms()';
  readonly insertionOrder = 'rowid';
  // BEGIN IMMEDIATE already admits one writer at a time: nothing to lock row by row.
  readonly lockRows = '';
  readonly lockRowsSkipLocked = '';
  private readonly statements = new Map<string, { statement: Database.Statement; order: number[] }>();
  private queue: Promise<unknown> = Promise.resolve();

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
    // The store's clock is this process's: timestamps as ISO text, leases as epoch milliseconds.
    this.db.function('sgdlab_now', () => new Date().toISOString());
    this.db.function('sgdlab_clock_ms', () => Date.now());
    this.db.function('sgdlab_epoch_ms', (iso: unknown) => (typeof iso === 'string' ? Date.parse(iso) : null));
    this.migrate();
  }

  leaseAfter(timestamp: string, seconds: string): string {
    return `(sgdlab_epoch_ms(${timestamp}) + 1000 * ${seconds})`;
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = this.db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    const current = row?.version ?? 0;
    if (current > MIGRATIONS.length) throw new Error(`the study store ${this.path} has schema version ${current}, newer than this sgdlab (${MIGRATIONS.length}); upgrade sgdlab`);
    if (current === MIGRATIONS.length) return;
    // A migration that rebuilds a table drops it: with foreign keys on, that would delete the rows that
    // reference it (ON DELETE CASCADE). SQLite's procedure: keys off (outside the transaction), check them before COMMIT, on again.
    this.db.pragma('foreign_keys = OFF');
    try {
      this.db.transaction(() => {
        // Read again under the write lock: two processes opening a new store at once both saw version 0
        // above, and the one that waited for the lock must not run the migrations the other just ran.
        const locked = this.db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
        const from = locked?.version ?? 0;
        if (from >= MIGRATIONS.length) return;
        for (let v = from; v < MIGRATIONS.length; v++) this.db.exec(MIGRATIONS[v]!);
        const broken = this.db.pragma('foreign_key_check') as unknown[];
        if (broken.length > 0) throw new Error(`migrating the study store ${this.path} would break ${broken.length} foreign key(s): ${JSON.stringify(broken.slice(0, 3))}`);
        if (locked === undefined) this.db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(MIGRATIONS.length);
        else this.db.prepare('UPDATE schema_version SET version = ?').run(MIGRATIONS.length);
      }).immediate();
    } finally {
      this.db.pragma('foreign_keys = ON');
    }
  }

  /** The statement for `sql` written with `$n` parameters: SQLite's `?` in their order, and which value each binds. */
  private prepared(sql: string): { statement: Database.Statement; order: number[] } {
    let found = this.statements.get(sql);
    if (!found) {
      const order: number[] = [];
      const statement = this.db.prepare(sql.replace(/\$(\d+)/g, (_, n: string) => {
        order.push(Number(n) - 1);
        return '?';
      }));
      if (this.statements.size >= MAX_STATEMENTS) this.statements.clear();
      this.statements.set(sql, found = { statement, order });
    }
    return found;
  }

  private run(sql: string, params: readonly unknown[]): Row[] {
    const { statement, order } = this.prepared(sql);
    const values = order.map((i) => params[i]);
    if (statement.reader) return statement.all(...values) as Row[];
    statement.run(...values);
    return [];
  }

  /**
   * Runs `work` after every operation started before it: the connection is one, and an operation
   * awaits between its statements, so two operations of this process must not interleave there.
   */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  query: Query = (sql, params = []) => this.serially(async () => this.run(sql, params));

  write: Query = (sql, params = []) => this.transaction(async (q) => q(sql, params));

  transaction<T>(work: (q: Query) => Promise<T>, mode: TransactionMode = 'write'): Promise<T> {
    return this.serially(async () => {
      // Immediate: the write lock at BEGIN (waiting out busy_timeout), never a deferred reader upgraded mid-way.
      this.db.exec(mode === 'write' ? 'BEGIN IMMEDIATE' : 'BEGIN');
      try {
        const result = await work(async (sql, params = []) => this.run(sql, params));
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  close(): Promise<void> {
    return this.serially(async () => {
      this.db.close();
    });
  }
}

/** The SQLite study store: the store's algorithm over SQLite's dialect. */
export class SqliteStudyStore extends SqlStudyStore<SqliteDialect> {
  constructor(readonly path: string) {
    super(new SqliteDialect(path));
  }

  /** The connection (tests read the schema version through it). */
  get db(): Database.Database {
    return this.dialect.db;
  }
}
