// Creating, listing and revoking tokens (the admin CLI now; `npm token` builds on the same calls).
import { Refusal } from '../domain/reasons.ts';
import type { Grants, TokenKind } from '../domain/principal.ts';
import { hashToken, isTesseraToken, MAX_EXPIRY_DAYS } from '../domain/tokens.ts';
import { insertToken, revokeTokens } from '../store/tokens.ts';
import { userByName } from './accounts.ts';
import { audit, type Ctx } from './context.ts';

export type TokenSpec = {
  user: string;
  kind: TokenKind;
  name?: string | null;
  readonly?: boolean;
  grants?: Grants | null;
  cidr?: string[];
  bypass2fa?: boolean;
  expiresInMs: number | null;
};

export async function adminCreateToken(ctx: Ctx, spec: TokenSpec): Promise<{ token: string; id: string; expiresAt: number | null }> {
  const user = await userByName(ctx, spec.user);
  if (!user) throw new Refusal('unknown-user', { name: spec.user });
  const now = ctx.clock.now();
  const ms = spec.expiresInMs;
  // Bounded like `npm token create`'s expiry: a time no date can hold would break every token list.
  if (ms !== null && !(Number.isFinite(ms) && ms > 0 && ms <= MAX_EXPIRY_DAYS * 86_400_000)) {
    throw new Refusal('token-expiry-out-of-range', {
      min: '0', max: MAX_EXPIRY_DAYS, days: Number.isFinite(ms) ? Math.round(ms / 864_000) / 100 : String(ms),
      permission: spec.readonly ? 'read-only' : 'read-write',
    });
  }
  const expiresAt = ms === null ? null : now + ms;
  const { token, row } = await insertToken(ctx.store.db, {
    userId: user.id, kind: spec.kind, name: spec.name, readonly: spec.readonly, grants: spec.grants, cidr: spec.cidr,
    bypass2fa: spec.bypass2fa, expiresAt, now,
  });
  await audit(ctx, { event: 'token-created', user: user.name, tokenId: row.id, detail: { kind: spec.kind, by: 'admin' } });
  return { token, id: row.id, expiresAt };
}

export async function listTokens(ctx: Ctx, userName: string) {
  const user = await userByName(ctx, userName);
  if (!user) throw new Refusal('unknown-user', { name: userName });
  return ctx.store.db.selectFrom('tokens').selectAll().where('user_id', '=', user.id).orderBy('created_at').execute();
}

/** Revokes by id (or unique id prefix) or by the token itself. */
export async function adminRevoke(ctx: Ctx, idOrToken: string, why = 'revoked by an administrator'): Promise<string> {
  let id: string | undefined;
  if (isTesseraToken(idOrToken)) {
    id = (await ctx.store.db.selectFrom('tokens').select('id').where('hash', '=', hashToken(idOrToken)).executeTakeFirst())?.id;
  } else if (idOrToken.length >= 6) {
    const rows = await ctx.store.db.selectFrom('tokens').select('id').where('id', 'like', `${idOrToken.replace(/[%_]/g, '')}%`).limit(2).execute();
    if (rows.length > 1) throw new Refusal('invalid-request', { detail: `Token id "${idOrToken}" is ambiguous` });
    id = rows[0]?.id;
  }
  if (!id) throw new Refusal('invalid-request', { detail: `Unknown token id or value "${idOrToken.slice(0, 12)}…"` });
  await revokeTokens(ctx.store.db, { id }, why, ctx.clock.now());
  await audit(ctx, { event: 'token-revoked', tokenId: id, reason: why });
  return id;
}

export async function adminRevokeAll(ctx: Ctx, userName: string): Promise<number> {
  const user = await userByName(ctx, userName);
  if (!user) throw new Refusal('unknown-user', { name: userName });
  const n = await revokeTokens(ctx.store.db, { userId: user.id }, 'all tokens revoked by an administrator', ctx.clock.now());
  await audit(ctx, { event: 'token-revoked', user: user.name, reason: 'revoke-all', detail: { count: n } });
  return n;
}
