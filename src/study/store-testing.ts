/**
 * Test support: the store backends every store test runs against. SQLite is a fresh file per store;
 * PostgreSQL is a fresh database per store in one throw-away cluster (pg-testing.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import type { StoreBackend } from './store.js';
import { pgCluster } from './pg-testing.js';

export interface TestBackend {
  name: StoreBackend;
  /** A URL of a new, empty store. */
  newUrl(): Promise<string>;
  /** Checks the store's own consistency after a SIGKILL (SQLite: integrity_check). */
  checkIntegrity?(url: string): Promise<void>;
}

const sqliteDir = mkdtempSync(join(tmpdir(), 'sgdlab-stores-'));
let n = 0;

export const sqliteBackend: TestBackend = {
  name: 'sqlite',
  newUrl: async () => join(sqliteDir, `store-${n++}.db`),
  checkIntegrity: async (url) => {
    const check = new Database(url, { readonly: true });
    assert.equal((check.pragma('integrity_check') as { integrity_check: string }[])[0]!.integrity_check, 'ok');
    check.close();
  },
};

export const postgresBackend: TestBackend = {
  name: 'postgres',
  newUrl: async () => (await pgCluster()).newDatabase(),
};

export function storeBackends(): TestBackend[] {
  return [sqliteBackend, postgresBackend];
}
