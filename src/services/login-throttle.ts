// Failed password checks, counted per client address and per user name. An attempt is counted before
// its (slow) hash check, synchronously, so concurrent guesses see each other; a success gives its own
// attempt back. Too many from one address lock that address; too many against one user only slow the
// checks of that user, so an attacker cannot lock the account's owner out from elsewhere.
import { isIPv6 } from 'node:net';
import { Refusal } from '../domain/reasons.ts';
import type { Clock } from '../domain/clock.ts';

export const WINDOW_MS = 60_000;
/** Failures (and checks still running) from one address within the window before it is refused. */
export const ADDRESS_LIMIT = 10;
/** Failures against one user within the window before each further check on it waits. */
export const USER_LIMIT = 10;
export const USER_DELAY_MS = 1_000;
const MAX_KEYS = 50_000;

type Bucket = { count: number; since: number };

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
  readonly #byAddress = new Map<string, Bucket>();
  readonly #byUser = new Map<string, Bucket>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  #bucket(map: Map<string, Bucket>, key: string, now: number): Bucket {
    let b = map.get(key);
    if (!b || now - b.since >= WINDOW_MS) {
      if (map.size >= MAX_KEYS) for (const [k, v] of map) if (now - v.since >= WINDOW_MS) map.delete(k);
      b = { count: 0, since: now };
      map.set(key, b);
    }
    return b;
  }

  /** Counts an attempt before its check. Throws login-throttled for a locked address; otherwise says how
   *  long the check should wait (non-zero once the user has had too many failures), and how to report the
   *  right password: the attempt is given back to its address, and the user's failures are forgotten
   *  (only someone who knows the password can do that). */
  begin(name: string, address: string): { waitMs: number; succeeded(): void } {
    const now = this.#clock.now();
    const a = this.#bucket(this.#byAddress, address, now);
    if (a.count >= ADDRESS_LIMIT) throw new Refusal('login-throttled');
    const u = this.#bucket(this.#byUser, name, now);
    a.count++;
    u.count++;
    return {
      waitMs: u.count > USER_LIMIT ? USER_DELAY_MS : 0,
      succeeded: () => {
        if (a.count > 0) a.count--;
        if (this.#byUser.get(name) === u) this.#byUser.delete(name);
      },
    };
  }
}
