// Company sign-in with an OpenID Provider (auth.oidc): the authorization code flow with PKCE, state and
// nonce, done by openid-client (the certified relying-party library: it validates the ID token's issuer,
// audience, signature, expiry and nonce, the response's state and RFC 9207 `iss`, so none of that is
// hand-written here). Discovery and keys come only from the configured issuer. The first sign-in makes
// the account; every sign-in and every refresh applies the groups (directory-groups.ts); a refresh the
// provider refuses (invalid_grant) deprovisions the account.
import * as client from 'openid-client';
import type { SignInOidc } from '../config/config.ts';
import type { User } from '../domain/principal.ts';
import { Refusal } from '../domain/reasons.ts';
import { open, seal } from '../store/secret-box.ts';
import {
  identityBySubject,
  identityOfUser,
  markRefreshed,
  refreshableIdentities,
  saveIdentity,
} from '../store/sso-identities.ts';
import { setEmailVerified, userById } from '../store/users.ts';
import { createUser, userByName, userNameProblem } from './accounts.ts';
import { toUser } from './authenticate.ts';
import { audit, type Ctx } from './context.ts';
import { applyGroups, deprovision } from './directory-groups.ts';
import { backChannel, OIDC_TIMEOUT_MS, unavailable } from './signin-oidc-outage.ts';

/** What the browser carries (sealed, in a cookie) between leaving for the provider and coming back. */
export type Pending = {
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
  exp: number;
  /** web: the web pages (target = the page to return to); cli: npm login's web flow (target = its secret). */
  purpose: 'web' | 'cli';
  target: string;
  /** Set once the provider answered, while the registry's own one-time password is still asked for. */
  userId?: number;
  /** 0 for an OTP challenge: the provider must sign the person in afresh, and its ID token says when. */
  maxAge?: number;
};

/** Discovered metadata, per configuration object (so one server's cache never answers for another). */
const configs = new WeakMap<SignInOidc, Promise<client.Configuration>>();

export function oidcSettings(ctx: Ctx): SignInOidc {
  const o = ctx.config.auth.oidc;
  if (!o) throw new Refusal('route-not-found');
  return o;
}

const isLoopback = (u: URL) => u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);

/** The provider's metadata, discovered once per process from the configured issuer (and checked against it). */
function provider(o: SignInOidc): Promise<client.Configuration> {
  let c = configs.get(o);
  if (!c) {
    const issuer = new URL(o.issuer);
    // Plain http only on loopback (a provider beside the registry, or a test); anywhere else it is https.
    // The ID token's signature is checked against the provider's keys (jwks_uri), as docs/signin.md says:
    // openid-client skips it for a token endpoint's answer unless asked (and plain http has no TLS to lean on).
    const execute = [client.enableNonRepudiationChecks, ...(isLoopback(issuer) ? [client.allowInsecureRequests] : [])];
    const options: client.DiscoveryRequestOptions = {
      execute,
      // Every later request (token, keys, UserInfo) inherits both: bounded, and an outage told apart.
      timeout: (o.timeoutMs ?? OIDC_TIMEOUT_MS) / 1000,
      [client.customFetch]: backChannel(o),
    };
    const auth = o.clientSecret ? client.ClientSecretBasic(o.clientSecret) : client.None();
    c = client.discovery(issuer, o.clientId, o.clientSecret ?? undefined, auth, options);
    c.catch(() => configs.delete(o));
    configs.set(o, c);
  }
  return c.catch((e: Error) => {
    throw (
      unavailable(o, e) ??
      new Refusal('sso-provider-refused', { provider: o.name, detail: `its discovery failed: ${e.message}` })
    );
  });
}

/** The address to send the browser to, and the sealed state it must bring back. */
export async function startOidc(
  ctx: Ctx,
  redirectUri: string,
  purpose: Pending['purpose'],
  target: string,
  fresh = false,
) {
  const o = oidcSettings(ctx);
  const cfg = await provider(o);
  const verifier = client.randomPKCECodeVerifier();
  const pending: Pending = {
    state: client.randomState(),
    nonce: client.randomNonce(),
    verifier,
    redirectUri,
    purpose,
    target,
    exp: ctx.clock.now() + ctx.config.webLoginTtlMs,
    ...(fresh ? { maxAge: 0 } : {}),
  };
  const params: Record<string, string> = {
    redirect_uri: redirectUri,
    scope: o.scopes,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  };
  // OpenID Connect Core §11: a refresh token for offline_access needs the consent prompt.
  if (o.scopes.split(/\s+/).includes('offline_access')) params.prompt = 'consent';
  // Standing for a one-time password, the sign-in must be now, not an earlier one the provider remembers.
  if (fresh) params.max_age = '0';
  const url = client.buildAuthorizationUrl(cfg, params);
  return { url: url.href, state: pending.state, pending: sealPending(ctx, pending) };
}

export function sealPending(ctx: Ctx, p: Pending): string {
  return seal(ctx.store.dataDir, JSON.stringify(p)).replace(/^v1\./, '');
}

