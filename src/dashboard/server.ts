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
import { loadAssets } from './assets.js';
import { tokenProblem } from './auth.js';
import type { DashboardData } from './data.js';
import { LiveHub } from './events.js';
import { BadRequest } from './query-params.js';
import { apiRoutes } from './server-api.js';
import { eventRoutes } from './server-events.js';
import { securityGuards } from './server-security.js';
import { staticRoutes } from './server-static.js';

export { BadRequest, parseTrialQuery } from './query-params.js';

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

/** The app: the guards first (server-security.ts), then the client's files, the API and the live stream. */
export function dashboardApp(options: DashboardOptions & { portNow: () => number }): { app: Hono; hub: LiveHub } {
  const assets = loadAssets(options.assetsDir);
  const hub = new LiveHub(options.data, options.pollMs ?? 1000, options.log);
  const app = new Hono();
  securityGuards(app, options);
  staticRoutes(app, assets);
  apiRoutes(app, options.data);
  eventRoutes(app, hub);
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
