// Resolves the caller from the Authorization header. Token lookups are a hash lookup behind a cache;
// every process watches the revocation counter and drops its cache when it moves (within 250 ms),
// so a revocation made by the admin CLI in another process takes effect at once.
import { createHmac, randomBytes } from 'node:crypto';
import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net';
import { hashToken, isTesseraToken, tokenChecksumValid } from '../domain/tokens.ts';
import { Refusal } from '../domain/reasons.ts';
import {
  anonymous,
  tokenIdOf,
  type Credential,
  type Grants,
  type Principal,
  type TfaMode,
  type TokenKind,
  type User,
} from '../domain/principal.ts';
import { hashPassword, needsRehash, verifyPassword } from '../domain/passwords.ts';
import { audit, type Ctx } from './context.ts';
import { lastLocalWrite } from '../store/counters.ts';
import { identityOfUser } from '../store/sso-identities.ts';
import { recordTokenUses, tokenWithUser } from '../store/tokens.ts';
import { replacePasswordHash, userByName } from '../store/users.ts';
import { addressKey, LoginThrottle } from './login-throttle.ts';
import { metricsOf, type Metrics } from './metrics.ts';
import { DirectoryAccounts } from './ldap-sign-in.ts';
import { ldapDirectory } from './ldap.ts';

type Entry = {
  user: User & { disabled: boolean };
  principalUser: User;
  credential: Credential & { type: 'token' };
  revokedAt: number | null;
  revokedWhy: string | null;
  cidr: BlockList | null;
  cidrText: string[] | null;
  /** One principal for the install path's shortcut, shared and never changed (the full path makes its own). */
  shared: Readonly<Principal>;
};

const CACHE_TTL_MS = 60_000;
const LOCAL_WRITE_WINDOW_MS = 2_000;

export function toUser(row: {
  id: number;
  name: string;
  email: string;
  admin: number;
  email_verified: number;
  tfa: string | null;
}): User {
  const tfa = row.tfa ? (JSON.parse(row.tfa) as { mode: TfaMode; pending: boolean }) : null;
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    admin: row.admin === 1,
    emailVerified: row.email_verified === 1,
    tfa: tfa && !tfa.pending ? tfa.mode : null,
  };
}

export function blockList(cidrs: string[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) {
    const [addr, bits, ...rest] = c.split('/');
    const type = isIPv6(addr) ? 'ipv6' : 'ipv4';
    const max = type === 'ipv6' ? 128 : 32;
    const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
    // A range written wrong (`10.0.0.0/`, which an older release kept and read as /0) allows nothing, not all.
    if (rest.length > 0 || !isIP(addr) || !(prefix >= 0 && prefix <= max)) continue;
    list.addSubnet(addr, prefix, type);
  }
  return list;
}

export function ipAllowed(list: BlockList, ip: string): boolean {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  const addr = v4mapped ? v4mapped[1] : ip;
  return list.check(addr, isIPv4(addr) ? 'ipv4' : 'ipv6');
}

export class Authenticator {
  readonly #ctx: Ctx;
  readonly #cache = new Map<string, { entry: Entry; at: number }>();
  readonly #lastUsed = new Map<string, { at: number; count: number; user: string }>();
  readonly #throttle: LoginThrottle;
  readonly #inflight = new Map<string, Promise<User>>();
  readonly #inflightKey = randomBytes(32);
  #seq = '';
  #timers: NodeJS.Timeout[] = [];
  readonly #metrics: Metrics | undefined;
  /** Company sign-in through the LDAP directory, when `auth.ldap` is set. */
  readonly directory: DirectoryAccounts | null;

