/**
 * Who may read the dashboard. On the loopback interface without a token, anyone on this machine (as
 * Jupyter and TensorBoard do) — but only under a loopback host name, so that a web page elsewhere
 * cannot read it by pointing its own name at 127.0.0.1 (DNS rebinding). On any other interface, or
 * whenever a token is given, every request must carry the token: in the `token` query parameter (the
 * URL `sgdlab serve` prints), as `Authorization: Bearer …`, or in the cookie the first page sets,
 * which the page's own requests (scripts, API, the event stream) then carry. Tokens are compared in
 * constant time. Token or not, a request that another site's page started is refused first
 * (crossSiteRefusal).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export const isLoopback = (host: string) => LOOPBACK_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host);

/** A token for a dashboard bound to a non-loopback host without one: 144 random bits. */
export const newToken = () => randomBytes(18).toString('base64url');

/**
 * A given token's bounds. 16 characters of the URL-safe alphabet below are at least 96 bits when
 * chosen at random; 8 (the former minimum) could be a word and a year. The alphabet keeps the token
 * intact in the URL that `sgdlab serve` prints and in the cookie.
 */
export const TOKEN_LENGTH = { min: 16, max: 200 } as const;

/** What is wrong with a token given by the user (its length, never its text: it is a secret), or undefined. */
export function tokenProblem(token: string): string | undefined {
  const allowed = `${TOKEN_LENGTH.min} to ${TOKEN_LENGTH.max} characters of letters, digits, ".", "_", "~" and "-" (it travels in a URL)`;
  if (token.length < TOKEN_LENGTH.min || token.length > TOKEN_LENGTH.max) return `${token.length} characters; it must be ${allowed}`;
  if (!/^[A-Za-z0-9._~-]+$/.test(token)) return `it has characters other than letters, digits, ".", "_", "~" and "-"; it must be ${allowed}`;
  return undefined;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export const sameToken = (given: string, expected: string) => timingSafeEqual(digest(given), digest(expected));

/** The cookie that carries the token, per port (cookies are per host, not per port). */
export const tokenCookie = (port: number) => `sgdlab_token_${port}`;

export type Verdict = { ok: true; setCookie?: string } | { ok: false; status: 401 | 403; message: string };

export interface AuthRequest {
  url: URL;
  /** The Host header's host name (without the port). */
  hostname: string;
  authorization: string | undefined;
  cookies: Record<string, string>;
}

export function authorize(r: AuthRequest, config: { token: string | undefined; port: number; loopbackOnly: boolean }): Verdict {
  if (config.token === undefined) {
    if (config.loopbackOnly && !isLoopback(r.hostname)) return { ok: false, status: 403, message: `this dashboard answers on loopback host names only (127.0.0.1, localhost), not '${r.hostname}'` };
    return { ok: true };
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(r.authorization ?? '')?.[1];
  const query = r.url.searchParams.get('token') ?? undefined;
  const cookie = r.cookies[tokenCookie(config.port)];
  for (const candidate of [bearer, query, cookie]) {
    if (candidate !== undefined && sameToken(candidate, config.token)) {
      return candidate === query && candidate !== cookie
        ? { ok: true, setCookie: `${tokenCookie(config.port)}=${config.token}; Path=/; HttpOnly; SameSite=Strict` }
        : { ok: true };
    }
  }
  return { ok: false, status: 401, message: 'this dashboard needs its token: open the URL that `sgdlab serve` printed (…/?token=…), or send Authorization: Bearer TOKEN' };
}

/** The cookies of a Cookie header. */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

export interface FetchMetadata {
  /** The Sec-Fetch-* headers a browser adds to every request (absent from other clients and old browsers). */
  site: string | undefined;
  mode: string | undefined;
  dest: string | undefined;
  path: string;
}

/**
 * Why a request that another site's page started is refused, or undefined when it is not. The
 * dashboard's own pages only ever ask their own origin (same-origin), and a person opens it by typing
 * or pasting its URL, a bookmark or a link in another application (none); clients that are not
 * browsers send no Sec-Fetch-Site. Anything else was started by another page: cross-site, and
 * same-site too, since sites ignore ports (a page of any dev server on localhost is same-site with a
 * dashboard on localhost), so it is no closer to the dashboard. Refusing those before any work keeps a page
 * elsewhere from starting a report computation or holding an event stream open in a visitor's
 * browser, token or not. One exception: following a link to one of the pages (a navigation to a
 * document outside /api/), which only serves the static page; its own requests are then same-origin.
 */
export function crossSiteRefusal(r: FetchMetadata): string | undefined {
  if (r.site === undefined || r.site === 'same-origin' || r.site === 'none') return undefined;
  if (r.mode === 'navigate' && r.dest === 'document' && !r.path.startsWith('/api/')) return undefined;
  return `this dashboard answers requests from its own pages only, not ones started by another site (Sec-Fetch-Site: ${r.site.slice(0, 20)}); open its URL in the address bar`;
}
