// `npm token list | create | revoke`, as the npm 11/12 CLI speaks it (both field spellings), with
// npmjs's limits on granular tokens. Only a login session (or the password) manages tokens.
import { Refusal } from '../domain/reasons.ts';
import { authorizeAccount, type AccountAction, type PasswordFacts } from '../domain/policy.ts';
import type { Grants, Principal, User } from '../domain/principal.ts';
import type { TokenCreateBody, TokenExpiry, TokenSpec } from '../domain/commands.ts';
import type { TokenMeta, TokenSelf } from '../domain/wire.ts';
import { hashToken, isTesseraToken } from '../domain/tokens.ts';
import { existingToken, liveTokensPage, revokeTokens, tokenOfUser } from '../store/tokens.ts';
import { userById } from '../store/users.ts';
import type { TokenRow } from '../store/schema.ts';
import { audit, type Ctx } from './context.ts';
import { deny } from './deny.ts';
import { requireSecondFactor } from './two-factor.ts';
import type { Authenticator } from './authenticate.ts';
import { createToken } from './tokens.ts';
import { passwordCounts } from './accounts.ts';

/** Decides, refuses when denied, checks the password the decision asks for, and returns the user and the second
 *  factor still to take: the caller takes it last, so a request refused for what it asks (a mistyped password,
 *  an expiry out of bounds) does not use up the one-time password sent with it, which works once. */
async function allowAccount(
  ctx: Ctx,
  p: Principal,
  action: AccountAction,
  account?: PasswordFacts & { check: () => Promise<unknown> },
): Promise<{ user: User; secondFactor: () => Promise<void> }> {
  const d = authorizeAccount(p, action, account);
  if (!d.allowed) throw await deny(ctx, p, d, '');
  if (d.password === true) await account?.check();
  return { user: p.user!, secondFactor: () => requireSecondFactor(ctx, p, d) };
}

/** The route schema has checked the shape; a comma-separated string is npm's config for a list. */
function stringList(v: string | string[] | null | undefined): string[] {
  const arr = typeof v === 'string' ? v.split(',') : (v ?? []);
  return [...new Set(arr.map((s) => s.trim()).filter(Boolean))];
}

/** Expiry in days (a number or a numeric string) or an ISO date; its bounds are createToken's. */
function expiryOf(v: number | string | null | undefined): TokenExpiry {
  if (v === undefined || v === null || v === '') return 'default';
  if (typeof v === 'number' || /^\d+(\.\d+)?$/.test(v)) return { days: Number(v) };
  const at = Date.parse(v);
  if (Number.isNaN(at))
    throw new Refusal('invalid-request', {
      detail: `"expires" must be a number of days or an ISO date (got ${JSON.stringify(v)})`,
      field: 'expires',
    });
  return { at };
}

/** `npm token create`'s body as the one TokenSpec that createToken takes. */
function specOf(user: string, body: TokenCreateBody): TokenSpec {
  const description = body.token_description ?? body.description ?? null;
  const name = body.name || null;
  const cidr = stringList(body.cidr_whitelist ?? body.cidr);
  // npm-profile's createToken sends {password, readonly, cidr_whitelist}; `npm token create` never sends readonly.
  if (typeof body.readonly === 'boolean') {
    const kind = body.readonly ? 'classic-readonly' : 'classic-publish';
    return { user, kind, name, description, grants: null, cidr, bypass2fa: body.bypass_2fa === true, expires: 'never' };
  }
  let packages = stringList(body.packages);
  let packagesAll = body.packages_all === true;
  if (packages.includes('*')) {
    packagesAll = true;
    packages = packages.filter((x) => x !== '*');
  }
  const scopes = stringList(body.scopes).map((s) => (s.startsWith('@') ? s : `@${s}`));
  const orgs = stringList(body.orgs).map((o) => o.replace(/^@/, ''));
  const limited = packagesAll || packages.length > 0 || scopes.length > 0;
  // No packages named: "all packages", unless the token is for orgs only.
  const grants: Grants = {
    packagesAll: packagesAll || (!limited && orgs.length === 0),
    packages,
    scopes,
    permission: body.packages_and_scopes_permission || (!limited && orgs.length > 0 ? 'no-access' : 'read-write'),
    orgs,
    orgsPermission: body.orgs_permission || (orgs.length ? 'read-only' : 'no-access'),
  };
  return {
    user,
    kind: 'granular',
    name,
    description,
    grants,
    cidr,
    bypass2fa: body.bypass_2fa === true,
    expires: expiryOf(body.expires),
  };
}

