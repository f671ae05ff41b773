/**
 * The dashboard's guards, in the order a request meets them: security headers on every answer; then,
 * before the token and any work, a refusal of requests that another site's page started (auth.ts says
 * why); then the token (or its cookie) and the host, and the read-only rule (only GET and HEAD).
 */
import type { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { authorize, crossSiteRefusal, isLoopback, parseCookies } from './auth.js';

export interface GuardOptions {
  host: string;
  /** Required on every request when set. */
  token: string | undefined;
  /** The port the server listens on (known only once it listens, when it was asked for any free port). */
  portNow: () => number;
}

export function securityGuards(app: Hono, options: GuardOptions): void {
  const loopbackOnly = isLoopback(options.host);
  app.use(secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:', 'blob:'],
      connectSrc: ["'self'"], fontSrc: ["'self'"], baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"],
    },
    referrerPolicy: 'no-referrer',
    crossOriginResourcePolicy: 'same-origin',
    crossOriginOpenerPolicy: 'same-origin',
  }));

  app.use(async (c, next) => {
    const refusal = crossSiteRefusal({
      site: c.req.header('sec-fetch-site'), mode: c.req.header('sec-fetch-mode'), dest: c.req.header('sec-fetch-dest'), path: c.req.path,
    });
    if (refusal) return c.text(refusal, 403);
    await next();
  });

  app.use(async (c, next) => {
    const url = new URL(c.req.url);
    const verdict = authorize({
      url,
      hostname: (c.req.header('host') ?? '').replace(/:\d+$/, ''),
      authorization: c.req.header('authorization'),
      cookies: parseCookies(c.req.header('cookie')),
    }, { token: options.token, port: options.portNow(), loopbackOnly });
    if (!verdict.ok) return c.text(verdict.message, verdict.status);
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      c.header('Allow', 'GET, HEAD');
      return c.text('the dashboard is read-only: only GET and HEAD', 405);
    }
    if (verdict.setCookie) c.header('Set-Cookie', verdict.setCookie);
    await next();
  });
}
