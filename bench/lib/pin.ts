// Clients and servers on separate cores. A registry and the machines installing from it are different
// computers: on one small machine the server's work would otherwise slow the client down for want of a core,
// which a real install never sees (and the direct case's upstream, in the bench's own process, costs far
// less). With BENCH_PIN on (the default where `taskset` and two CPUs exist) this process and every server it
// starts run on the last CPU, and each client on the others. BENCH_PIN=false shares every CPU among all.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const cpus = availableParallelism();
export const pinned = process.env.BENCH_PIN !== 'false' && cpus >= 2 && hasTaskset();
const SERVERS = String(cpus - 1);
const CLIENTS = cpus === 2 ? '0' : `0-${cpus - 2}`;

/** Moves this process, every thread of it, to the servers' CPU: children started from now on inherit it. */
export function pinServers(): string {
  if (!pinned) return 'servers and clients share every CPU (BENCH_PIN=false or no taskset)';
  execFileSync('taskset', ['-apc', SERVERS, String(process.pid)], { stdio: 'ignore' });
  return `servers on CPU ${SERVERS}, clients on CPU ${CLIENTS} (BENCH_PIN=false to share)`;
}

/** Runs `start`, which must spawn its client synchronously (child_process.spawn does), with the main thread on
 *  the clients' CPUs: the child inherits them; the main thread then goes back. */
export function asClient<T>(start: () => T): T {
  if (!pinned) return start();
  execFileSync('taskset', ['-pc', CLIENTS, String(process.pid)], { stdio: 'ignore' });
  try {
    return start();
  } finally {
    execFileSync('taskset', ['-pc', SERVERS, String(process.pid)], { stdio: 'ignore' });
  }
}
