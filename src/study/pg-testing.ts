/**
 * Test support: a throw-away PostgreSQL cluster for the tests of one process. `initdb` into a
 * temporary directory, `pg_ctl start` on a free port with the socket in that directory, password
 * (SCRAM) authentication on 127.0.0.1 so that URLs carry a real password; as the unprivileged user
 * `postgres` (Debian's package creates it) when run as root, since PostgreSQL refuses to run as root.
 * Stopped and deleted when the process exits. Never skipped: if PostgreSQL cannot start, `pgCluster()`
 * throws with the reason (and the server's log).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PgCluster {
  dir: string;
  port: number;
  user: string;
  password: string;
  /** The URL of database `db` (postgres://sgdlab:PASSWORD@127.0.0.1:PORT/db). */
  url(db: string): string;
  /** Creates a new empty database and returns its URL. */
  newDatabase(): Promise<string>;
  /** `pg_ctl restart -m fast`: every connection is cut, the server comes back on the same port. */
  restart(): void;
  stop(): void;
}

/** The newest PostgreSQL's bin directory under /usr/lib/postgresql (Debian's layout). */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error(`PostgreSQL is not installed (no ${root}/*/bin/initdb): run bash scripts/setup.sh, which installs Debian's postgresql`);
  return join(root, versions[0]!, 'bin');
}

/** A free TCP port on 127.0.0.1 (asked of the OS). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

let cluster: Promise<PgCluster> | undefined;

/** This process's cluster, started on first use. */
export function pgCluster(): Promise<PgCluster> {
  cluster ??= startCluster();
  return cluster;
}

async function startCluster(): Promise<PgCluster> {
  const bin = postgresBin();
  const root = process.getuid?.() === 0;
  const runAs = root ? 'postgres' : userInfo().username;
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-pg-'));
  if (root) {
    const id = spawnSync('id', ['-u', runAs], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', runAs], { encoding: 'utf8' });
    if (id.status !== 0) throw new Error(`cannot start PostgreSQL as root and there is no user '${runAs}' to run it (install Debian's postgresql: bash scripts/setup.sh)`);
    chownSync(dir, Number(id.stdout), Number(gid.stdout));
  }
  const run = (cmd: string, args: string[]): SpawnSyncReturns<string> =>
    root ? spawnSync('runuser', ['-u', runAs, '--', join(bin, cmd), ...args], { encoding: 'utf8', cwd: dir }) : spawnSync(join(bin, cmd), args, { encoding: 'utf8', cwd: dir });
  const password = `sgdlab-secret-${randomBytes(8).toString('hex')}`;
  const user = 'sgdlab';
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (root) chownSync(pwfile, Number(spawnSync('id', ['-u', runAs], { encoding: 'utf8' }).stdout), Number(spawnSync('id', ['-g', runAs], { encoding: 'utf8' }).stdout));
  const data = join(dir, 'data');
  const init = run('initdb', ['-D', data, '-U', user, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-sync', '--no-instructions']);
  rmSync(pwfile, { force: true });
  if (init.status !== 0) throw new Error(`initdb failed (${init.status}): ${init.stderr || init.stdout}`);
  const port = await freePort();
  const log = join(dir, 'server.log');
  // fsync off: the cluster is thrown away and never crashes (a restart is a clean `-m fast` one).
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`;
  const ctl = (args: string[]) => run('pg_ctl', ['-D', data, '-l', log, '-o', serverOptions, '-w', '-t', '60', ...args]);
  const start = ctl(['start']);
  if (start.status !== 0) {
    const serverLog = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    throw new Error(`PostgreSQL did not start (pg_ctl exit ${start.status}): ${start.stderr || start.stdout}\n${serverLog}`);
  }
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    ctl(['stop', '-m', 'immediate']);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  const url = (db: string) => `postgres://${user}:${password}@127.0.0.1:${port}/${db}`;
  let n = 0;
  return {
    dir, port, user, password, url, stop,
    async newDatabase() {
      const name = `sgdlab_test_${process.pid}_${n++}`;
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`); // a generated identifier: no user input
      } finally {
        await client.end();
      }
      return url(name);
    },
    restart() {
      const r = ctl(['restart', '-m', 'fast']);
      if (r.status !== 0) throw new Error(`pg_ctl restart failed (${r.status}): ${r.stderr || r.stdout}`);
    },
  };
}
