// An OIDC issuer's signing keys, found through its discovery document (or a configured jwksUri).
// Both are fetched from the configured issuer only, and cached: several exchanges, one fetch.
import { createRemoteJWKSet } from 'jose';
import { Refusal } from '../domain/reasons.ts';
import type { Ctx } from './context.ts';

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;

/** Discovery documents rarely change; keys do rotate, and jose refetches them on an unknown key id. */
export const DISCOVERY_TTL_MS = 60 * 60_000;
const MAX_DISCOVERY_BYTES = 64 * 1024;

const discovered = new Map<string, { at: number; jwksUri: Promise<string> }>();
const jwksCache = new Map<string, RemoteJwks>();

function fail(detail: string): Refusal {
  return new Refusal('oidc-exchange-failed', { detail });
}

async function discover(issuerUrl: string): Promise<string> {
  const res = await fetch(`${issuerUrl}/.well-known/openid-configuration`, {
    signal: AbortSignal.timeout(10_000),
    redirect: 'error',
    headers: { accept: 'application/json' },
  }).catch((e: Error) => {
    throw fail(`unauthorized: the issuer's discovery document could not be fetched (${e.message})`);
  });
  if (!res.ok) throw fail(`unauthorized: the issuer's discovery document answered ${res.status}`);
  const text = await res.text();
  if (text.length > MAX_DISCOVERY_BYTES) throw fail("unauthorized: the issuer's discovery document is too large");
  let doc: { issuer?: unknown; jwks_uri?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    throw fail("unauthorized: the issuer's discovery document is not JSON");
  }
  // OpenID Connect Discovery: the document must name the issuer it was fetched for.
  if (typeof doc.issuer !== 'string' || doc.issuer.replace(/\/+$/, '') !== issuerUrl) {
    throw fail(`unauthorized: the discovery document at ${issuerUrl} names another issuer`);
  }
  if (typeof doc.jwks_uri !== 'string' || !/^https?:\/\//.test(doc.jwks_uri)) {
    throw fail('unauthorized: the issuer publishes no jwks_uri');
  }
  return doc.jwks_uri;
}

/** The JWKS address of an issuer, from a cache shared by concurrent exchanges; failures are not cached. */
function jwksUriOf(ctx: Ctx, issuerUrl: string): Promise<string> {
  const now = ctx.clock.now();
  let hit = discovered.get(issuerUrl);
  if (!hit || now - hit.at >= DISCOVERY_TTL_MS || now < hit.at) {
    const entry = { at: now, jwksUri: discover(issuerUrl) };
    entry.jwksUri.catch(() => {
      if (discovered.get(issuerUrl) === entry) discovered.delete(issuerUrl);
    });
    discovered.set(issuerUrl, entry);
    hit = entry;
  }
  return hit.jwksUri;
}

/** The key set of the issuer at `issuerUrl` (a configured address, never a token's own `iss`). */
export async function keysAt(ctx: Ctx, issuerUrl: string, jwksUri: string | null): Promise<RemoteJwks> {
  const uri = jwksUri ?? (await jwksUriOf(ctx, issuerUrl));
  let jwks = jwksCache.get(uri);
  if (!jwks) {
    // Keys are refetched when a token names an unknown key id (rotation), at most every 2 s.
    jwks = createRemoteJWKSet(new URL(uri), {
      cooldownDuration: 2_000,
      cacheMaxAge: 10 * 60_000,
      timeoutDuration: 10_000,
    });
    jwksCache.set(uri, jwks);
  }
  return jwks;
}
