// Access tokens at rest: only the SHA-256 of a token is stored; the token itself is shown once.
import { randomUUID } from 'node:crypto';
import type { Db } from './store.ts';
import { bumpCounter } from './counters.ts';
import type { TokenRow } from './schema.ts';
import { generateToken, hashToken, redactToken } from '../domain/tokens.ts';
import type { Grants, TokenKind } from '../domain/principal.ts';

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