export function openPending(ctx: Ctx, sealed: string | undefined): Pending {
  const o = oidcSettings(ctx);
  let p: Pending;
  try {
    p = JSON.parse(open(ctx.store.dataDir, `v1.${sealed ?? ''}`)) as Pending;
  } catch {
    const detail = 'the sign-in was not started in this browser';
    throw new Refusal('sso-response-invalid', { provider: o.name, detail });
  }
  if (p.exp <= ctx.clock.now()) {
    throw new Refusal('sso-response-invalid', { provider: o.name, detail: 'it took too long' });
  }
  return p;
}

type Claims = Record<string, unknown>;

/** The provider's answer, checked in full, then the account it names (made on first sign-in). */
export async function finishOidc(ctx: Ctx, query: string, p: Pending): Promise<{ user: User; mfa: boolean }> {
  const o = oidcSettings(ctx);
  const cfg = await provider(o);
  const current = new URL(p.redirectUri);
  current.search = query;
  let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  try {
    tokens = await client.authorizationCodeGrant(cfg, current, {
      expectedState: p.state,
      expectedNonce: p.nonce,
      pkceCodeVerifier: p.verifier,
      idTokenExpected: true,
      maxAge: p.maxAge,
    });
  } catch (e) {
    if (e instanceof client.AuthorizationResponseError) {
      throw new Refusal('sso-provider-refused', { provider: o.name, detail: e.error_description ?? e.error });
    }
    throw unavailable(o, e, cfg) ?? new Refusal('sso-response-invalid', { provider: o.name, detail: describe(e) });
  }
  const idClaims = tokens.claims() as Claims;
  const claims = await withUserInfo(cfg, o, tokens.access_token, idClaims).catch((e: unknown) => {
    throw unavailable(o, e, cfg) ?? e;
  });
  const user = await bindAccount(ctx, o, claims, tokens.refresh_token);
  await applyGroups(ctx, user.name, groupsOf(o, claims), 'oidc', ctx.config.auth.groups);
  const mfa = o.trustMfa && providerDidMfa(idClaims);
  await audit(ctx, { event: 'sso-signed-in', user: user.name, detail: { issuer: o.issuer, mfa } });
  return { user, mfa };
}

function describe(e: unknown): string {
  if (e instanceof client.ResponseBodyError) {
    return `the provider answered ${e.error}${e.error_description ? `: ${e.error_description}` : ''}`;
  }
  // openid-client wraps the precise check that failed (which claim, which parameter) as the cause.
  const cause = (e as Error).cause;
  return cause instanceof Error ? cause.message : (e as Error).message;
}

/** The ID token's claims, completed from the UserInfo endpoint when the name, e-mail or groups are missing. */
async function withUserInfo(
  cfg: client.Configuration,
  o: SignInOidc,
  accessToken: string,
  id: Claims,
): Promise<Claims> {
  if (id[o.userClaim] !== undefined && id.email !== undefined && id[o.groupsClaim] !== undefined) return id;
  const info = await client.fetchUserInfo(cfg, accessToken, String(id.sub));
  return { ...info, ...id };
}

function groupsOf(o: SignInOidc, claims: Claims): string[] {
  const g = claims[o.groupsClaim];
  return Array.isArray(g) ? g.filter((x): x is string => typeof x === 'string') : [];
}

/** RFC 8176: `amr` "mfa" (or two methods and more), or an `acr` that names a second factor. */
export function providerDidMfa(claims: Claims): boolean {
  const amr = Array.isArray(claims.amr) ? claims.amr.map(String) : [];
  if (amr.includes('mfa') || new Set(amr).size >= 2) return true;
  return typeof claims.acr === 'string' && /mfa|2fa|multi/i.test(claims.acr);
}

/** Sign-ins of one subject under way in this process, so they take turns (see bindAccount). */
const binding = new Map<string, Promise<User>>();

/** The account bound to the provider's subject; on first sign-in a new one, or a local one with the same
 *  verified e-mail address (never an administrator's: those stay the break-glass accounts). Two sign-ins of
 *  one person at once (a laptop and a terminal's `npm login`) take turns here, so the first makes the
 *  account and the second finds it; across nodes, the account and its binding are made in one transaction. */
export function bindAccount(ctx: Ctx, o: SignInOidc, claims: Claims, refreshToken: string | undefined): Promise<User> {
  const key = `${o.issuer}\0${String(claims.sub)}`;
  const mine = (binding.get(key) ?? Promise.resolve()).catch(() => {}).then(() => bind(ctx, o, claims, refreshToken));
  binding.set(key, mine);
  const done = () => {
    if (binding.get(key) === mine) binding.delete(key);
  };
  mine.then(done, done);
  return mine;
}