export type CreatedToken = TokenMeta & { token: string };

export async function createForCaller(
  ctx: Ctx,
  auth: Authenticator,
  p: Principal,
  body: TokenCreateBody,
): Promise<CreatedToken> {
  const row = p.user ? await userById(ctx.store.db, p.user.id) : undefined;
  const passwordSent = typeof body.password === 'string' && body.password !== '';
  const hasPassword = passwordCounts(ctx, row);
  const check = () => auth.checkPassword(p.user!.name, String(body.password));
  const { user, secondFactor } = await allowAccount(ctx, p, 'token-create', { hasPassword, passwordSent, check });
  const { token, row: created } = await createToken(ctx, specOf(user.name, body), 'npm token create', secondFactor);
  return { ...present(created), token };
}

/** GET /-/tessera/v1/token: the caller's own credential, what it is and what limits it carries. */
export async function describeCredential(ctx: Ctx, p: Principal): Promise<TokenSelf> {
  if (!p.user) throw new Refusal('auth-required', { action: 'inspect your token' });
  const c = p.credential;
  let token: TokenMeta | null = null;
  if (c.type === 'token') {
    token = present(await existingToken(ctx.store.db, c.id));
  }
  return { user: p.user.name, credential: c.type === 'token' ? c.kind : 'password', token };
}

/** A token as `npm token list` shows it: redacted, with its limits. */
export function present(r: TokenRow): TokenMeta {
  const grants = r.grants ? (JSON.parse(r.grants) as Grants) : null;
  // A row written before expiries were bounded may hold a time no date can show: list it without one.
  const iso = (t: number | null) => {
    const d = t === null ? null : new Date(t);
    return d === null || Number.isNaN(d.getTime()) ? null : d.toISOString();
  };
  return {
    key: r.id,
    token: r.display,
    type: r.kind,
    name: r.name,
    description: r.description,
    readonly: r.readonly === 1,
    cidr_whitelist: r.cidr ? (JSON.parse(r.cidr) as string[]) : null,
    bypass_2fa: r.bypass_2fa === 1,
    created: iso(r.created_at),
    updated: iso(r.created_at),
    accessed: iso(r.last_used_at),
    expires: iso(r.expires_at),
    expiry: iso(r.expires_at),
    revoked: iso(r.revoked_at),
    packages_all: grants?.packagesAll ?? true,
    packages: grants?.packages ?? [],
    scopes: grants?.scopes ?? [],
    orgs: grants?.orgs ?? [],
    permissions: grants
      ? [
          { name: 'package', action: grants.permission },
          { name: 'org', action: grants.orgsPermission },
        ]
      : [{ name: 'package', action: r.readonly ? 'read-only' : 'read-write' }],
  };
}

export async function listForCaller(ctx: Ctx, p: Principal, page: number, perPage: number) {
  const { user } = await allowAccount(ctx, p, 'token-list'); // a read: no second factor
  const at = { limit: perPage, offset: page * perPage };
  const { rows, total } = await liveTokensPage(ctx.store.db, user.id, at, ctx.clock.now());
  return { objects: rows.map(present), total, hasNext: (page + 1) * perPage < total };
}

export async function revokeForCaller(ctx: Ctx, auth: Authenticator, p: Principal, keyOrToken: string): Promise<void> {
  const { user, secondFactor } = await allowAccount(ctx, p, 'token-revoke');
  const by = isTesseraToken(keyOrToken) ? { hash: hashToken(keyOrToken) } : { id: keyOrToken };
  const row = await tokenOfUser(ctx.store.db, user.id, by);
  if (!row) throw new Refusal('token-not-found', { id: keyOrToken.slice(0, 12) });
  await secondFactor();
  if (row.revoked_at === null) {
    await revokeTokens(ctx.store.db, { id: row.id }, 'revoked by its owner (npm token revoke)', ctx.clock.now());
    auth.invalidate();
  }
  await audit(ctx, { event: 'token-revoked', user: user.name, tokenId: row.id, reason: 'npm token revoke' });
}
