/**
 * What differs between the study store's two SQL backends, and nothing else: the store's algorithm
 * (claims, leases, fencing, metrics, dump and load; sql-store.ts) is written once over this interface,
 * in SQL both databases understand, and each backend (sqlite-store.ts, pg-store.ts) supplies its
 * connection, its transactions, its clock and its row locks.
 *
 * SQL is written with PostgreSQL's numbered parameters (`$1`, a number used as often as needed);
 * SQLite's dialect rewrites them to positional `?` and binds the values in that order. Row counts
 * come from `RETURNING`, which both have.
 */
import type { StoreBackend } from './store.js';

/** A row as the driver returns it (PostgreSQL: timestamps as Date, counts as strings; SQLite: text and numbers). */
export type Row = Record<string, unknown>;

/** Runs one statement with its parameters; resolves to the rows it returns (none without SELECT or RETURNING). */
export type Query = (sql: string, params?: readonly unknown[]) => Promise<Row[]>;

/**
 * 'write': a transaction that may write (SQLite: BEGIN IMMEDIATE, the one writer's lock taken at once;
 * PostgreSQL: BEGIN, row locks as statements take them). 'snapshot': a read-only view of one moment
 * however many statements it takes (SQLite: a deferred BEGIN; PostgreSQL: REPEATABLE READ READ ONLY).
 */
export type TransactionMode = 'write' | 'snapshot';

export interface SqlDialect {
  readonly backend: StoreBackend;
  /** The store's URL, password redacted. */
  readonly url: string;
  /** Where checkpoints go by default (store.ts's StudyStore.defaultArtifacts). */
  readonly defaultArtifacts: string;

  /** One statement on its own (PostgreSQL: retried on a lost connection). */
  query: Query;
  /** One writing statement as a transaction of its own (PostgreSQL: the statement alone, one round trip; SQLite: inside BEGIN IMMEDIATE, as every write). */
  write: Query;
  /** `work` in one transaction, committed if it resolves, rolled back if it throws (PostgreSQL: retried whole on a lost connection). */
  transaction<T>(work: (q: Query) => Promise<T>, mode?: TransactionMode): Promise<T>;
  close(): Promise<void>;

  /** SQL: the store's clock now, as timestamp columns (started_at, finished_at, at, last_seen…) hold it. */
  readonly now: string;
  /** SQL: the store's clock now, as `lease_until` holds it. */
  readonly leaseNow: string;
  /** SQL: the lease end `seconds` (SQL) after `timestamp` (SQL, as timestamp columns hold it), comparable with `leaseNow`. */
  leaseAfter(timestamp: string, seconds: string): string;
  /** The column that orders a table's rows as they were inserted (PostgreSQL: seq; SQLite: rowid). */
  readonly insertionOrder: string;
  /** Appended to a SELECT inside a transaction: locks the rows it reads until the end of it. */
  readonly lockRows: string;
  /** Appended to a claim's SELECT: locks the row it picks, skipping rows other claimers hold. */
  readonly lockRowsSkipLocked: string;
}
