// Company sign-in through the LDAP directory (`auth.ldap`): the password of a directory account is checked
// by a bind, the first successful bind makes the account, and every directory account is checked again
// on a schedule — groups re-applied, and an account the directory no longer has disabled with its tokens
// revoked. Accounts that were not made this way keep their registry password (a break-glass admin too).
import { Refusal } from '../domain/reasons.ts';
import type { User } from '../domain/principal.ts';
import { insertLdapAccount, ldapAccountOf, liveLdapAccounts, updateLdapAccount } from '../store/ldap-accounts.ts';
import { revokeTokens } from '../store/tokens.ts';
import { markEmailVerified, setUserDisabled, userByName, type UserRecord } from '../store/users.ts';
import { createUser, userNameProblem } from './accounts.ts';
import { toUser } from './authenticate.ts';
import { audit, type Ctx } from './context.ts';
import { applyGroups } from './directory-groups.ts';
import { DirectoryError, type Directory } from './ldap.ts';
import { whileLeased } from './leases.ts';

export const REMOVED_WHY = 'removed from the directory';
type Row = UserRecord;

export class DirectoryAccounts {
  readonly #ctx: Ctx;
  readonly #dir: Directory;
  /** Called after tokens were revoked, so this process's token cache forgets them at once. */
  readonly #revoked: () => void;
  #timer: NodeJS.Timeout | undefined;
  #lastCheck: number;
  #running: Promise<unknown> | undefined;
  readonly #creating = new Map<string, Promise<User>>();

  constructor(ctx: Ctx, dir: Directory, revoked: () => void) {
    this.#ctx = ctx;
    this.#dir = dir;
    this.#revoked = revoked;
    this.#lastCheck = ctx.clock.now();
  }

  #link(userId: number) {
    return ldapAccountOf(this.#ctx.store.db, userId);
  }

