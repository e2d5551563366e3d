// The web pages' own sign-in: a cookie session, stored as a `web-session` row among the tokens (hashed,
// expiring, revoked with the account's other sessions) but never accepted as an npm credential.
import { authorizeAccount } from '../domain/policy.ts';
import { Refusal } from '../domain/reasons.ts';
import { SESSION_KINDS, type Principal, type User } from '../domain/principal.ts';
import { hashToken } from '../domain/tokens.ts';
import { insertToken, liveSessionsOf, revokeTokens, tokenByHash, tokenOfUser } from '../store/tokens.ts';
import { audit, type Ctx } from './context.ts';
import type { Authenticator } from './authenticate.ts';
import { deny } from './deny.ts';
import { requireSecondFactor, verifyOtpFor } from './two-factor.ts';

export type SignIn = { name?: string; password?: string; otp?: string };

/** Password (throttled like every login) and, when 2FA is on, a one-time password; then a new web session. */
export async function signIn(ctx: Ctx, auth: Authenticator, form: SignIn, ip: string, agent: string) {
  const name = String(form.name ?? '').trim();
  const password = String(form.password ?? '');
  if (!name || !password) throw new Refusal('password-wrong');
  const user = await auth.checkPassword(name, password, ip);
  await verifyOtpFor(ctx, user, form.otp?.trim() || undefined);
  return openWebSession(ctx, user, agent, 'web');
}

/** A new web session for a user who proved who they are (by password here, or by the company sign-in). */
export async function openWebSession(ctx: Ctx, user: User, agent: string, via: string) {
  const now = ctx.clock.now();
  const expiresAt = now + ctx.config.sessionTtlMs;
  const { token, row } = await insertToken(ctx.store.db, {
    userId: user.id,
    kind: 'web-session',
    name: 'web sign-in',
    description: agent.slice(0, 200) || null,
    expiresAt,
    now,
  });
  const detail = { kind: 'web-session', via };
  await audit(ctx, { event: 'token-created', user: user.name, tokenId: row.id, detail });
  return { secret: token, user, expiresAt };
}

/** Signing out ends the session on the server, not only in the browser. */
export async function signOut(ctx: Ctx, auth: Authenticator, secret: string): Promise<void> {
  const row = await tokenByHash(ctx.store.db, hashToken(secret));
  if (row?.kind !== 'web-session' || row.revoked_at !== null) return;
  await revokeTokens(ctx.store.db, { id: row.id }, 'signed out', ctx.clock.now());
  auth.invalidate();
  await audit(ctx, { event: 'token-revoked', tokenId: row.id, reason: 'web sign-out' });
}

export type SessionInfo = {
  id: string;
  kind: string;
  name: string | null;
  agent: string | null;
  created: number;
  lastUsed: number | null;
  expires: number | null;
  current: boolean;
};

/** The caller's live sign-ins: npm login sessions and web sessions. */
export async function listSessions(ctx: Ctx, p: Principal): Promise<SessionInfo[]> {
  const d = authorizeAccount(p, 'token-list');
  if (!d.allowed) throw await deny(ctx, p, d, '');
  const user = p.user as User;
  const current = p.user && p.credential.type === 'token' ? p.credential.id : '';
  const now = ctx.clock.now();
  const rows = await liveSessionsOf(ctx.store.db, user.id, now);
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    name: r.name,
    agent: r.description,
    created: r.created_at,
    lastUsed: r.last_used_at,
    expires: r.expires_at,
    current: r.id === current,
  }));
}

/** Ends one of the caller's sessions (as `npm token revoke` may, with the same rule and second factor). */
export async function revokeSession(ctx: Ctx, auth: Authenticator, p: Principal, id: string): Promise<void> {
  const d = authorizeAccount(p, 'token-revoke');
  if (!d.allowed) throw await deny(ctx, p, d, '');
  await requireSecondFactor(ctx, p, d);
  const user = p.user as User;
  const row = await tokenOfUser(ctx.store.db, user.id, { id });
  if (!row || !SESSION_KINDS.includes(row.kind as never)) throw new Refusal('token-not-found', { id: id.slice(0, 12) });
  await revokeTokens(ctx.store.db, { id: row.id }, 'revoked by its owner (web)', ctx.clock.now());
  auth.invalidate();
  await audit(ctx, { event: 'token-revoked', user: user.name, tokenId: row.id, reason: 'web session revoke' });
}

/** "Sign out everywhere": ends every npm login session and web session of the caller, this one too (access
 *  tokens they made stay), with the rule and second factor of `npm token revoke`. */
export async function signOutEverywhere(ctx: Ctx, auth: Authenticator, p: Principal): Promise<number> {
  const d = authorizeAccount(p, 'token-revoke');
  if (!d.allowed) throw await deny(ctx, p, d, '');
  await requireSecondFactor(ctx, p, d);
  const user = p.user as User;
  const ended = await revokeTokens(
    ctx.store.db,
    { userId: user.id, kind: SESSION_KINDS },
    'signed out everywhere',
    ctx.clock.now(),
  );
  auth.invalidate();
  await audit(ctx, { event: 'token-revoked', user: user.name, reason: 'sign out everywhere', detail: { ended } });
  return ended;
}