  constructor(ctx: Ctx) {
    this.#ctx = ctx;
    this.#metrics = metricsOf(ctx.store);
    this.#throttle = new LoginThrottle(ctx.clock, ctx.store.db);
    const ldap = ctx.config.auth.ldap;
    this.directory = ldap ? new DirectoryAccounts(ctx, ldapDirectory(ldap), () => this.invalidate()) : null;
    this.directory?.start();
    this.#seq = this.#readSeq();
    const watch = setInterval(() => this.#checkRevocations(), 250);
    const flush = setInterval(() => {
      void this.flush();
    }, 5_000);
    watch.unref();
    flush.unref();
    this.#timers.push(watch, flush);
  }

  #readSeq(): string {
    return this.#ctx.store.counter('revocations');
  }

  #checkRevocations(): void {
    try {
      const seq = this.#readSeq();
      if (seq !== this.#seq) {
        this.#seq = seq;
        this.#cache.clear();
      }
    } catch {
      /* the database is closing */
    }
  }

  /** Drops every cached token now (this process made a revocation). */
  invalidate(): void {
    this.#cache.clear();
    this.#seq = this.#readSeq();
  }

  async #load(hash: string): Promise<Entry | undefined> {
    const row = await tokenWithUser(this.#ctx.store.db, hash);
    if (!row) return undefined;
    const cidrText = row.cidr ? (JSON.parse(row.cidr) as string[]) : null;
    const principalUser = toUser({
      id: row.uid,
      name: row.name,
      email: row.email,
      admin: row.admin,
      email_verified: row.email_verified,
      tfa: row.tfa,
    });
    const grants = row.grants ? (JSON.parse(row.grants) as Grants) : null;
    const credential: Entry['credential'] = {
      type: 'token',
      id: row.id,
      kind: row.kind as TokenKind,
      readonly: row.readonly === 1,
      grants,
      bypass2fa: row.bypass_2fa === 1,
      expiresAt: row.expires_at,
    };
    return {
      user: { ...principalUser, disabled: row.disabled === 1 },
      principalUser,
      credential,
      revokedAt: row.revoked_at,
      revokedWhy: row.revoked_why,
      cidr: cidrText ? blockList(cidrText) : null,
      cidrText,
      shared: Object.freeze({ user: principalUser, credential }),
    };
  }

  async fromHeader(header: string | undefined, ip: string): Promise<Principal> {
    if (!header) return anonymous;
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (scheme === 'bearer') {
      return this.#metrics ? this.#counted('token', this.fromToken(value, ip)) : this.fromToken(value, ip);
    }
    if (scheme === 'basic') return this.fromBasic(value, ip);
    this.#metrics?.authenticated('other', 'token-invalid');
    throw new Refusal('token-invalid');
  }

  /** Counts a refused credential (tokens that pass are counted by countUse, passwords by checkPassword). */
  async #counted<T>(kind: string, p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      this.#metrics?.authenticated(kind, e instanceof Refusal ? e.reason : 'error');
      throw e;
    }
  }

  /** The cache entry for a token as presented, if fresh. This process's own writes (a revocation, a 2FA or
   *  e-mail change) are seen at once, not at the next poll. */
  #cached(token: string, now: number): { entry: Entry; at: number } | undefined {
    if (Date.now() - lastLocalWrite() < LOCAL_WRITE_WINDOW_MS) this.#checkRevocations();
    const cached = this.#cache.get(token);
    return cached && now - cached.at <= CACHE_TTL_MS ? cached : undefined;
  }

  async fromToken(token: string, ip: string): Promise<Principal> {
    const now = this.#ctx.clock.now();
    // The cache is in this process's memory only, keyed by the token as presented (no hash on a hit);
    // the database only ever sees the digest. Only tokens that passed the checksum are ever cached.
    let cached = this.#cached(token, now);
    if (!cached) {
      if (!isTesseraToken(token) || !tokenChecksumValid(token)) throw new Refusal('token-invalid');
      const entry = await this.#load(hashToken(token));
      // A web page's session cookie is not an npm credential: sent as one, it is as unknown as any other string.
      if (!entry || entry.credential.kind === 'web-session') throw new Refusal('token-invalid');
      cached = { entry, at: now };
      if (this.#cache.size > 100_000) this.#cache.clear();
      this.#cache.set(token, cached);
    }
    const principal = this.#admit(cached.entry, ip, now);
    this.countUse(principal);
    return principal;
  }

  /**
   * The install path's shortcut: the principal for a Bearer header whose token is cached and passes every
   * check, without waiting on anything. Undefined for anything else — the caller then takes the full path,
   * which loads the token or refuses it with its reason. `ip` undefined: the caller's address is not known
   * here, so a token limited to CIDR ranges is left to the full path too. The use is not counted: call
   * countUse() once the request is answered with it.
   */
  cachedPrincipal(header: string, ip: string | undefined): Readonly<Principal> | undefined {
    if (!header.startsWith('Bearer ')) return undefined;
    const now = this.#ctx.clock.now();
    const cached = this.#cached(header.slice(7).trim(), now);
    if (!cached || (ip === undefined && cached.entry.cidr)) return undefined;
    try {
      this.#check(cached.entry, ip ?? '', now);
    } catch {
      return undefined;
    }
    return cached.entry.shared;
  }

  /** Counts a request made with a token, for its last-used time and the audit log (written in batches). */
  countUse(p: Readonly<Principal>): void {
    const id = tokenIdOf(p);
    if (id === undefined || !p.user) return;
    if (this.#metrics) {
      const kind = (p.credential as { kind: string }).kind;
      this.#metrics.tokensOk[kind] = (this.#metrics.tokensOk[kind] ?? 0) + 1;
    }
    const now = this.#ctx.clock.now();
    const used = this.#lastUsed.get(id);
    if (used) {
      used.at = now;
      used.count++;
    } else this.#lastUsed.set(id, { at: now, count: 1, user: p.user.name });
  }

  /** Checks a known token against its state, its limits and the caller's address, and makes the request's principal. */
  #admit(e: Entry, ip: string, now: number): Principal {
    this.#check(e, ip, now);
    // A fresh principal per request (the request adds its OTP to it); user and credential are shared, read-only.
    return { user: e.principalUser, credential: e.credential };
  }

  /** Throws the refusal a known token earns: revoked, expired, its user disabled, classic tokens off, another address. */
  #check(e: Entry, ip: string, now: number): void {
    const { user, credential: t } = e;
    if (e.revokedAt !== null) throw new Refusal('token-revoked', { why: e.revokedWhy ?? undefined });
    if (t.expiresAt !== null && t.expiresAt <= now)
      throw new Refusal('token-expired', { expired: new Date(t.expiresAt).toISOString() });
    if (user.disabled) {
      // A trusted-publishing token is minted in the name of whoever made the configuration: the CI job has no
      // account to ask about, so the refusal names the configuration and how to make it again.
      const trust = t.kind === 'oidc' ? t.grants?.trust : undefined;
      if (trust) {
        const params = { package: t.grants?.packages[0], user: user.name, id: trust.configId };
        throw new Refusal('trust-creator-disabled', params);
      }
      throw new Refusal('user-disabled');
    }
    if (t.kind.startsWith('classic-') && !this.#ctx.config.tokens.classic) throw new Refusal('classic-tokens-disabled');
    if (e.cidr && !ipAllowed(e.cidr, ip)) throw new Refusal('ip-not-allowed', { ip, allowed: e.cidrText!.join(', ') });
  }

  /** The web pages' caller, from their session cookie: undefined for a cookie that is unknown, expired, revoked,
   *  or not a web session (an npm token pasted into the cookie is no sign-in). Not cached: one indexed read. */
  async fromWebSession(secret: string, ip: string): Promise<Principal | undefined> {
    if (!isTesseraToken(secret) || !tokenChecksumValid(secret)) return undefined;
    const entry = await this.#load(hashToken(secret));
    if (entry?.credential.kind !== 'web-session') return undefined;
    try {
      const principal = this.#admit(entry, ip, this.#ctx.clock.now());
      this.countUse(principal);
      return principal;
    } catch (e) {
      if (e instanceof Refusal) return undefined;
      throw e;
    }
  }

  async fromBasic(b64: string, ip: string): Promise<Principal> {
    const decoded = Buffer.from(b64, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new Refusal('password-wrong');
    const user = await this.checkPassword(decoded.slice(0, colon), decoded.slice(colon + 1), ip);
    // The second factor guards the account's sign-in: a password sent with every request would pass it by.
    if (user.tfa) throw new Refusal('password-with-2fa');
    return { user, credential: { type: 'password' } };
  }

  /**
   * Verifies a password, throttled per client address and per user (login-throttle.ts). `ip` is the
   * caller's address; without it (a password re-check by a caller already signed in) the account itself
   * stands in for the address. Identical checks in flight from one address share one hash check and one
   * count, so a CI's burst of parallel requests with Basic auth is one attempt, not many.
   */
  checkPassword(typed: string, password: string, ip?: string): Promise<User> {
    // A directory matches names in any case, and the registry's names are lower case: "Erin" is erin's
    // account (and erin's throttle), not a second one.
    const name = this.directory ? typed.toLowerCase() : typed;
    const address = ip === undefined ? `account:${name}` : addressKey(ip);
    const key = createHmac('sha256', this.#inflightKey).update(`${address}\0${name}\0${password}`).digest('base64');
    let check = this.#inflight.get(key);
    if (!check) {
      check = this.#checkPassword(name, password, address).finally(() => this.#inflight.delete(key));
      const metrics = this.#metrics;
      const ok = (u: User) => {
        metrics?.authenticated('password', 'ok');
        return u;
      };
      if (metrics) check = this.#counted('password', check.then(ok));
      this.#inflight.set(key, check);
    }
    return check;
  }

  async #checkPassword(name: string, password: string, address: string): Promise<User> {
    const attempt = await this.#throttle.begin(name, address);
    if (attempt.waitMs) await new Promise((r) => setTimeout(r, attempt.waitMs));
    const row = await userByName(this.#ctx.store.db, name);
    if (this.directory && (await this.directory.owns(row))) {
      const user = await this.directory.signIn(name, password);
      await attempt.succeeded();
      return user;
    }
    const ok = await verifyPassword(password, row?.password_hash ?? null);
    if (!this.#ctx.config.auth.local && !(row && ok && (await this.#breakGlass(row)))) {
      // Company sign-in only: every password is refused alike, except a break-glass administrator's right one.
      throw new Refusal('local-login-disabled', { provider: this.#ctx.config.auth.oidc?.name });
    }
    // A disabled account answers every password alike, so it never confirms a guessed one.
    if (row?.disabled) throw new Refusal('user-disabled');
    if (!row || !ok) throw new Refusal('password-wrong');
    await attempt.succeeded();
    const stored = row.password_hash;
    if (stored && needsRehash(stored)) await this.#rehash(row.id, row.name, stored, password);
    return toUser(row);
  }

  /** `tessera user add --admin` accounts never bound to the company provider keep their password (docs/signin.md). */
  async #breakGlass(row: { id: number; admin: number }): Promise<boolean> {
    return row.admin === 1 && !(await identityOfUser(this.#ctx.store.db, row.id));
  }

  /** An imported hash (`tessera import verdaccio`) is accepted once, then replaced by our own. */
  async #rehash(userId: number, name: string, old: string, password: string): Promise<void> {
    const now = this.#ctx.clock.now();
    if (await replacePasswordHash(this.#ctx.store.db, userId, old, await hashPassword(password), now)) {
      await audit(this.#ctx, { event: 'password-rehashed', user: name, detail: { from: 'htpasswd' } });
    }
  }

  /** Writes batched last-used times and "used" audit events: one transaction every few seconds, not a write per request. */
  async flush(): Promise<void> {
    if (this.#lastUsed.size === 0) return;
    const batch = [...this.#lastUsed];
    this.#lastUsed.clear();
    await recordTokenUses(this.#ctx.store.db, batch).catch(() => {});
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    await this.directory?.close();
    await this.flush();
  }
}
