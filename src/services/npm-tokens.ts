// `npm token list | create | revoke`, as the npm 11/12 CLI speaks it (both field spellings), with
// npmjs's limits on granular tokens. Only a login session (or the password) manages tokens.
import { BlockList, isIP } from 'node:net';
import { Refusal } from '../domain/reasons.ts';
import { authorizeAccount, type AccountAction, type PasswordFacts } from '../domain/policy.ts';
import {
  SESSION_KINDS, type Grants, type Permission, type Principal, type TokenKind, type User,
} from '../domain/principal.ts';
import { hashToken, isTesseraToken, MAX_EXPIRY_DAYS } from '../domain/tokens.ts';
import { insertToken, revokeTokens } from '../store/tokens.ts';
import type { TokenRow } from '../store/schema.ts';
import { audit, type Ctx } from './context.ts';
import { deny } from './deny.ts';
import { requireSecondFactor } from './two-factor.ts';
import type { Authenticator } from './authenticate.ts';

const DAY = 86_400_000;
const PERMISSIONS: Permission[] = ['read-only', 'read-write', 'read-write-stage-only', 'no-access'];

async function allowAccount(ctx: Ctx, p: Principal, action: AccountAction, account?: PasswordFacts): Promise<{ user: User; password: boolean }> {
  const d = authorizeAccount(p, action, account);
  if (!d.allowed) throw await deny(ctx, p, d, '');
  await requireSecondFactor(ctx, p, d);
  return { user: p.user!, password: d.password === true };
}

function stringList(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  const arr = typeof v === 'string' ? v.split(',') : v;
  if (!Array.isArray(arr) || arr.some((x) => typeof x !== 'string')) throw new Refusal('invalid-request', { detail: `"${field}" must be a list of strings` });
  return [...new Set((arr as string[]).map((s) => s.trim()).filter(Boolean))];
}

function permission(v: unknown, field: string, fallback: Permission): Permission {
  if (v === undefined || v === null || v === '') return fallback;
  if (!PERMISSIONS.includes(v as Permission)) throw new Refusal('invalid-request', { detail: `"${field}" must be one of ${PERMISSIONS.join(', ')}` });
  return v as Permission;
}

export function validateCidrs(list: string[]): string[] {
  for (const c of list) {
    const [addr, bits, extra] = c.split('/');
    const family = isIP(addr);
    const max = family === 6 ? 128 : 32;
    const n = bits === undefined ? max : Number(bits);
    if (!family || extra !== undefined || !Number.isInteger(n) || n < 0 || n > max) {
      throw new Refusal('invalid-request', { detail: `"${c}" is not a CIDR range (e.g. 192.168.0.0/16 or 2001:db8::/32)` });
    }
    new BlockList().addSubnet(addr, n, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

/** Expiry in days (a number or a numeric string) or an ISO date, within the policy's bounds. */
function expiryDays(ctx: Ctx, v: unknown, write: boolean): number {
  const pol = ctx.config.tokens;
  // No policy maximum still has one: an expiry past what a date can hold would break every token list.
  const max = Math.min(write ? pol.writeMaxDays : (pol.readMaxDays ?? MAX_EXPIRY_DAYS), MAX_EXPIRY_DAYS);
  let days: number;
  if (v === undefined || v === null || v === '') {
    days = write ? pol.writeDefaultDays : pol.readDefaultDays;
  } else if (typeof v === 'number' || /^\d+(\.\d+)?$/.test(String(v))) {
    days = Number(v);
  } else {
    const at = Date.parse(String(v));
    if (Number.isNaN(at)) throw new Refusal('invalid-request', { detail: `"expires" must be a number of days or an ISO date (got ${JSON.stringify(v)})` });
    days = (at - ctx.clock.now()) / DAY;
  }
  if (!Number.isFinite(days) || !(days >= pol.minExpiryDays) || days > max) {
    throw new Refusal('token-expiry-out-of-range', {
      min: pol.minExpiryDays, max, days: Number.isFinite(days) ? Math.round(days * 100) / 100 : String(v),
      permission: write ? 'read-write' : 'read-only',
    });
  }
  return days;
}

export type CreatedToken = Record<string, unknown>;

export async function createForCaller(ctx: Ctx, auth: Authenticator, p: Principal, body: Record<string, unknown>): Promise<CreatedToken> {
  const row = p.user ? await ctx.store.db.selectFrom('users').select(['password_hash']).where('id', '=', p.user.id).executeTakeFirst() : undefined;
  const passwordSent = typeof body.password === 'string' && body.password !== '';
  const { user, password } = await allowAccount(ctx, p, 'token-create', { hasPassword: !!row?.password_hash, passwordSent });
  if (password) await auth.checkPassword(user.name, String(body.password));
  const pol = ctx.config.tokens;
  // npm-profile's createToken sends {password, readonly, cidr_whitelist}; `npm token create` never sends readonly.
  const legacy = typeof body.readonly === 'boolean';
  if (legacy && !pol.classic) throw new Refusal('classic-tokens-disabled');
  const active = await ctx.store.db.selectFrom('tokens').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', user.id).where('revoked_at', 'is', null).where('kind', 'not in', SESSION_KINDS)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', ctx.clock.now())])).executeTakeFirstOrThrow();
  if (Number(active.n) >= pol.maxPerUser) throw new Refusal('token-limit-reached', { limit: pol.maxPerUser });

  const cidr = validateCidrs(stringList(body.cidr_whitelist ?? body.cidr, 'cidr_whitelist'));
  const now = ctx.clock.now();
  const description = typeof (body.token_description ?? body.description) === 'string' ? String(body.token_description ?? body.description) : null;

  let kind: TokenKind;
  let grants: Grants | null = null;
  let readonly = false;
  let expiresAt: number | null;
  if (legacy) {
    // npm-profile's createToken ({password, readonly, cidr_whitelist}): a classic token.
    readonly = body.readonly === true;
    kind = readonly ? 'classic-readonly' : 'classic-publish';
    expiresAt = null;
  } else {
    let packages = stringList(body.packages, 'packages');
    let packagesAll = body.packages_all === true;
    if (packages.includes('*')) { packagesAll = true; packages = packages.filter((x) => x !== '*'); }
    const scopes = stringList(body.scopes, 'scopes').map((s) => (s.startsWith('@') ? s : `@${s}`));
    const orgs = stringList(body.orgs, 'orgs').map((o) => o.replace(/^@/, ''));
    if (packages.length + scopes.length > pol.maxPackagesAndScopes) {
      throw new Refusal('token-too-many-packages', { limit: pol.maxPackagesAndScopes, count: packages.length + scopes.length });
    }
    if (orgs.length > pol.maxOrgs) throw new Refusal('token-too-many-orgs', { limit: pol.maxOrgs, count: orgs.length });
    const limited = packagesAll || packages.length > 0 || scopes.length > 0;
    // No packages named: "all packages", unless the token is for orgs only.
    const pkgPerm = permission(body.packages_and_scopes_permission, 'packages_and_scopes_permission', !limited && orgs.length > 0 ? 'no-access' : 'read-write');
    grants = {
      packagesAll: packagesAll || (!limited && orgs.length === 0), packages, scopes, permission: pkgPerm,
      orgs, orgsPermission: permission(body.orgs_permission, 'orgs_permission', orgs.length ? 'read-only' : 'no-access'),
    };
    const writes = grants.permission !== 'read-only' && grants.permission !== 'no-access' || grants.orgsPermission === 'read-write';
    readonly = !writes;
    if (body.bypass_2fa === true && !writes) throw new Refusal('invalid-request', { detail: 'Only read-write tokens can bypass two-factor authentication' });
    expiresAt = now + Math.round(expiryDays(ctx, body.expires, writes) * DAY);
    kind = 'granular';
  }
  const name = typeof body.name === 'string' && body.name ? body.name.slice(0, 200) : null;
  const { token, row: created } = await insertToken(ctx.store.db, {
    userId: user.id, kind, name, description, readonly, grants, cidr, bypass2fa: body.bypass_2fa === true, expiresAt, now,
  });
  await audit(ctx, { event: 'token-created', user: user.name, tokenId: created.id, detail: { kind, via: 'npm token create' } });
  return { ...present(created), token };
}

