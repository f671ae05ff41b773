/**
 * The PostgreSQL study store (the `pg` driver), for studies that span machines. Its algorithm is
 * sql-store.ts's, shared with SQLite; this file is its dialect: the same numbered migrations in
 * PostgreSQL's SQL, the connection pool, transactions, the server's clock and row locks.
 *
 * Coordination is PostgreSQL's own: a claim is one statement that picks the next claimable row with
 * `FOR UPDATE SKIP LOCKED` (concurrent claimers skip each other's candidates instead of queueing
 * behind them) and marks it running with the next attempt number and a lease measured on the server's
 * clock (`clock_timestamp()`), so machines with skewed clocks agree on who holds what. A result is
 * written by an UPDATE whose WHERE is the running claim's attempt (the fencing token; the UPDATE locks
 * the row and, in READ COMMITTED, checks the row's newest version); a stale attempt's result is
 * recorded in `refusals` instead. Statements are named (prepared once per connection).
 *
 * Connection safety: SQL is parameterized only; the URL's libpq parameters (sslmode, host=/socket
 * dir, application_name…) pass through to the driver; a lost connection is retried with
 * exponential backoff for `retrySeconds`; every error leaving this module has the password redacted.
 */
import pg from 'pg';
import type { Query, SqlDialect, TransactionMode } from './sql-dialect.js';
import { SqlStudyStore } from './sql-store.js';
import { IN_STORE, type OpenStoreOptions, type StoreBackend } from './store.js';
import { StoreUrlError, redactSecrets, redactUrl, registerSecrets, urlPasswords } from './store-url.js';

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
  // 5: a trial can be 'pruned' (stopped by the study's pruning rule). The CHECK is the one migration 1
  // declared on the column (PostgreSQL names it trials_status_check).
  `ALTER TABLE trials DROP CONSTRAINT trials_status_check;
   ALTER TABLE trials ADD CONSTRAINT trials_status_check CHECK (status IN ('pending','running','completed','diverged','failed','pruned'));`,
];

/** Statements with more parameters than this are not named (PostgresDialect.statement). */
const MAX_NAMED_PARAMETERS = 16;

/** The advisory lock that serializes migrations when many workers open a fresh database at once. */
const MIGRATION_LOCK = 0x5367646c; // 'Sgdl'

/** Errors worth retrying: the connection was lost or refused, the server is restarting, or a transaction lost a race. */
function isTransient(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  if (e.code && /^(08|57P0[123]|40001|40P01|53300)/.test(e.code)) return true;
  if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOENT'].includes(e.code)) return true;
  return /Connection terminated|connection timeout|timeout expired|Client has encountered a connection error|server closed the connection|terminating connection/i.test(e.message ?? '');
}

/** PostgreSQL refusing a prepared statement whose table's columns changed since it was prepared. */
const isStalePlan = (error: unknown) => (error as { code?: string }).code === '0A000' && /cached plan must not change result type/.test((error as Error).message ?? '');

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

/** A pool of connections to one PostgreSQL database: the dialect of SqlStudyStore for PostgreSQL. */
export class PostgresDialect implements SqlDialect {
  readonly backend: StoreBackend = 'postgres';
  readonly url: string;
  readonly defaultArtifacts = IN_STORE;
  readonly now = 'clock_timestamp()';
  readonly leaseNow = 'clock_timestamp()';
  readonly insertionOrder = 'seq';
  readonly lockRows = ' FOR UPDATE';
  readonly lockRowsSkipLocked = ' FOR UPDATE SKIP LOCKED';
  readonly pool: pg.Pool;
  private readonly secrets: string[];
  private readonly retrySeconds: number;
  private closed = false;
  /** Statement names by text (statement()), and their generation: new names are prepared afresh on every connection. */
  private readonly names = new Map<string, string>();
  private generation = 1;

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
    let replanned = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        // A table changed under a prepared statement (a newer sgdlab migrated the store): the statement failed
        // before it did anything (a transaction rolled back); prepare every statement again and retry.
        if (isStalePlan(error) && !replanned) {
          replanned = true;
          this.names.clear();
          this.generation++;
          continue;
        }
        if (!isTransient(error) || Date.now() >= deadline) throw this.redact(error, `the study store ${this.url}`);
        await sleep(Math.min(5000, 100 * 2 ** attempt, Math.max(0, deadline - Date.now())));
      }
    }
  }

  leaseAfter(timestamp: string, seconds: string): string {
    return `${timestamp} + make_interval(secs => ${seconds})`;
  }

  /**
   * A statement with parameters as a named one: each connection parses and plans it once, then only
   * binds and executes it (a claim or a finish is parsed once per worker, not once per trial). Texts
   * with many parameters (multi-row inserts, one text per row count) stay unnamed: the server would keep
   * a plan of each on every connection.
   */
  private statement(sql: string, params: readonly unknown[]): pg.QueryConfig {
    if (params.length === 0 || params.length > MAX_NAMED_PARAMETERS) return { text: sql, values: params as unknown[] };
    let name = this.names.get(sql);
    if (name === undefined) this.names.set(sql, name = `sgdlab_${this.generation}_${this.names.size + 1}`);
    return { name, text: sql, values: params as unknown[] };
  }

  query: Query = (sql, params = []) => this.retrying(async () => (await this.pool.query(this.statement(sql, params))).rows);

  // A statement on its own is a transaction: nothing to add.
  write: Query = this.query;

  /** One transaction on one connection (retried whole on a transient failure). */
  transaction<T>(work: (q: Query) => Promise<T>, mode: TransactionMode = 'write'): Promise<T> {
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
        await client.query(mode === 'write' ? 'BEGIN' : 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const result = await work(async (sql, params = []) => (await client.query(this.statement(sql, params))).rows);
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
    await this.transaction(async (q) => {
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

/** The PostgreSQL study store: the store's algorithm over PostgreSQL's dialect. */
export class PostgresStudyStore extends SqlStudyStore<PostgresDialect> {
  constructor(rawUrl: string, options: OpenStoreOptions) {
    super(new PostgresDialect(rawUrl, options));
  }

  get pool(): pg.Pool {
    return this.dialect.pool;
  }

  migrate(): Promise<void> {
    return this.dialect.migrate();
  }

  redact(error: unknown, context?: string): Error {
    return this.dialect.redact(error, context);
  }

  /** One transaction (machines.test.ts holds a row lock through it). */
  tx<T>(work: (q: Query) => Promise<T>): Promise<T> {
    return this.dialect.transaction(work);
  }
}
