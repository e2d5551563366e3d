// Failed password checks, counted per client address and per user name, in the database so that every
// node counts the same attempts (an in-memory count per node would multiply the limit by the nodes). An
// attempt is counted before its (slow) hash check, in one statement, so concurrent guesses on any node see
// each other; a success gives its own attempt back. Too many from one address lock that address; too many against one user only slow the
// checks of that user, so an attacker cannot lock the account's owner out from elsewhere.
import { isIPv6 } from 'node:net';
import { Refusal } from '../domain/reasons.ts';
import type { Clock } from '../domain/clock.ts';
import type { Db } from '../store/store.ts';
import { countAttempt, dropPastAttempts, forgetAttempts, giveBackAttempt } from '../store/login-throttles.ts';

export const WINDOW_MS = 60_000;
/** Failures (and checks still running) from one address within the window before it is refused. */
export const ADDRESS_LIMIT = 10;
/** Failures against one user within the window before each further check on it waits. */
export const USER_LIMIT = 10;
export const USER_DELAY_MS = 1_000;

/** The key an address is limited by: IPv4 as is (also when mapped into IPv6), IPv6 by its /64, which one
 *  subscriber usually holds whole. */
export function addressKey(ip: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4) return v4[1];
  if (!isIPv6(ip)) return ip;
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export class LoginThrottle {
  readonly #clock: Clock;
  readonly #db: Db;
  #sweptAt = 0;

  constructor(clock: Clock, db: Db) {
    this.#clock = clock;
    this.#db = db;
  }

  /** Counts an attempt before its check. Throws login-throttled for a locked address; otherwise says how
   *  long the check should wait (non-zero once the user has had too many failures), and how to report the
   *  right password: the attempt is given back to its address, and the user's failures are forgotten
   *  (only someone who knows the password can do that). The counts are rows every node shares. */
  async begin(name: string, address: string): Promise<{ waitMs: number; succeeded(): Promise<void> }> {
    const now = this.#clock.now();
    if (now - this.#sweptAt >= WINDOW_MS) {
      this.#sweptAt = now;
      await dropPastAttempts(this.#db, now - WINDOW_MS);
    }
    const a = `a:${address}`;
    const u = `u:${name}`;
    if ((await countAttempt(this.#db, a, now, WINDOW_MS, ADDRESS_LIMIT)) === null) {
      throw new Refusal('login-throttled');
    }
    const failures = (await countAttempt(this.#db, u, now, WINDOW_MS, null)) ?? 0;
    return {
      waitMs: failures > USER_LIMIT ? USER_DELAY_MS : 0,
      succeeded: async () => {
        await giveBackAttempt(this.#db, a);
        await forgetAttempts(this.#db, u);
      },
    };
  }
}
