/** The study commands' access to the store: open it for one command, and find a study there by name. */
import { openStore, type Study, type StudyStore } from '../study/index.js';
import { UsageError } from './errors.js';
import { defaultDb } from './work-options.js';

/**
 * Opens the store of --db (or $SGDLAB_DB), runs `use`, and closes it. A command run by hand retries a
 * lost connection for 10 s (workers: their lease), so a wrong host or port is reported soon.
 */
export async function withStore<T>(db: string | undefined, use: (store: StudyStore) => Promise<T>): Promise<T> {
  const store = await openStore(db ?? defaultDb(), { retrySeconds: 10 });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

export async function requireStudy(store: StudyStore, name: string): Promise<Study> {
  const found = await store.getStudy(name);
  if (!found) throw new UsageError(`no study '${name}' in ${store.url}; studies there: ${(await store.listStudies()).map((s) => s.name).join(', ') || 'none'}`);
  return found.study;
}