async function bind(ctx: Ctx, o: SignInOidc, claims: Claims, refreshToken: string | undefined): Promise<User> {
  const subject = String(claims.sub);
  const now = ctx.clock.now();
  const sealed = refreshToken ? seal(ctx.store.dataDir, refreshToken) : null;
  const verified = claims.email_verified === true;
  const email = typeof claims.email === 'string' ? claims.email : '';
  const known = await identityBySubject(ctx.store.db, o.issuer, subject);
  let row = known ? await userById(ctx.store.db, known.user_id) : undefined;
  if (!row) {
    const raw = String(claims[o.userClaim] ?? '').toLowerCase();
    const name = raw.includes('@') ? raw.slice(0, raw.indexOf('@')) : raw;
    const problem = userNameProblem(name);
    if (problem) {
      // Which rule the name breaks, and what the administrator can change (as directory-name-invalid says).
      const detail = `${problem}; the name comes from the claim "${o.userClaim}" (auth.oidc.userClaim)`;
      throw new Refusal('sso-name-conflict', { name: raw, detail });
    }
    const existing = await userByName(ctx, name);
    if (existing) {
      const bound = await identityOfUser(ctx.store.db, existing.id);
      if (bound || existing.admin || !verified || existing.email.toLowerCase() !== email.toLowerCase()) {
        throw new Refusal('sso-name-conflict', { name, detail: 'a local account of that name exists' });
      }
      row = existing;
    } else {
      if (!email) throw new Refusal('sso-response-invalid', { provider: o.name, detail: 'it sent no e-mail address' });
      const identity = { issuer: o.issuer, subject, refresh_token: sealed, groups: '[]', signed_in_at: now };
      try {
        await ctx.store.transaction(async (trx) => {
          const made = await createUser({ ...ctx, store: { ...ctx.store, db: trx } }, { name, email, password: null });
          await saveIdentity(trx, { ...identity, user_id: made.id, refreshed_at: null });
        });
      } catch (e) {
        // Another node's first sign-in of this person won the insert: theirs is the account.
        if (!(await identityBySubject(ctx.store.db, o.issuer, subject))) {
          // Or a local account took the name meanwhile: never joined without the checks above.
          if (e instanceof Refusal && e.reason !== 'user-exists') throw e;
          throw new Refusal('sso-name-conflict', { name, detail: 'a local account of that name exists' });
        }
      }
      const bound = await identityBySubject(ctx.store.db, o.issuer, subject);
      row = bound ? await userById(ctx.store.db, bound.user_id) : undefined;
    }
  }
  if (!row) throw new Refusal('unknown-user', { name: subject });
  if (row.disabled) throw new Refusal('user-disabled');
  const emailVerified = verified && row.email.toLowerCase() === email.toLowerCase() ? 1 : row.email_verified;
  if (emailVerified !== row.email_verified) {
    await setEmailVerified(ctx.store.db, row.id, emailVerified, now);
  }
  const groups = JSON.stringify(groupsOf(o, claims));
  await saveIdentity(ctx.store.db, {
    user_id: row.id,
    issuer: o.issuer,
    subject,
    refresh_token: sealed ?? known?.refresh_token ?? null,
    groups,
    signed_in_at: now,
    refreshed_at: known?.refreshed_at ?? null,
  });
  return toUser({ ...row, email_verified: emailVerified });
}

export type RefreshReport = { refreshed: string[]; deprovisioned: string[]; failed: string[] };

/**
 * Follows the provider for every bound account: a refresh grant, then the groups from the new ID token
 * or UserInfo. `invalid_grant` means the provider no longer lets this user in: the account is disabled and
 * its tokens revoked. Any other failure (the provider down) changes nothing and is tried again next time.
 */
export async function refreshIdentities(ctx: Ctx): Promise<RefreshReport> {
  const o = oidcSettings(ctx);
  const out: RefreshReport = { refreshed: [], deprovisioned: [], failed: [] };
  const cfg = await provider(o);
  for (const row of await refreshableIdentities(ctx.store.db, o.issuer)) {
    const refreshToken = open(ctx.store.dataDir, row.refresh_token!);
    try {
      const tokens = await client.refreshTokenGrant(cfg, refreshToken);
      const id = (tokens.claims() ?? { sub: row.subject }) as Claims;
      const claims = await withUserInfo(cfg, o, tokens.access_token, id);
      const groups = groupsOf(o, claims);
      await applyGroups(ctx, row.name, groups, 'oidc', ctx.config.auth.groups);
      const next = tokens.refresh_token ? seal(ctx.store.dataDir, tokens.refresh_token) : row.refresh_token;
      await markRefreshed(ctx.store.db, row.user_id, {
        refresh_token: next,
        groups: JSON.stringify(groups),
        refreshed_at: ctx.clock.now(),
      });
      out.refreshed.push(row.name);
    } catch (e) {
      if (e instanceof client.ResponseBodyError && e.error === 'invalid_grant') {
        await deprovision(ctx, row.name, 'oidc', `${o.name} refused the refresh (${e.error_description ?? e.error})`);
        out.deprovisioned.push(row.name);
        continue;
      }
      ctx.log?.warn({ user: row.name, err: describe(e) }, 'company sign-in: refresh failed; tried again later');
      out.failed.push(row.name);
    }
  }
  return out;
}

/** Whether a password may sign this account in while `auth.local` is false: the break-glass administrators,
 *  made with `tessera user add --admin` and never bound to the provider. */
export async function breakGlass(ctx: Ctx, user: { id: number; admin: boolean }): Promise<boolean> {
  return user.admin && !(await identityOfUser(ctx.store.db, user.id));
}
