// Access tokens at rest: only the SHA-256 of a token is stored; the token itself is shown once.
import { randomUUID } from 'node:crypto';
import type { Db } from './store.ts';
import { bumpCounter } from './counters.ts';
import { lockUser } from './locks.ts';
import type { TokenRow } from './schema.ts';
import { generateToken, hashToken, redactToken } from '../domain/tokens.ts';
import { SESSION_KINDS, type Grants, type TokenKind } from '../domain/principal.ts';

export type NewToken = {
  userId: number;
  kind: TokenKind;
  name?: string | null;
  description?: string | null;
  readonly?: boolean;
  grants?: Grants | null;
  cidr?: string[] | null;
  bypass2fa?: boolean;
  expiresAt: number | null;
  now: number;
};

export async function insertToken(db: Db, t: NewToken): Promise<{ token: string; row: TokenRow }> {
  const token = generateToken();
  const row: TokenRow = {
    id: randomUUID(),
    user_id: t.userId,
    hash: hashToken(token),
    kind: t.kind,
    name: t.name ?? null,
    description: t.description ?? null,
    display: redactToken(token),
    readonly: t.readonly ? 1 : 0,
    grants: t.grants ? JSON.stringify(t.grants) : null,
    cidr: t.cidr?.length ? JSON.stringify(t.cidr) : null,
    bypass_2fa: t.bypass2fa ? 1 : 0,
    created_at: t.now,
    expires_at: t.expiresAt,
    revoked_at: null,
    revoked_why: null,
    last_used_at: null,
  };
  await db.insertInto('tokens').values(row).execute();
  return { token, row };
}

/**
 * insertToken, unless the user has `limit` active tokens already (then null). Counted and written under the
 * user's row lock: creates racing on several nodes take turns, so together they never pass the limit.
 */
export async function insertTokenWithinLimit(
  db: Db,
  t: NewToken,
  limit: number,
): Promise<{ token: string; row: TokenRow } | null> {
  return db.transaction().execute(async (trx) => {
    await lockUser(trx, t.userId);
    if ((await countActiveTokens(trx, t.userId, t.now)) >= limit) return null;
    return insertToken(trx, t);
  });
}

/** Revokes and bumps the revocation counter that every server process watches to drop cached tokens. */
export async function revokeTokens(
  db: Db,
  where: { id?: string; userId?: number; kind?: TokenKind | readonly TokenKind[] },
  why: string,
  now: number,
): Promise<number> {
  return db.transaction().execute(async (trx) => {
    let q = trx.updateTable('tokens').set({ revoked_at: now, revoked_why: why }).where('revoked_at', 'is', null);
    if (where.id) q = q.where('id', '=', where.id);
    if (where.userId !== undefined) q = q.where('user_id', '=', where.userId);
    if (typeof where.kind === 'string') q = q.where('kind', '=', where.kind);
    else if (where.kind) q = q.where('kind', 'in', where.kind);
    const r = await q.executeTakeFirst();
    const n = Number(r.numUpdatedRows);
    if (n > 0) await bumpRevocations(trx);
    return n;
  });
}

export async function bumpRevocations(db: Db): Promise<void> {
  await bumpCounter(db, 'revocations');
}

