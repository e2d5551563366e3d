// The OIDC exchange of trusted publishing: a CI job's id token (signed by a configured issuer, for our
// audience, current, and matching one of the package's trust configurations) becomes a short-lived
// token that can publish that one package and nothing else.
import { createRemoteJWKSet, decodeJwt, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { Refusal } from '../domain/reasons.ts';
import { firstMismatch, type TrustConfig } from '../domain/trust.ts';
import type { OidcIssuer } from '../config/config.ts';
import { insertToken } from '../store/tokens.ts';
import { audit, type Ctx } from './context.ts';
import { trustConfigs } from './trust.ts';

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;
const jwksCache = new Map<string, RemoteJwks>();

function fail(detail: string): Refusal {
  return new Refusal('oidc-exchange-failed', { detail });
}

export function issuerFor(ctx: Ctx, iss: string): OidcIssuer | undefined {
  const clean = iss.replace(/\/+$/, '');
  return ctx.config.oidc.issuers.find((i) => (i.type === 'circleci' ? clean.startsWith(i.issuer) : i.issuer === clean));
}

/** The issuer's keys, from its jwksUri or OIDC discovery; jose caches them and refetches on an unknown key id. */
async function keysOf(_ctx: Ctx, issuer: OidcIssuer, iss: string): Promise<RemoteJwks> {
  let uri = issuer.jwksUri;
  if (!uri) {
    const res = await fetch(`${iss.replace(/\/+$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10_000) })
      .catch((e: Error) => { throw fail(`unauthorized: the issuer's discovery document could not be fetched (${e.message})`); });
    if (!res.ok) throw fail(`unauthorized: the issuer's discovery document answered ${res.status}`);
    uri = ((await res.json()) as { jwks_uri?: string }).jwks_uri ?? null;
    if (!uri) throw fail('unauthorized: the issuer publishes no jwks_uri');
  }
  let jwks = jwksCache.get(uri);
  if (!jwks) {
    // Keys are refetched when a token names an unknown key id (rotation), at most every 2 s.
    jwks = createRemoteJWKSet(new URL(uri), { cooldownDuration: 2_000, cacheMaxAge: 10 * 60_000 });
    jwksCache.set(uri, jwks);
  }
  return jwks;
}

export function expectedAudience(ctx: Ctx, requestHost: string): string {
  if (ctx.config.oidc.audience) return ctx.config.oidc.audience;
  const host = ctx.config.publicUrl ? new URL(ctx.config.publicUrl).hostname : requestHost.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return `npm:${host}`;
}

async function verify(ctx: Ctx, jwt: string, audience: string): Promise<{ payload: JWTPayload; issuer: OidcIssuer }> {
  let unverified: JWTPayload;
  try {
    unverified = decodeJwt(jwt);
  } catch {
    throw fail('bad request: the bearer token is not a JWT');
  }
  const iss = typeof unverified.iss === 'string' ? unverified.iss : '';
  const issuer = issuerFor(ctx, iss);
  if (!issuer) throw fail(`unauthorized: the issuer "${iss}" is not configured on this registry`);
  const keys = await keysOf(ctx, issuer, iss);
  try {
    const { payload } = await jwtVerify(jwt, keys, {
      issuer: iss, audience, currentDate: new Date(ctx.clock.now()), clockTolerance: 30,
      algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'],
    });
    return { payload, issuer };
  } catch (e) {
    if (e instanceof Refusal) throw e;
    if (e instanceof joseErrors.JWTExpired) throw fail('unauthorized: the id token has expired');
    if (e instanceof joseErrors.JWTClaimValidationFailed) {
      if (e.claim === 'aud') throw fail(`unauthorized: the id token's audience must be "${audience}"`);
      if (e.claim === 'nbf') throw fail('unauthorized: the id token is not valid yet');
      throw fail(`unauthorized: the id token's ${e.claim} claim is invalid`);
    }
    if (e instanceof joseErrors.JWKSNoMatchingKey) throw fail('unauthorized: the id token was signed with a key the issuer does not publish');
    if (e instanceof joseErrors.JOSEAlgNotAllowed || e instanceof joseErrors.JOSENotSupported) throw fail('unauthorized: the id token\'s signing algorithm is not accepted');
    if (e instanceof joseErrors.JWSSignatureVerificationFailed) throw fail('unauthorized: the id token\'s signature does not verify');
    throw fail(`unauthorized: the id token could not be verified (${(e as Error).message})`);
  }
}

function subjectOf(config: TrustConfig, claims: JWTPayload): string {
  const c = claims as Record<string, unknown>;
  const who = c.repository ?? c.project_path ?? c['oidc.circleci.com/vcs-origin'] ?? c.sub ?? 'CI';
  return `${config.type}:${String(who)}`;
}

export type Exchanged = { token: string; expires: number; created: number };

export async function exchange(ctx: Ctx, pkg: string, bearer: string | undefined, requestHost: string): Promise<Exchanged> {
  if (!bearer) throw fail('bad request: send the CI\'s OIDC id token as a bearer token');
  const { payload, issuer } = await verify(ctx, bearer, expectedAudience(ctx, requestHost));
  const pkgRow = await ctx.store.db.selectFrom('packages').select('name').where('name', '=', pkg)
    .where('origin', '=', 'local').where('deleted_at', 'is', null).executeTakeFirst();
  const configs = pkgRow ? (await trustConfigs(ctx, pkg)).filter((c) => (c.type === 'generic' ? c.issuer === issuer.name : c.type === issuer.type)) : [];
  if (!pkgRow || configs.length === 0) {
    await audit(ctx, { event: 'oidc-exchange-denied', reason: 'no-trust-config', detail: { package: pkg, iss: payload.iss } });
    throw new Refusal('not-found');
  }
  let mismatch: { claim: string; got: string } | null = null;
  const match = configs.find((c) => {
    const m = firstMismatch(c, payload as Record<string, unknown>);
    mismatch ??= m;
    return m === null;
  });
  if (!match) {
    const m = mismatch as unknown as { claim: string; got: string };
    await audit(ctx, { event: 'oidc-exchange-denied', reason: 'claim-mismatch', detail: { package: pkg, claim: m.claim, got: m.got, iss: payload.iss } });
    throw fail(`unauthorized: the claim ${m.claim} (${m.got}) does not match the trusted publisher configured for ${pkg}`);
  }
  const row = await ctx.store.db.selectFrom('trust_configs').select('created_by').where('id', '=', match.id).executeTakeFirstOrThrow();
  const now = ctx.clock.now();
  const expires = now + ctx.config.oidc.tokenTtlMs;
  const subject = subjectOf(match, payload);
  const { token, row: t } = await insertToken(ctx.store.db, {
    userId: row.created_by, kind: 'oidc', name: `trusted publishing (${subject})`, expiresAt: expires, now,
    grants: {
      packagesAll: false, packages: [pkg], scopes: [], permission: 'read-write', orgs: [], orgsPermission: 'no-access',
      trust: { configId: match.id, permissions: match.permissions, subject },
    },
  });
  await audit(ctx, { event: 'oidc-exchange', tokenId: t.id, detail: { package: pkg, subject, iss: payload.iss, config: match.id } });
  return { token, expires, created: now };
}
