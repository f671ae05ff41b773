/**
 * Test support: a throw-away PostgreSQL cluster for the tests of one process. `initdb` into a
 * temporary directory, `pg_ctl start` on a free port with the socket in that directory, password
 * (SCRAM) authentication on 127.0.0.1 so that URLs carry a real password; as the unprivileged user
 * `postgres` (Debian's package creates it) when run as root, since PostgreSQL refuses to run as root.
 * Stopped and deleted when the process ends, however it ends: at a normal exit by this process, after
 * a SIGKILL, a SIGINT or an uncaught exception by a watchdog process that outlives it (`startWatchdog`).
 * Never skipped: if PostgreSQL cannot start, `pgCluster()` throws with the reason (and the server's log).
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
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
  /** `pg_ctl stop -m fast` and `pg_ctl start`: the server gone for a while (the data stays). */
  serverStop(): void;
  serverStart(): void;
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

/**
 * The watchdog's script: it reads its stdin until the end, stops the cluster (the command in its
 * arguments) and deletes the directory. Deaf to the signals a terminal or a test runner sends.
 */
const WATCHDOG = `trap '' HUP INT TERM; dir=$1; shift; cat >/dev/null; "$@" >/dev/null 2>&1; rm -rf "$dir"`;

/**
 * Starts a process that stops the cluster and deletes `dir` once this process has ended, however it
 * ended: 'exit' handlers do not run after a SIGKILL, nor after a SIGINT or SIGTERM that Node handles
 * by dying, and pg_ctl starts the server in a session of its own, which outlives its owner. The
 * watchdog waits for the end of a pipe only this process holds (Node opens pipes close-on-exec, so no
 * child inherits it): the kernel closes it when this process dies. In a session of its own too, so
 * that the signal that ends a test run's process group does not end the watchdog with it.
 */
function startWatchdog(dir: string, stopCommand: readonly string[]): void {
  const child = spawn('sh', ['-c', WATCHDOG, 'sgdlab-pg-watchdog', dir, ...stopCommand], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  // Neither the watchdog nor its pipe keeps this process's event loop alive.
  child.unref();
  (child.stdin as unknown as Socket).unref();
}

let cluster: Promise<PgCluster> | undefined;

/**
 * This process's cluster, started on first use. Tests run it with fsync off (it is thrown away and
 * never crashes); `durable: true` keeps PostgreSQL's defaults, for benchmarks.
 */
export function pgCluster(options: { durable?: boolean } = {}): Promise<PgCluster> {
  cluster ??= startCluster(options.durable ?? false);
  return cluster;
}

async function startCluster(durable: boolean): Promise<PgCluster> {
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
  const command = (cmd: string, args: string[]): string[] => (root ? ['runuser', '-u', runAs, '--', join(bin, cmd), ...args] : [join(bin, cmd), ...args]);
  const run = (cmd: string, args: string[]): SpawnSyncReturns<string> => {
    const [file, ...rest] = command(cmd, args);
    return spawnSync(file!, rest, { encoding: 'utf8', cwd: dir });
  };
  const data = join(dir, 'data');
  startWatchdog(dir, command('pg_ctl', ['-D', data, 'stop', '-m', 'immediate', '-w', '-t', '60']));
  const password = `sgdlab-secret-${randomBytes(8).toString('hex')}`;
  const user = 'sgdlab';
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (root) chownSync(pwfile, Number(spawnSync('id', ['-u', runAs], { encoding: 'utf8' }).stdout), Number(spawnSync('id', ['-g', runAs], { encoding: 'utf8' }).stdout));
  const init = run('initdb', ['-D', data, '-U', user, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-sync', '--no-instructions']);
  rmSync(pwfile, { force: true });
  if (init.status !== 0) throw new Error(`initdb failed (${init.status}): ${init.stderr || init.stdout}`);
  const port = await freePort();
  const log = join(dir, 'server.log');
  // fsync off for tests: the cluster is thrown away and never crashes (a restart is a clean `-m fast` one).
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200${durable ? '' : ' -c fsync=off -c full_page_writes=off'}`;
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
    serverStop() {
      const r = ctl(['stop', '-m', 'fast']);
      if (r.status !== 0) throw new Error(`pg_ctl stop failed (${r.status}): ${r.stderr || r.stdout}`);
    },
    serverStart() {
      const r = ctl(['start']);
      if (r.status !== 0) throw new Error(`pg_ctl start failed (${r.status}): ${r.stderr || r.stdout}`);
    },
  };
}

/** A TCP relay to the cluster that can lose the acknowledgement of a COMMIT (`lostCommitRelay`). */
export interface LostCommitRelay {
  port: number;
  /** The next COMMIT a client sends reaches the server; its reply does not reach the client: both connections are cut. */
  loseNextCommitAck(): void;
  /** How many acknowledgements were lost so far. */
  readonly lostAcks: number;
  close(): Promise<void>;
}

/** The simple-query text of a COMMIT as the pg driver sends it (client.query('COMMIT')). */
const COMMIT_QUERY = Buffer.from('COMMIT\0');

/**
 * A relay on a free port to the cluster's `serverPort`: as a network failing just after a COMMIT
 * reached the server, it lets the server commit and cuts the connection before the reply gets back,
 * so the client cannot tell whether its transaction was stored.
 */
export function lostCommitRelay(serverPort: number): Promise<LostCommitRelay> {
  let armed = false;
  let lostAcks = 0;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(serverPort, '127.0.0.1');
    let commitSent = false;
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        open.delete(s);
        cut();
      });
    }
    client.on('data', (chunk: Buffer) => {
      if (armed && chunk.includes(COMMIT_QUERY)) {
        armed = false;
        commitSent = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      // The server answers the COMMIT only once it has committed: this reply is the acknowledgement.
      if (commitSent) {
        lostAcks++;
        cut();
        return;
      }
      client.write(chunk);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({
      port: (server.address() as { port: number }).port,
      loseNextCommitAck: () => {
        armed = true;
      },
      get lostAcks() {
        return lostAcks;
      },
      close: () => new Promise<void>((done) => {
        for (const s of open) s.destroy();
        server.close(() => done());
      }),
    }));
  });
}
