// Creating, listing and revoking tokens. createToken is the one way a user's token is made, by `npm token
// create` and by `tessera token create` alike, so both meet the same limits (tokens.* config) and the same
// refusals; only an administrator may choose any lifetime.
import { BlockList, isIP } from 'node:net';
import { Refusal } from '../domain/reasons.ts';
import type { Grants, TokenKind } from '../domain/principal.ts';
import type { TokenExpiry, TokenSpec } from '../domain/commands.ts';
import { hashToken, isTesseraToken, MAX_EXPIRY_DAYS } from '../domain/tokens.ts';
import { isReadableName } from '../domain/names.ts';
import {
  countActiveTokens,
  insertToken,
  insertTokenWithinLimit,
  revokeTokens,
  tokenByHash,
  tokenIdsByPrefix,
  tokensOf,
} from '../store/tokens.ts';
import type { TokenRow } from '../store/schema.ts';
import { userByName } from './accounts.ts';
import { audit, type Ctx } from './context.ts';

const DAY = 86_400_000;

export type CreatedBy = 'npm token create' | 'admin';

export function validateCidrs(list: string[]): string[] {
  for (const c of list) {
    const [addr, bits, extra] = c.split('/');
    const family = isIP(addr);
    const max = family === 6 ? 128 : 32;
    // Digits only: Number('') is 0, and "10.0.0.0/" must not become 10.0.0.0/0, which lets everyone in.
    const n = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
    if (!family || extra !== undefined || !Number.isInteger(n) || n < 0 || n > max) {
      throw new Refusal('invalid-request', {
        detail: `"${c}" is not a CIDR range (e.g. 192.168.0.0/16 or 2001:db8::/32)`,
        field: 'cidr_whitelist',
      });
    }
    new BlockList().addSubnet(addr, n, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

const ORG_NAME = /^[a-z0-9][a-z0-9._-]{0,213}$/;
const EXAMPLES: Record<string, string> = {
  'a scope': '@acme or @acme/*',
  'a package name': 'left-pad or @acme/lib',
  'an organization name': 'acme',
};

/**
 * The packages, scopes and orgs a granular token names, as the policy matches them. `@scope/*` is how people
 * write a scope, in `--packages` as in `--scopes`: it means the scope. Anything else that no package, scope or
 * organization can be called is refused, so a token never looks limited to something it does not cover.
 */
export function validateGrants(g: Grants): Grants {
  // `field`: the part of npm's request it is in, so that a form can show the refusal at that field.
  const bad = (value: string, what: string, field: string) =>
    new Refusal('invalid-request', { detail: `"${value}" is not ${what} (e.g. ${EXAMPLES[what]})`, field });
  const scopes = new Set<string>();
  const packages = new Set<string>();
  const scope = (s: string, given: string, field: string) => {
    const name = s.replace(/\/\*?$/, '');
    if (!ORG_NAME.test(name.slice(1))) throw bad(given, 'a scope', field);
    scopes.add(name);
  };
  for (const s of g.scopes) scope(s.startsWith('@') ? s : `@${s}`, s, 'scopes');
  for (const p of g.packages) {
    if (/^@[^/]+\/\*$/.test(p)) scope(p, p, 'packages');
    else if (isReadableName(p)) packages.add(p);
    else throw bad(p, 'a package name', 'packages');
  }
  for (const o of g.orgs) if (!ORG_NAME.test(o)) throw bad(o, 'an organization name', 'orgs');
  return { ...g, packages: [...packages], scopes: [...scopes] };
}

/** Whether a token may write anything: what its expiry bounds and bypass-2fa depend on. */
export function writes(kind: TokenSpec['kind'], grants: Grants | null): boolean {
  if (!grants) return kind !== 'classic-readonly';
  return (
    (grants.permission !== 'read-only' && grants.permission !== 'no-access') || grants.orgsPermission === 'read-write'
  );
}

/** When the token ends. npm's callers stay within the policy's bounds; an administrator may set any lifetime. */
function expiresAt(ctx: Ctx, e: TokenExpiry, write: boolean, by: CreatedBy): number | null {
  const pol = ctx.config.tokens;
  const now = ctx.clock.now();
  if (e === 'never' && by === 'admin') return null;
  const days =
    e === 'default' || e === 'never'
      ? write
        ? pol.writeDefaultDays
        : pol.readDefaultDays
      : 'days' in e
        ? e.days
        : 'ms' in e
          ? e.ms / DAY
          : (e.at - now) / DAY;
  // Even "no maximum" has one: a time no date can hold would break the user's token list for good.
  const max = Math.min((write ? pol.writeMaxDays : pol.readMaxDays) ?? MAX_EXPIRY_DAYS, MAX_EXPIRY_DAYS);
  const min = by === 'admin' ? 0 : pol.minExpiryDays;
  const inRange = Number.isFinite(days) && days > 0 && days >= min && days <= (by === 'admin' ? MAX_EXPIRY_DAYS : max);
  if (!inRange) {
    throw new Refusal('token-expiry-out-of-range', {
      min,
      max: by === 'admin' ? MAX_EXPIRY_DAYS : max,
      days: Number.isFinite(days) ? Math.round(days * 100) / 100 : String(days),
      permission: write ? 'read-write' : 'read-only',
      field: 'expires',
    });
  }
  return now + Math.round(days * DAY);
}

/** The one token-creation function: checks the spec against tokens.* and writes the token. `beforeWrite` (the
 *  caller's second factor) runs once every check has passed, so a refused spec does not use up a code. */
export async function createToken(
  ctx: Ctx,
  spec: TokenSpec,
  by: CreatedBy,
  beforeWrite?: () => Promise<void>,
): Promise<{ token: string; row: TokenRow }> {
  const user = await userByName(ctx, spec.user);
  if (!user) throw new Refusal('unknown-user', { name: spec.user });
  const pol = ctx.config.tokens;
  // A request for a token is not a credential: 403 with words npm prints, not the 401 of a classic token used.
  if (spec.kind !== 'granular' && !pol.classic) throw new Refusal('classic-token-not-made');
  if (spec.kind === 'granular' && !spec.grants)
    throw new Refusal('invalid-request', { detail: 'A granular token needs its grants', field: 'packages' });
  const now = ctx.clock.now();
  if ((await countActiveTokens(ctx.store.db, user.id, now)) >= pol.maxPerUser)
    throw new Refusal('token-limit-reached', { limit: pol.maxPerUser });
  const g = spec.kind === 'granular' && spec.grants ? validateGrants(spec.grants) : null;
  if (g && g.packages.length + g.scopes.length > pol.maxPackagesAndScopes) {
    throw new Refusal('token-too-many-packages', {
      limit: pol.maxPackagesAndScopes,
      count: g.packages.length + g.scopes.length,
      field: 'packages',
    });
  }
  if (g && g.orgs.length > pol.maxOrgs)
    throw new Refusal('token-too-many-orgs', { limit: pol.maxOrgs, count: g.orgs.length, field: 'orgs' });
  validateCidrs(spec.cidr);
  const write = writes(spec.kind, g);
  if (spec.bypass2fa && !write)
    throw new Refusal('invalid-request', {
      detail: 'Only read-write tokens can bypass two-factor authentication',
      field: 'bypass_2fa',
    });
  // Classic tokens never expire unless an administrator says so (npm's own classic tokens did not).
  const end = spec.kind !== 'granular' && spec.expires === 'never' ? null : expiresAt(ctx, spec.expires, write, by);
  await beforeWrite?.();
  const made = await insertTokenWithinLimit(
    ctx.store.db,
    {
      userId: user.id,
      kind: spec.kind,
      name: spec.name?.slice(0, 200) || null,
      description: spec.description,
      readonly: !write,
      grants: g,
      cidr: spec.cidr,
      bypass2fa: spec.bypass2fa,
      expiresAt: end,
      now,
    },
    pol.maxPerUser,
  );
  // The count above is a cheap early answer; this one, under the user's row lock, is the one that holds.
  if (!made) throw new Refusal('token-limit-reached', { limit: pol.maxPerUser });
  const { token, row } = made;
  await audit(ctx, { event: 'token-created', user: user.name, tokenId: row.id, detail: { kind: spec.kind, via: by } });
  return { token, row };
}

/** A token written as given, with no limits: login sessions and test fixtures. */
export type IssueSpec = {
  user: string;
  kind: TokenKind;
  name?: string | null;
  readonly?: boolean;
  grants?: Grants | null;
  cidr?: string[];
  bypass2fa?: boolean;
  expiresInMs: number | null;
};

export async function issueToken(
  ctx: Ctx,
  spec: IssueSpec,
): Promise<{ token: string; id: string; expiresAt: number | null }> {
  const user = await userByName(ctx, spec.user);
  if (!user) throw new Refusal('unknown-user', { name: spec.user });
  const now = ctx.clock.now();
  const expiresAt = spec.expiresInMs === null ? null : now + spec.expiresInMs;
  const { token, row } = await insertToken(ctx.store.db, {
    userId: user.id,
    kind: spec.kind,
    name: spec.name,
    readonly: spec.readonly,
    grants: spec.grants,
    cidr: spec.cidr,
    bypass2fa: spec.bypass2fa,
    expiresAt,
    now,
  });
  await audit(ctx, {
    event: 'token-created',
    user: user.name,
    tokenId: row.id,
    detail: { kind: spec.kind, by: 'fixture' },
  });
  return { token, id: row.id, expiresAt };
}

export async function listTokens(ctx: Ctx, userName: string) {
  const user = await userByName(ctx, userName);
  if (!user) throw new Refusal('unknown-user', { name: userName });
  return tokensOf(ctx.store.db, user.id);
}

/** Revokes by id (or unique id prefix) or by the token itself. */
export async function adminRevoke(ctx: Ctx, idOrToken: string, why = 'revoked by an administrator'): Promise<string> {
  let id: string | undefined;
  if (isTesseraToken(idOrToken)) {
    id = (await tokenByHash(ctx.store.db, hashToken(idOrToken)))?.id;
  } else if (idOrToken.length >= 6) {
    const ids = await tokenIdsByPrefix(ctx.store.db, idOrToken);
    if (ids.length > 1) throw new Refusal('invalid-request', { detail: `Token id "${idOrToken}" is ambiguous` });
    id = ids[0];
  }
  if (!id) throw new Refusal('invalid-request', { detail: `Unknown token id or value "${idOrToken.slice(0, 12)}…"` });
  await revokeTokens(ctx.store.db, { id }, why, ctx.clock.now());
  await audit(ctx, { event: 'token-revoked', tokenId: id, reason: why });
  return id;
}

export async function adminRevokeAll(ctx: Ctx, userName: string): Promise<number> {
  const user = await userByName(ctx, userName);
  if (!user) throw new Refusal('unknown-user', { name: userName });
  const n = await revokeTokens(
    ctx.store.db,
    { userId: user.id },
    'all tokens revoked by an administrator',
    ctx.clock.now(),
  );
  await audit(ctx, { event: 'token-revoked', user: user.name, reason: 'revoke-all', detail: { count: n } });
  return n;
}
