/**
 * The dashboard's web server (Hono on Node's http server): the client's files, a read-only JSON API
 * over the study store, and a Server-Sent Events stream of changes. Only GET (and HEAD) exist; no
 * route writes to the store. Request text never becomes SQL: names and keys are parameters of the
 * store's queries, and filters, sorting and paging are applied by dashboard code to validated values.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { streamSSE } from 'hono/streaming';
import { TRIAL_SORT_FIXED, type LiveEvent, type TrialStatus } from './api.js';
import { TRIAL_STATUSES } from '../study/records.js';
import { loadAssets, type Asset } from './assets.js';
import { authorize, crossSiteRefusal, isLoopback, parseCookies, tokenProblem } from './auth.js';
import type { DashboardData, TrialQuery } from './data.js';
import { LiveHub } from './events.js';

export interface DashboardOptions {
  data: DashboardData;
  host: string;
  /** 0: any free port. */
  port: number;
  /** Required on every request when set. */
  token: string | undefined;
  /** How often the store is polled for changes while a page listens, ms (default 1000). */
  pollMs?: number;
  /** Where the server's own messages go (default: nowhere, except failed answers: standard error). */
  log?: (line: string) => void;
  /** The built client (default: dist/dashboard/). */
  assetsDir?: string;
}

export interface RunningDashboard {
  url: string;
  port: number;
  close(): Promise<void>;
}

const STATUSES: readonly TrialStatus[] = TRIAL_STATUSES;
const MAX_LISTENERS = 256;
const KEEPALIVE_MS = 20_000;

export class BadRequest extends Error {}

/** A non-negative integer query parameter, bounded. */
function intParam(value: string | undefined, name: string, fallback: number, max: number, min = 0): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,9}$/.test(value)) throw new BadRequest(`${name}: '${value.slice(0, 40)}' is not a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw new BadRequest(`${name}: ${n} is outside ${min}…${max}`);
  return n;
}

/** The trials table's query, checked against the study's axes (anything else is a 400 that says what is allowed). */
export function parseTrialQuery(params: URLSearchParams, axes: readonly string[]): TrialQuery {
  const status = params.getAll('status').flatMap((s) => s.split(',')).filter((s) => s !== '');
  for (const s of status) if (!STATUSES.includes(s as TrialStatus)) throw new BadRequest(`status: '${s.slice(0, 40)}' is not one of ${STATUSES.join(', ')}`);
  const filters = new Map<string, string[]>();
  for (const [name, value] of params) {
    if (!name.startsWith('f.')) continue;
    const path = name.slice(2);
    if (!axes.includes(path)) throw new BadRequest(`filter '${name.slice(0, 60)}': the study has no grid axis '${path.slice(0, 60)}' (axes: ${axes.join(', ') || 'none'})`);
    filters.set(path, [...(filters.get(path) ?? []), value]);
  }
  const sort = params.get('sort') ?? 'key';
  const sortable = [...TRIAL_SORT_FIXED, ...axes.map((a) => `c.${a}`)];
  if (!sortable.includes(sort)) throw new BadRequest(`sort: '${sort.slice(0, 60)}' is not one of ${sortable.join(', ')}`);
  const dir = params.get('dir') ?? 'asc';
  if (dir !== 'asc' && dir !== 'desc') throw new BadRequest(`dir: '${dir.slice(0, 20)}' must be asc or desc`);
  return {
    status: status as TrialStatus[],
    filters: [...filters].map(([path, values]) => ({ path, values })),
    sort,
    descending: dir === 'desc',
    offset: intParam(params.get('offset') ?? undefined, 'offset', 0, 1e9),
    limit: intParam(params.get('limit') ?? undefined, 'limit', 50, 500, 1),
  };
}

const notFound = (c: Context, what: string) => c.json({ error: `${what} not found` }, 404);

/**
 * A failed answer: its error (a store driver's can name hosts, users and passwords) goes to the log
 * in full under a fresh id, and the answer carries only the id, by which the log finds it. Without a
 * log, standard error: an answer that points at the log must have one.
 */
function internalError(c: Context, error: Error, log: ((line: string) => void) | undefined) {
  const id = randomBytes(6).toString('hex');
  const line = `error ${id} answering ${c.req.method} ${c.req.path}: ${error.stack ?? error.message}`;
  if (log) log(line);
  else process.stderr.write(`${line}\n`);
  return c.json({ error: `internal error (id ${id}); see the server's log` }, 500);
}

