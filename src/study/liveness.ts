/**
 * Who is a worker and whether it is alive: ids are host:pid:start time (from /proc), so that a
 * reused pid is not mistaken for a dead worker, and a killed worker nobody has reaped (a zombie)
 * counts as dead. Only workers of this host can be judged so; others are judged by their lease.
 * The host is the machine's name, or SGDLAB_HOST_ID (tests run several "machines" on one host).
 * Addon-free: the runner uses it too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** A process's state and start time (clock ticks since boot) from /proc; undefined if it does not exist. */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, start: fields[19]! };
  } catch {
    return undefined;
  }
}

/** This machine's id in worker ids: SGDLAB_HOST_ID, else the host name (':' would split the id, so it becomes '-'). */
export function hostId(): string {
  return (process.env.SGDLAB_HOST_ID || hostname()).replace(/:/g, '-');
}

/** This worker's id: host:pid:start time, so that a reused pid is not mistaken for it. */
export function workerId(): string {
  return `${hostId()}:${process.pid}:${procStat(process.pid)?.start ?? 'unknown'}`;
}

/**
 * Whether a worker id names a live process on this host: the pid exists, is not a zombie (a killed
 * worker nobody has reaped yet) and started at the recorded time. Workers of other hosts count as alive.
 */
export function isWorkerAlive(worker: string): boolean {
  const [host, pid, start] = worker.split(':');
  if (host !== hostId()) return true;
  const stat = procStat(Number(pid));
  if (stat !== undefined) return stat.state !== 'Z' && stat.state !== 'X' && (start === undefined || start === 'unknown' || stat.start === start);
  if (existsSync('/proc/self/stat')) return false;
  try {
    process.kill(Number(pid), 0); // no /proc (not Linux): existence only
    return true;
  } catch {
    return false;
  }
}

