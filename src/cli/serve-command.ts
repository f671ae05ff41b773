/**
 * `sgdlab serve --db PATH|URL [--port 8080] [--host 127.0.0.1] [--token T]`: the live dashboard. The
 * dashboard (its server, vega) is imported when the command runs, not when the CLI starts. Never loads
 * libtorch (a test reads the process's memory maps).
 */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
// auth.ts alone (node:crypto): the token is checked before the dashboard's heavy modules load.
import { tokenProblem } from '../dashboard/auth.js';
import { openStore, parseStoreUrl } from '../study/index.js';
import { UsageError } from './errors.js';
import { defaultDb } from './work-options.js';

/** One line: off loopback, the token crosses the network in clear text; the two ways around that (README, "Dashboard"). */
export const plainHttpWarning = (host: string, port: number) =>
  `warning: --host ${host} serves plain HTTP, so the token crosses the network readable by anyone on the way: put the dashboard behind TLS (a reverse proxy such as Caddy or nginx), or keep --host 127.0.0.1 and use an SSH tunnel (ssh -L ${port}:localhost:${port} THIS-HOST, then open http://localhost:${port}/); see "Dashboard" in the README`;

export function serveCommand(): Command {
  return new Command('serve')
    .description('the live dashboard: studies, workers, figures and trials in the browser, updated as they run (read-only)')
    .option('--db <url>', 'the study store: a SQLite file (or sqlite:PATH) or postgres://USER@HOST/DB (default $SGDLAB_DB or ./sgdlab.db)')
    .option('--port <n>', 'the port (0: any free one)', '8080')
    .option('--host <host>', 'the interface to listen on; any other than loopback requires a token', '127.0.0.1')
    .option('--token <token>', 'required on every request: 16 to 200 letters, digits, ".", "_", "~", "-" (generated and printed in the URL when --host is not loopback)')
    .option('--poll-ms <ms>', 'how often the store is read for changes while a page is open', '1000')
    .action(async (flags: { db?: string; port: string; host: string; token?: string; pollMs: string }) => {
      const port = Number(flags.port);
      if (!/^\d+$/.test(flags.port) || port > 65535) throw new UsageError(`--port: '${flags.port}' must be a port number 0…65535 (0: any free port)`);
      const pollMs = Number(flags.pollMs);
      if (!/^\d+$/.test(flags.pollMs) || pollMs < 100 || pollMs > 60_000) throw new UsageError(`--poll-ms: '${flags.pollMs}' must be 100…60000 milliseconds`);
      const problem = flags.token === undefined ? undefined : tokenProblem(flags.token);
      if (problem) throw new UsageError(`--token: ${problem}`);
      if (flags.host.trim() === '') throw new UsageError("--host: empty; use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface, with a token)");
      const db = flags.db ?? defaultDb();
      const location = parseStoreUrl(db);
      // A read-only server does not create a store: a mistyped path is an error, not an empty dashboard.
      if (location.backend === 'sqlite' && !existsSync(location.path)) throw new UsageError(`no study store at ${location.path} (the dashboard reads an existing store; sgdlab run … --db ${db} makes one)`);
      const { DashboardData, isLoopback, newToken, startDashboard } = await import('../dashboard/index.js');
      const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      const token = flags.token ?? (isLoopback(flags.host) ? undefined : newToken());
      const store = await openStore(db);
      const data = new DashboardData(store, db, log);
      let running;
      try {
        running = await startDashboard({ data, host: flags.host, port, token, pollMs, log });
      } catch (error) {
        await store.close();
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new UsageError(`--port: ${port} is in use on ${flags.host}; choose another (--port 0 takes any free one)`);
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UsageError(`--host: cannot listen on '${flags.host}' (${code}): give an address of this machine, 127.0.0.1 or 0.0.0.0`);
        throw error;
      }
      const stop = () => {
        void running.close().then(() => data.close()).then(() => store.close()).finally(() => process.exit(0));
      };
      // Before the URL: whoever reads it may stop the server at once (without a handler, a signal kills mid-print).
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      process.stdout.write(`sgdlab dashboard of ${store.url}: ${running.url}\n`);
      if (!isLoopback(flags.host)) {
        process.stdout.write(`listening on ${flags.host}: every request needs the token (it is in the URL above; keep it private)\n`);
        process.stderr.write(`${plainHttpWarning(flags.host, running.port)}\n`);
      }
    });
}