/** GET /-/tessera/v1/token: the caller's own credential, what it is and what limits it carries. */
export async function describeCredential(ctx: Ctx, p: Principal) {
  if (!p.user) throw new Refusal('auth-required', { action: 'inspect your token' });
  const c = p.credential;
  let token: Record<string, unknown> | null = null;
  if (c.type === 'token') {
    token = present(await ctx.store.db.selectFrom('tokens').selectAll().where('id', '=', c.id).executeTakeFirstOrThrow());
  }
  return { user: p.user.name, credential: c.type === 'token' ? c.kind : 'password', token };
}

/** A token as `npm token list` shows it: redacted, with its limits. */
export function present(r: TokenRow): Record<string, unknown> {
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
    permissions: grants ? [
      { name: 'package', action: grants.permission },
      { name: 'org', action: grants.orgsPermission },
    ] : [{ name: 'package', action: r.readonly ? 'read-only' : 'read-write' }],
  };
}

export async function listForCaller(ctx: Ctx, p: Principal, page: number, perPage: number) {
  const { user } = await allowAccount(ctx, p, 'token-list');
  const base = ctx.store.db.selectFrom('tokens').where('user_id', '=', user.id).where('revoked_at', 'is', null);
  const total = Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const rows = await base.selectAll().orderBy('created_at').orderBy('id').limit(perPage).offset(page * perPage).execute();
  return { objects: rows.map(present), total, hasNext: (page + 1) * perPage < total };
}

export async function revokeForCaller(ctx: Ctx, auth: Authenticator, p: Principal, keyOrToken: string): Promise<void> {
  const { user } = await allowAccount(ctx, p, 'token-revoke');
  const q = ctx.store.db.selectFrom('tokens').select(['id', 'revoked_at']).where('user_id', '=', user.id);
  const row = isTesseraToken(keyOrToken)
    ? await q.where('hash', '=', hashToken(keyOrToken)).executeTakeFirst()
    : await q.where('id', '=', keyOrToken).executeTakeFirst();
  if (!row) throw new Refusal('token-not-found', { id: keyOrToken.slice(0, 12) });
  if (row.revoked_at === null) {
    await revokeTokens(ctx.store.db, { id: row.id }, 'revoked by its owner (npm token revoke)', ctx.clock.now());
    auth.invalidate();
  }
  await audit(ctx, { event: 'token-revoked', user: user.name, tokenId: row.id, reason: 'npm token revoke' });
}