/** A token by the SHA-256 of its value, revoked or not. */
export async function tokenByHash(db: Db, hash: string): Promise<TokenRow | undefined> {
  return db.selectFrom('tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
}

/** A token the caller knows exists (the one it signed in with): a missing one is a bug, and throws. */
export async function existingToken(db: Db, id: string): Promise<TokenRow> {
  return db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** One of this user's tokens, by id or by the SHA-256 of its value. */
export async function tokenOfUser(
  db: Db,
  userId: number,
  by: { id: string } | { hash: string },
): Promise<TokenRow | undefined> {
  const q = db.selectFrom('tokens').selectAll().where('user_id', '=', userId);
  return ('id' in by ? q.where('id', '=', by.id) : q.where('hash', '=', by.hash)).executeTakeFirst();
}

/** What a request's credential needs: the token with its user's account, in one indexed read. */
export async function tokenWithUser(db: Db, hash: string) {
  return db
    .selectFrom('tokens')
    .innerJoin('users', 'users.id', 'tokens.user_id')
    .select([
      'tokens.id',
      'tokens.kind',
      'tokens.readonly',
      'tokens.grants',
      'tokens.bypass_2fa',
      'tokens.expires_at',
      'tokens.revoked_at',
      'tokens.revoked_why',
      'tokens.cidr',
      'users.id as uid',
      'users.name',
      'users.email',
      'users.admin',
      'users.email_verified',
      'users.disabled',
      'users.tfa',
    ])
    .where('tokens.hash', '=', hash)
    .executeTakeFirst();
}

/** Token ids starting with `prefix` (LIKE wildcards dropped), at most two: enough to see an ambiguous one.
 *  Case-insensitive on both dialects (SQLite's LIKE is, PostgreSQL's is not), as an id typed in capitals was. */
export async function tokenIdsByPrefix(db: Db, prefix: string): Promise<string[]> {
  // Ids are lowercase UUIDs; SQLite's LIKE ignores ASCII case and PostgreSQL's does not, so lower the prefix.
  const rows = await db
    .selectFrom('tokens')
    .select('id')
    .where('id', 'like', `${prefix.replace(/[%_]/g, '').toLowerCase()}%`)
    .limit(2)
    .execute();
  return rows.map((r) => r.id);
}

/** The user's tokens that count against the per-user limit: live, unexpired, not login sessions. */
export async function countActiveTokens(db: Db, userId: number, now: number): Promise<number> {
  const r = await db
    .selectFrom('tokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('kind', 'not in', SESSION_KINDS)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Every token of the user, revoked ones too, oldest first (`tessera token list`). */
export async function tokensOf(db: Db, userId: number): Promise<TokenRow[]> {
  return db.selectFrom('tokens').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
}

/** One page of the user's unrevoked, unexpired tokens, oldest first, and how many there are (`npm token list`). */
export async function liveTokensPage(
  db: Db,
  userId: number,
  page: { limit: number; offset: number },
  now: number,
): Promise<{ rows: TokenRow[]; total: number }> {
  // Expired tokens work no more: listed, every `npm login` would leave a row behind for good.
  const q = db
    .selectFrom('tokens')
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
  const total = Number((await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const rows = await q.selectAll().orderBy('created_at').orderBy('id').limit(page.limit).offset(page.offset).execute();
  return { rows, total };
}

/** The user's live, unexpired login sessions (npm's and the web pages'), newest first. */
export async function liveSessionsOf(db: Db, userId: number, now: number): Promise<TokenRow[]> {
  return db
    .selectFrom('tokens')
    .selectAll()
    .where('user_id', '=', userId)
    .where('kind', 'in', SESSION_KINDS)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('created_at', 'desc')
    .execute();
}

/** Ids of the user's unrevoked login sessions but `except` (the one making a password change). */
export async function sessionIdsOf(db: Db, userId: number, except: string): Promise<string[]> {
  const rows = await db
    .selectFrom('tokens')
    .select('id')
    .where('user_id', '=', userId)
    .where('kind', 'in', SESSION_KINDS)
    .where('revoked_at', 'is', null)
    .where('id', '!=', except)
    .execute();
  return rows.map((r) => r.id);
}

export type TokenUse = { at: number; count: number; user: string };

/**
 * Writes a batch of last-used times, each with its `token-used` audit row, in one transaction. The audit
 * rows are written here rather than through the audit store, so the batch commits as one.
 */
export async function recordTokenUses(db: Db, uses: Iterable<[id: string, use: TokenUse]>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const [id, u] of uses) {
      // Nodes flush their batches in any order: a later use recorded first is never moved back.
      await trx
        .updateTable('tokens')
        .set({ last_used_at: u.at })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', u.at)]))
        .execute();
      await trx
        .insertInto('audit')
        .values({
          at: u.at,
          event: 'token-used',
          user_name: u.user,
          token_id: id,
          reason: null,
          detail: JSON.stringify({ requests: u.count }),
        })
        .execute();
    }
  });
}
