// The OIDC exchange of trusted publishing: a CI job's id token (signed by a configured issuer, for our
// audience, current, and matching one of the package's trust configurations) becomes a short-lived
// token that can publish that one package and nothing else.
import {
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  errors as joseErrors,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose';
import { Refusal } from '../domain/reasons.ts';
import { canRead } from '../domain/policy.ts';
import { anonymous } from '../domain/principal.ts';
import { firstMismatch, type TrustConfig } from '../domain/trust.ts';
import type { OidcIssuer } from '../config/config.ts';
import { insertToken } from '../store/tokens.ts';
import { packageHead } from '../store/packages.ts';
import { trustConfigCreator } from '../store/trust.ts';
import { lockPackage } from '../store/locks.ts';
import { audit, type Ctx } from './context.ts';
import { trustConfigs } from './trust.ts';
import { keysAt } from './oidc-keys.ts';

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];
/** CI id tokens are 1–2 KB; anything far longer is not one, and is refused before it is decoded. */
export const MAX_JWT_LENGTH = 8 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** A CircleCI organization id: one path segment after the configured prefix, nothing that could leave it. */
const ORG_SEGMENT = /^[A-Za-z0-9_-]+$/;
const CIRCLE_ORG_CLAIM = 'oidc.circleci.com/org-id';

function fail(detail: string): Refusal {
  return new Refusal('oidc-exchange-failed', { detail });
}

/** The configured issuer a token's `iss` names, and the issuer URL to fetch keys from, which is built
 *  from the configuration (never the token's text). Exact match; CircleCI's per-organization issuers
 *  are the configured prefix plus one path segment. */
export function issuerFor(ctx: Ctx, iss: string): { config: OidcIssuer; url: string } | undefined {
  for (const config of ctx.config.oidc.issuers) {
    // The configuration stores issuers without a trailing slash; a token may carry one.
    const base = config.issuer.replace(/\/+$/, '');
    if (config.type === 'circleci') {
      if (!iss.startsWith(`${base}/`)) continue;
      const org = iss.slice(base.length + 1);
      if (ORG_SEGMENT.test(org)) return { config, url: `${base}/${org}` };
    } else if (iss === base || iss === `${base}/`) {
      return { config, url: base };
    }
  }
  return undefined;
}

/** The audiences id tokens may carry: configured, or those of publicUrl. Never from the request's Host
 *  header, which the caller chooses. npm asks for `npm:<hostname>`, Yarn 4 for `npm:<host>` (with a port
 *  that is not the scheme's default): the first is the one refusals name. A configured audience that names
 *  publicUrl's host, in either form, stands for both (the administrator named this registry, and npm and Yarn
 *  spell it differently); any other configured audience is the only one accepted. */
export function expectedAudiences(ctx: Ctx): string[] {
  const set = ctx.config.oidc.audience;
  const url = ctx.config.publicUrl ? new URL(ctx.config.publicUrl) : undefined;
  const ours = url ? [`npm:${url.hostname}`, `npm:${url.host}`] : [];
  if (!set) return [...new Set(ours)];
  return ours.includes(set) ? [...new Set([set, ...ours])] : [set];
}

type Shape = { header: ProtectedHeaderParameters; claims: JWTPayload; iss: string };

/** Everything that can be checked without the issuer's keys, so junk never causes a fetch. */
function shapeOf(jwt: string): Shape {
  if (jwt.length > MAX_JWT_LENGTH) {
    throw fail(`bad request: the bearer token is longer than ${MAX_JWT_LENGTH} characters`);
  }
  const parts = jwt.split('.');
  // The signature is checked after the algorithm, so that alg=none gets its own message.
  const [head, body, signature] = parts;
  const signed = signature === '' || BASE64URL.test(signature ?? '');
  if (parts.length !== 3 || !BASE64URL.test(head) || !BASE64URL.test(body ?? '') || !signed) {
    throw fail('bad request: the bearer token is not a JWT (three base64url parts)');
  }
  let header: ProtectedHeaderParameters;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(jwt);
    claims = decodeJwt(jwt);
  } catch {
    throw fail('bad request: the bearer token is not a JWT');
  }
  if (typeof header.alg !== 'string' || !ALGORITHMS.includes(header.alg) || signature === '') {
    throw fail("unauthorized: the id token's signing algorithm is not accepted");
  }
  if (header.kid !== undefined && (typeof header.kid !== 'string' || header.kid === '' || header.kid.length > 256)) {
    throw fail("bad request: the id token's key id (kid) is malformed");
  }
  if (typeof claims.iss !== 'string' || !claims.iss) throw fail('unauthorized: the id token names no issuer');
  return { header, claims, iss: claims.iss };
}

