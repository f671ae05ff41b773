/**
 * Store URLs: which backend a `--db` value names, and the same URL with its password redacted.
 * A path or `sqlite:PATH` is SQLite; `postgres://` or `postgresql://` is PostgreSQL (libpq's URL
 * form: its query parameters, `sslmode` and the rest, pass through to the driver). Passwords never
 * reach output: every message that could hold one goes through `redactSecrets`.
 */
/** A --db value that names no store: the user's input is wrong (the CLI exits 2, as for other usage errors). */
export class StoreUrlError extends Error {
  override readonly name = 'UsageError';
}

export type StoreLocation = { backend: 'sqlite'; path: string } | { backend: 'postgres'; url: string };

const POSTGRES = /^postgres(?:ql)?:\/\//i;

export function parseStoreUrl(url: string): StoreLocation {
  if (POSTGRES.test(url)) return { backend: 'postgres', url };
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new StoreUrlError("the store URL 'sqlite:' names no file (sqlite:PATH)");
    return { backend: 'sqlite', path };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new StoreUrlError(`the store URL '${redactUrl(url)}' has an unknown scheme: use a file path, sqlite:PATH or postgres://USER@HOST/DB`);
  if (url === '') throw new StoreUrlError('the store URL is empty: give a file path, sqlite:PATH or postgres://USER@HOST/DB');
  return { backend: 'sqlite', path: url };
}

/*
 * The user-info part ends at the last `@` before the host's end (the first `/`, `?` or `#`), as URL
 * parsers read it (WHATWG's, which pg uses): a password may hold `@` and `:` unencoded.
 */

/** The password of a URL (decoded), if it has one: in the user-info part, or a `password=` parameter. */
export function urlPasswords(url: string): string[] {
  const out: string[] = [];
  const userInfo = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(url)?.[1];
  const colon = userInfo?.indexOf(':') ?? -1;
  if (userInfo !== undefined && colon >= 0) out.push(userInfo.slice(colon + 1));
  for (const m of url.matchAll(/[?&]password=([^&#]*)/gi)) out.push(m[1]!);
  return out.flatMap((p) => {
    let decoded = p;
    try {
      decoded = decodeURIComponent(p);
    } catch {
      /* not percent-encoded */
    }
    return [...new Set([p, decoded])];
  }).filter((p) => p.length > 0);
}

/** The URL with its password (in the user-info part or a `password=` parameter) replaced by `***`. */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*):[^/?#]*@/i, '$1:***@')
    .replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/** `text` with every given secret (and every URL's password) replaced by `***`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) if (s.length > 0) out = out.split(s).join('***');
  return out.replace(/(postgres(?:ql)?:\/\/[^:@/?#\s]*):[^/?#\s]*@/gi, '$1:***@').replace(/([?&]password=)[^&#\s]*/gi, '$1***');
}

/** Passwords of the store URLs this process opened: every error the CLI prints is redacted of them too. */
const registered = new Set<string>();

export function registerSecrets(secrets: readonly string[]): void {
  for (const s of secrets) registered.add(s);
}

/** `text` with the passwords of every store this process opened (and of any URL in it) redacted. */
export const redactRegistered = (text: string) => redactSecrets(text, [...registered]);
