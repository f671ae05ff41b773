/**
 * The one way to open a study store: by URL (store-url.ts). Backends are loaded by dynamic import,
 * so that nothing above this module imports one, and a SQLite user never loads the PostgreSQL
 * driver (or the other way round).
 */
import type { OpenStoreOptions, StudyStore } from './store.js';
import { parseStoreUrl } from './store-url.js';

export type { OpenStoreOptions } from './store.js';

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<StudyStore> {
  const location = parseStoreUrl(url);
  if (location.backend === 'sqlite') {
    const { SqliteStudyStore } = await import('./sqlite-store.js');
    return new SqliteStudyStore(location.path);
  }
  const { openPostgresStore } = await import('./pg-store.js');
  return openPostgresStore(location.url, options);
}
