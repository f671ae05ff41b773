/**
 * Who may read the dashboard. On the loopback interface without a token, anyone on this machine (as
 * Jupyter and TensorBoard do) — but only under a loopback host name, so that a web page elsewhere
 * cannot read it by pointing its own name at 127.0.0.1 (DNS rebinding). On any other interface, or
 * whenever a token is given, every request must carry the token: in the `token` query parameter (the
 * URL `sgdlab serve` prints), as `Authorization: Bearer …`, or in the cookie the first page sets,
 * which the page's own requests (scripts, API, the event stream) then carry. Tokens are compared in
 * constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export const isLoopback = (host: string) => LOOPBACK_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host);

/** A token for a dashboard bound to a non-loopback host without one: 144 random bits. */
export const newToken = () => randomBytes(18).toString('base64url');

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