async function verify(ctx: Ctx, jwt: string, audience: string[]): Promise<{ payload: JWTPayload; issuer: OidcIssuer }> {
  const { header, claims, iss } = shapeOf(jwt);
  const found = issuerFor(ctx, iss);
  if (!found) throw fail(`unauthorized: the issuer "${iss}" is not configured on this registry`);
  const { config, url } = found;
  // GitHub, GitLab and CircleCI always name the key; without one, any key of the set would be tried.
  if (config.type !== 'generic' && header.kid === undefined) {
    throw fail('bad request: the id token names no key id (kid)');
  }
  if (config.type === 'circleci' && claims[CIRCLE_ORG_CLAIM] !== url.slice(url.lastIndexOf('/') + 1)) {
    throw fail(`unauthorized: the id token's issuer and its ${CIRCLE_ORG_CLAIM} claim name different organizations`);
  }
  const keys = await keysAt(ctx, url, config.jwksUri);
  try {
    const { payload } = await jwtVerify(jwt, keys, {
      issuer: iss,
      audience,
      currentDate: new Date(ctx.clock.now()),
      clockTolerance: 30,
      algorithms: ALGORITHMS,
    });
    return { payload, issuer: config };
  } catch (e) {
    throw verifyFailure(e, audience[0]);
  }
}

function verifyFailure(e: unknown, audience: string): Refusal {
  if (e instanceof Refusal) return e;
  if (e instanceof joseErrors.JWTExpired) return fail('unauthorized: the id token has expired');
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') return fail(`unauthorized: the id token's audience must be "${audience}"`);
    if (e.claim === 'nbf') return fail('unauthorized: the id token is not valid yet');
    return fail(`unauthorized: the id token's ${e.claim} claim is invalid`);
  }
  if (e instanceof joseErrors.JWKSNoMatchingKey) {
    return fail('unauthorized: the id token was signed with a key the issuer does not publish');
  }
  if (e instanceof joseErrors.JOSEAlgNotAllowed || e instanceof joseErrors.JOSENotSupported) {
    return fail("unauthorized: the id token's signing algorithm is not accepted");
  }
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) {
    return fail("unauthorized: the id token's signature does not verify");
  }
  return fail(`unauthorized: the id token could not be verified (${(e as Error).message})`);
}

function subjectOf(config: TrustConfig, claims: JWTPayload): string {
  const c = claims as Record<string, unknown>;
  const who = c.repository ?? c.project_path ?? c['oidc.circleci.com/vcs-origin'] ?? c.sub ?? 'CI';
  return `${config.type}:${String(who)}`;
}

export type Exchanged = { token: string; expires: number; created: number };

export async function exchange(ctx: Ctx, pkg: string, bearer: string | undefined): Promise<Exchanged> {
  if (!bearer) throw fail("bad request: send the CI's OIDC id token as a bearer token");
  const audience = expectedAudiences(ctx);
  if (audience.length === 0) throw new Refusal('oidc-audience-unset');
  const { payload, issuer } = await verify(ctx, bearer, audience);
  const head = await packageHead(ctx.store.db, pkg);
  const live = head !== undefined && head.origin === 'local' && head.deletedAt === null;
  const configs = live
    ? (await trustConfigs(ctx, pkg)).filter((c) =>
        c.type === 'generic' ? c.issuer === issuer.name : c.type === issuer.type,
      )
    : [];
  if (!live || configs.length === 0) {
    await audit(ctx, {
      event: 'oidc-exchange-denied',
      reason: 'no-trust-config',
      detail: { package: pkg, iss: payload.iss },
    });
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
    await audit(ctx, {
      event: 'oidc-exchange-denied',
      reason: 'claim-mismatch',
      detail: { package: pkg, claim: m.claim, got: m.got, iss: payload.iss },
    });
    // Any CI job can get an id token: until one matches, its bearer is a stranger, who learns no more
    // about a package they may not read (that it exists, what it trusts) than about a missing name.
    if (!canRead(anonymous, { name: pkg, exists: true, access: head.access })) throw new Refusal('not-found');
    throw fail(
      `unauthorized: the claim ${m.claim} (${m.got}) does not match the trusted publisher configured for ${pkg}`,
    );
  }
  const now = ctx.clock.now();
  const expires = now + ctx.config.oidc.tokenTtlMs;
  const subject = subjectOf(match, payload);
  // Minted under the package's lock, as `npm trust revoke` deletes the configuration and revokes what it
  // minted: a token is never made from a configuration revoked meanwhile, nor left alive after the revoke.
  const { token, row: t } = await ctx.store.transaction(async (trx) => {
    await lockPackage(trx, pkg);
    const createdBy = await trustConfigCreator(trx, match.id);
    if (createdBy === undefined) throw fail(`unauthorized: the trusted publisher of ${pkg} was revoked meanwhile`);
    return insertToken(trx, {
      userId: createdBy,
      kind: 'oidc',
      name: `trusted publishing (${subject})`,
      expiresAt: expires,
      now,
      grants: {
        packagesAll: false,
        packages: [pkg],
        scopes: [],
        permission: 'read-write',
        orgs: [],
        orgsPermission: 'no-access',
        trust: { configId: match.id, permissions: match.permissions, subject },
      },
    });
  });
  await audit(ctx, {
    event: 'oidc-exchange',
    tokenId: t.id,
    detail: { package: pkg, subject, iss: payload.iss, config: match.id },
  });
  return { token, expires, created: now };
}