export function dashboardApp(options: DashboardOptions & { portNow: () => number }): { app: Hono; hub: LiveHub } {
  const { data } = options;
  const assets = loadAssets(options.assetsDir);
  const hub = new LiveHub(data, options.pollMs ?? 1000, options.log);
  const loopbackOnly = isLoopback(options.host);
  const app = new Hono();

  app.use(secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:', 'blob:'],
      connectSrc: ["'self'"], fontSrc: ["'self'"], baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"],
    },
    referrerPolicy: 'no-referrer',
    crossOriginResourcePolicy: 'same-origin',
    crossOriginOpenerPolicy: 'same-origin',
  }));

  // First, before the token and any work: a request that another site's page started (auth.ts says why).
  app.use(async (c, next) => {
    const refusal = crossSiteRefusal({ site: c.req.header('sec-fetch-site'), mode: c.req.header('sec-fetch-mode'), dest: c.req.header('sec-fetch-dest'), path: c.req.path });
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

  const sendAsset = (c: Context, asset: Asset) => {
    c.header('ETag', asset.etag);
    c.header('Cache-Control', 'no-cache');
    c.header('Vary', 'Accept-Encoding');
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304);
    c.header('Content-Type', asset.type);
    if (asset.gzip && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
      c.header('Content-Encoding', 'gzip');
      return c.body(new Uint8Array(asset.gzip));
    }
    return c.body(new Uint8Array(asset.body));
  };
  const page = (c: Context) => sendAsset(c, assets.get('index.html')!);
  app.get('/', page);
  app.get('/studies/:name', page);
  app.get('/studies/:name/trials/:key', page);
  app.get('/assets/:file', (c) => {
    const asset = assets.get(c.req.param('file'));
    return asset && c.req.param('file') !== 'index.html' ? sendAsset(c, asset) : c.text('not found', 404);
  });

  app.use('/api/*', async (c, next) => {
    c.header('Cache-Control', 'no-store');
    await next();
  });
  app.get('/api/studies', async (c) => c.json(await data.studies()));
  app.get('/api/studies/:name', async (c) => {
    const detail = await data.study(c.req.param('name'));
    return detail ? c.json(detail) : notFound(c, 'study');
  });
  app.get('/api/studies/:name/report', async (c) => {
    const report = await data.report(c.req.param('name'));
    if (!report) return notFound(c, 'study');
    // Not computed yet (the first visit of a large study): the page waits for the 'report' event.
    if (!report.ready) return c.json({ computing: true }, 202);
    c.header('Content-Type', 'application/json; charset=utf-8');
    c.header('Vary', 'Accept-Encoding');
    if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
      c.header('Content-Encoding', 'gzip');
      return c.body(new Uint8Array(report.ready.gzip));
    }
    return c.body(new Uint8Array(report.ready.json));
  });
  app.get('/api/studies/:name/trials', async (c) => {
    const detail = await data.study(c.req.param('name'));
    if (!detail) return notFound(c, 'study');
    const query = parseTrialQuery(new URL(c.req.url).searchParams, detail.axes.map((a) => a.path));
    return c.json(await data.trials(detail.name, query));
  });
  app.get('/api/studies/:name/trials/:key', async (c) => {
    const trial = await data.trial(c.req.param('name'), c.req.param('key'));
    return trial ? c.json(trial) : notFound(c, 'trial');
  });
  app.get('/api/studies/:name/trials/:key/curves', async (c) => {
    const points = intParam(c.req.query('points'), 'points', 1000, 20_000, 10);
    const curves = await data.curves(c.req.param('name'), c.req.param('key'), points);
    return curves ? c.json(curves) : notFound(c, 'trial');
  });
  app.get('/api/studies/:name/trials/:key/checkpoint/:file', async (c) => {
    const file = await data.checkpointFile(c.req.param('name'), c.req.param('key'), c.req.param('file'));
    if (!file) return notFound(c, 'checkpoint file');
    c.header('Content-Type', 'application/octet-stream');
    c.header('Content-Disposition', `attachment; filename="${c.req.param('key')}-${file.name}"`);
    return c.body(new Uint8Array(file.data));
  });
  app.get('/api/events', (c) => {
    if (hub.size >= MAX_LISTENERS) return c.text('too many live pages open', 503);
    const study = c.req.query('study') || undefined;
    const trial = study === undefined ? undefined : c.req.query('trial') || undefined;
    return streamSSE(c, async (stream) => {
      let open = true;
      const send = (event: LiveEvent) => {
        if (open) void stream.writeSSE({ event: event.type, data: JSON.stringify(event) }).catch(() => undefined);
      };
      const unsubscribe = hub.subscribe({ study, trial, send });
      await stream.writeSSE({ event: 'hello', data: '{}', retry: 1000 });
      await new Promise<void>((resolve) => {
        const keepalive = setInterval(() => void stream.write(': keepalive\n\n').catch(() => undefined), KEEPALIVE_MS);
        stream.onAbort(() => {
          open = false;
          clearInterval(keepalive);
          unsubscribe();
          resolve();
        });
      });
    });
  });

  app.notFound((c) => (c.req.path.startsWith('/api/') ? c.json({ error: 'no such API route' }, 404) : c.text('not found', 404)));
  app.onError((error, c) => {
    if (error instanceof BadRequest) return c.json({ error: error.message }, 400);
    return internalError(c, error, options.log);
  });
  return { app, hub };
}

/** Starts the dashboard; resolves once it listens. */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const problem = options.token === undefined ? undefined : tokenProblem(options.token);
  if (problem) throw new Error(`the dashboard's token: ${problem}`);
  let port = options.port;
  const { app, hub } = dashboardApp({ ...options, portNow: () => port });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, () => resolve(s as Server)) as Server;
    s.once('error', reject);
  });
  port = (server.address() as AddressInfo).port;
  // Read every study and queue its report now, so that the first page finds them ready.
  void options.data.prewarm().catch((error: Error) => options.log?.(`reading the store at start: ${error.message}`));
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shownHost}:${port}/${options.token ? `?token=${options.token}` : ''}`,
    port,
    close: () => new Promise<void>((resolve) => {
      hub.close();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