  /** Whether the password of this name is the directory's: a new name, or an account a directory sign-in made. */
  async owns(row: Row | undefined): Promise<boolean> {
    return !row || (await this.#link(row.id)) !== undefined;
  }

  /** The password check for a directory account (the caller counts the attempt for throttling). */
  async signIn(name: string, password: string): Promise<User> {
    const ctx = this.#ctx;
    const row = await userByName(ctx.store.db, name);
    // Made meanwhile by a local sign-up: never the directory's to take over.
    if (row && !(await this.owns(row))) throw new Refusal('user-exists', { name });
    const link = row ? await this.#link(row.id) : undefined;
    const removed = link?.removed_at != null;
    // An account an administrator disabled answers every password alike, so it never confirms a guessed one.
    if (row?.disabled && !removed) throw new Refusal('user-disabled');
    let entry: Awaited<ReturnType<Directory['authenticate']>>;
    try {
      entry = await this.#dir.authenticate(name, password);
    } catch (e) {
      if (!(e instanceof DirectoryError)) throw e;
      if (e.kind === 'unavailable') {
        ctx.log?.warn({ user: name, error: e.message }, 'directory unavailable');
        throw new Refusal('directory-unavailable');
      }
      throw new Refusal(removed ? 'directory-user-removed' : 'directory-refused');
    }
    const now = ctx.clock.now();
    let user: User;
    if (!row) {
      // Told only to whom the directory took the password: the name alone says nothing about the directory.
      const problem = userNameProblem(name);
      if (problem) throw new Refusal('directory-name-invalid', { name, detail: problem });
      if (!entry.email) {
        throw new Refusal('invalid-request', { detail: 'The directory has no e-mail address for this user' });
      }
      user = await this.#createOnce(name, entry.email, entry.dn, now);
    } else {
      if (removed) {
        // Back in the directory: the account the directory disabled comes back (its old tokens stay revoked).
        await setUserDisabled(ctx.store.db, row.id, false, now);
        await audit(ctx, { event: 'user-enabled', user: name, detail: { via: 'ldap' } });
      }
      await updateLdapAccount(ctx.store.db, row.id, { dn: entry.dn, synced_at: now, removed_at: null });
      user = toUser(row);
    }
    await applyGroups(ctx, user.name, entry.groups, 'ldap', ctx.config.auth.groups);
    return user;
  }

  /** The account of a first sign-in. Two first sign-ins of one name at once (two terminals, a CI burst with
   *  Basic auth from several machines) share this process's; across nodes, the loser of the insert takes the
   *  winner's. */
  #createOnce(name: string, email: string, dn: string, now: number): Promise<User> {
    let made = this.#creating.get(name);
    if (!made) {
      made = this.#create(name, email, dn, now)
        .catch(async (e: unknown) => {
          const row = await userByName(this.#ctx.store.db, name);
          if (!row || !(await this.owns(row))) throw e;
          return toUser(row);
        })
        .finally(() => this.#creating.delete(name));
      this.#creating.set(name, made);
    }
    return made;
  }

  /** The registry account a first directory sign-in makes, linked to its entry in one transaction. */
  async #create(name: string, email: string, dn: string, now: number): Promise<User> {
    const ctx = this.#ctx;
    const user = await ctx.store.transaction(async (trx) => {
      const made = await createUser({ ...ctx, store: { ...ctx.store, db: trx } }, { name, email, password: null });
      // The company's directory vouches for the address it keeps.
      await markEmailVerified(trx, { id: made.id });
      await insertLdapAccount(trx, { user_id: made.id, dn, synced_at: now, removed_at: null });
      return made;
    });
    await audit(ctx, { event: 'directory-account-created', user: name, detail: { dn } });
    return { ...user, emailVerified: true };
  }

  /** Checks every directory account against the directory now. Stops at the first unanswered lookup: an
   *  outage of the directory never disables anyone. */
  async checkAll(): Promise<{ checked: number; removed: string[] }> {
    const ctx = this.#ctx;
    const rows = await liveLdapAccounts(ctx.store.db);
    const removed: string[] = [];
    let checked = 0;
    for (const u of rows) {
      let entry: Awaited<ReturnType<Directory['lookup']>>;
      try {
        entry = await this.#dir.lookup(u.name);
      } catch (e) {
        if (!(e instanceof DirectoryError)) throw e;
        ctx.log?.warn({ error: e.message }, 'directory unavailable: periodic check stopped');
        break;
      }
      checked++;
      const now = ctx.clock.now();
      if (entry) {
        await updateLdapAccount(ctx.store.db, u.id, { dn: entry.dn, synced_at: now });
        if (!u.disabled) await applyGroups(ctx, u.name, entry.groups, 'ldap', ctx.config.auth.groups);
        continue;
      }
      await setUserDisabled(ctx.store.db, u.id, true, now);
      await updateLdapAccount(ctx.store.db, u.id, { removed_at: now, synced_at: now });
      const tokens = await revokeTokens(ctx.store.db, { userId: u.id }, REMOVED_WHY, now);
      await applyGroups(ctx, u.name, [], 'ldap', ctx.config.auth.groups);
      const detail = { via: 'ldap', why: REMOVED_WHY, tokensRevoked: tokens };
      await audit(ctx, { event: 'user-disabled', user: u.name, detail });
      removed.push(u.name);
    }
    if (removed.length) this.#revoked();
    return { checked, removed };
  }

  /** Runs checkAll() every `auth.ldap.syncInterval` of the registry's clock (looked at each second, so a
   *  test's clock moved forward is seen at once). */
  start(): void {
    const every = this.#ctx.config.auth.ldap?.syncIntervalMs ?? 5 * 60_000;
    this.#timer = setInterval(
      () => {
        if (this.#running || this.#ctx.clock.now() - this.#lastCheck < every) return;
        this.#lastCheck = this.#ctx.clock.now();
        // One node per interval runs the check (services/leases.ts); the others skip this round.
        this.#running = whileLeased(this.#ctx, 'ldap-sync', every, () => this.checkAll())
          .catch((e: Error) => this.#ctx.log?.warn({ error: e.message }, 'directory check failed'))
          .finally(() => {
            this.#running = undefined;
          });
      },
      Math.min(every, 1000),
    );
    this.#timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
