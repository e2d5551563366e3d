// `npm trust github|gitlab|circleci|list|revoke`: a package's trusted publishers. Changing them is
// governance: a maintainer with two-factor authentication, confirmed by a one-time password.
import { randomUUID } from 'node:crypto';
import { Refusal } from '../domain/reasons.ts';
import type { Principal } from '../domain/principal.ts';
import type { TrustBody } from '../domain/commands.ts';
import {
  configProblem,
  type TrustConfig,
  type TrustPermission,
  type TrustType,
  type ClaimRule,
} from '../domain/trust.ts';
import { revokeTokens } from '../store/tokens.ts';
import { lockPackage } from '../store/locks.ts';
import { deleteTrustConfig, insertTrustConfigs, liveTokensFromTrustConfig, trustConfigsOf } from '../store/trust.ts';
import { audit, type Ctx } from './context.ts';
import { allowPackage } from './decide.ts';

export async function trustConfigs(ctx: Ctx, pkg: string): Promise<TrustConfig[]> {
  return trustConfigsOf(ctx.store.db, pkg);
}

/** As npm shows it: the request shape plus `id` (and `issuer` for generic configurations). */
function present(c: TrustConfig) {
  return {
    id: c.id,
    type: c.type,
    ...(c.issuer ? { issuer: c.issuer } : {}),
    claims: c.claims,
    permissions: c.permissions,
  };
}

/** The policy decides (authorizeTrust); a change then needs the one-time password it asks for. */
async function allowTrust(ctx: Ctx, p: Principal, pkg: string, write: boolean): Promise<void> {
  await allowPackage(ctx, p, write ? 'trust' : 'trust-list', pkg);
}

export async function listTrust(ctx: Ctx, p: Principal, pkg: string) {
  await allowTrust(ctx, p, pkg, false);
  return (await trustConfigs(ctx, pkg)).map(present);
}

export async function addTrust(ctx: Ctx, p: Principal, pkg: string, body: TrustBody) {
  await allowTrust(ctx, p, pkg, true);
  const items = (Array.isArray(body) ? body : [body]) as Record<string, unknown>[];
  if (items.length === 0) throw new Refusal('invalid-request', { detail: 'send at least one trust configuration' });
  const existing = await trustConfigs(ctx, pkg);
  const created: TrustConfig[] = [];
  for (const item of items) {
    const problem = configProblem(item ?? {});
    if (problem) throw new Refusal('invalid-request', { detail: `Invalid trust configuration: ${problem}` });
    const type = item.type as TrustType;
    const issuer = type === 'generic' ? String(item.issuer) : null;
    if (issuer && !ctx.config.oidc.issuers.some((i) => i.name === issuer && i.type === 'generic')) {
      throw new Refusal('invalid-request', {
        detail: `No generic OIDC issuer named "${issuer}" is configured on this registry`,
      });
    }
    if (
      !ctx.config.oidc.multipleConfigs &&
      [...existing, ...created].some((c) => c.type === type && c.issuer === issuer)
    ) {
      throw new Refusal('trust-config-exists', { package: pkg, type });
    }
    created.push({
      id: randomUUID(),
      type,
      issuer,
      claims: item.claims as Record<string, ClaimRule>,
      permissions: item.permissions as TrustPermission[],
    });
  }
  const now = ctx.clock.now();
  await ctx.store.transaction(async (trx) => {
    // Checked again under the package's lock: two `npm trust github` at once would both pass the check above.
    await lockPackage(trx, pkg);
    const stored = await trustConfigsOf(trx, pkg);
    const twice = created.find((c) => stored.some((s) => s.type === c.type && s.issuer === c.issuer));
    if (twice && !ctx.config.oidc.multipleConfigs)
      throw new Refusal('trust-config-exists', { package: pkg, type: twice.type });
    await insertTrustConfigs(trx, pkg, created, p.user!.id, now);
  });
  for (const c of created)
    await audit(ctx, {
      event: 'trust-added',
      user: p.user?.name,
      detail: { package: pkg, id: c.id, type: c.type, claims: c.claims },
    });
  return created.map(present);
}

export async function revokeTrust(ctx: Ctx, p: Principal, pkg: string, id: string): Promise<void> {
  await allowTrust(ctx, p, pkg, true);
  // Under the package's lock, as a token exchange mints under it: once the configuration is gone none is made
  // from it, and every one made before is in the list.
  const minted = await ctx.store.transaction(async (trx) => {
    await lockPackage(trx, pkg);
    if (!(await deleteTrustConfig(trx, pkg, id))) throw new Refusal('not-found');
    return liveTokensFromTrustConfig(trx, id);
  });
  // Tokens already minted from it stop working too.
  for (const t of minted)
    await revokeTokens(ctx.store.db, { id: t }, 'its trusted publisher was revoked', ctx.clock.now());
  await audit(ctx, { event: 'trust-revoked', user: p.user?.name, detail: { package: pkg, id } });
}
