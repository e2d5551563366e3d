// `npm profile get | set | enable-2fa | disable-2fa` over GET/POST /-/npm/v1/user.
import { Refusal } from '../domain/reasons.ts';
import { authorizeAccount, canSeeEmail } from '../domain/policy.ts';
import type { Principal, TfaMode, User } from '../domain/principal.ts';
import { hashPassword, validatePassword } from '../domain/passwords.ts';
import { bumpRevocations, revokeTokens, sessionIdsOf } from '../store/tokens.ts';
import { existingUser, updateUser, userById as userRowById } from '../store/users.ts';
import { audit, type Ctx } from './context.ts';
import { passwordCounts, userByName } from './accounts.ts';
import { sendVerification, type Sent } from './email.ts';
import { deny } from './deny.ts';
import type { Authenticator } from './authenticate.ts';
import type { ProfileUpdate } from '../domain/commands.ts';
import { confirmEnrolment, disable, profileTfa, requireSecondFactor, startEnrolment } from './two-factor.ts';

const TEXT_FIELDS = ['fullname', 'homepage', 'freenode', 'twitter', 'github'] as const;

/** Reads of the caller's own account. An anonymous `npm whoami` is routine, so only refusals of a
 *  credential are audited. */
async function allowRead(ctx: Ctx, p: Principal, action: 'whoami' | 'profile-read'): Promise<User> {
  const d = authorizeAccount(p, action);
  if (!d.allowed) throw p.user ? await deny(ctx, p, d, '') : new Refusal(d.reason, d.params);
  return p.user!;
}

/** `npm whoami`: the caller's user name. */
export async function whoami(ctx: Ctx, p: Principal): Promise<string> {
  return (await allowRead(ctx, p, 'whoami')).name;
}

/** GET /-/user/org.couchdb.user:<name> (`npm owner add` reads it): the e-mail address only for signed-in callers. */
export async function userDocument(ctx: Ctx, p: Principal, name: string): Promise<Record<string, unknown>> {
  const user = await userByName(ctx, name);
  if (!user) throw new Refusal('unknown-user', { name });
  const email = canSeeEmail(p, user.name) ? { email: user.email } : {};
  return { _id: `org.couchdb.user:${user.name}`, _rev: '1-0', name: user.name, ...email, type: 'user', roles: [] };
}

/** POST /-/tessera/v1/email/verify: a new link to the caller's own address, for the account's own credentials. */
export async function requestVerification(ctx: Ctx, p: Principal): Promise<Sent> {
  const user = await allowRead(ctx, p, 'profile-read');
  return sendVerification(ctx, user);
}

export async function getProfile(ctx: Ctx, p: Principal): Promise<Record<string, unknown>> {
  const user = await allowRead(ctx, p, 'profile-read');
  const row = await existingUser(ctx.store.db, user.id);
  const extra = JSON.parse(row.profile ?? '{}') as Record<string, string | null>;
  return {
    name: row.name,
    email: row.email,
    email_verified: row.email_verified === 1,
    tfa: await profileTfa(ctx, row.id),
    created: new Date(row.created_at).toISOString(),
    updated: new Date(row.updated_at).toISOString(),
    cidr_whitelist: null,
    ...Object.fromEntries(TEXT_FIELDS.map((f) => [f, extra[f] ?? null])),
  };
}

async function allowProfile(ctx: Ctx, p: Principal): Promise<Principal & { user: User }> {
  const d = authorizeAccount(p, 'profile');
  if (!d.allowed) throw await deny(ctx, p, d, '');
  return { ...p, otpVerified: false } as Principal & { user: User };
}

export async function updateProfile(
  ctx: Ctx,
  auth: Authenticator,
  principal: Principal,
  body: ProfileUpdate,
): Promise<Record<string, unknown>> {
  const p = await allowProfile(ctx, principal);
  const tfa = body.tfa;
  if (tfa !== undefined) {
    if (Array.isArray(tfa)) {
      return confirmEnrolment(ctx, p.user, tfa[0]);
    }
    const t = tfa as { mode?: string; password?: unknown };
    if (!t || typeof t !== 'object') throw new Refusal('password-required');
    // As for token creation: an account of the company sign-in has no password here to give.
    if (passwordCounts(ctx, await userRowById(ctx.store.db, p.user.id))) {
      if (typeof t.password !== 'string') throw new Refusal('password-required');
      await auth.checkPassword(p.user.name, t.password);
    }
    if (t.mode === 'disable') {
      await disable(ctx, p);
      return { ...(await getProfile(ctx, p)), tfa: false };
    }
    if (t.mode !== 'auth-only' && t.mode !== 'auth-and-writes') {
      throw new Refusal('invalid-request', { detail: 'tfa.mode must be auth-only, auth-and-writes or disable' });
    }
    return startEnrolment(ctx, p, t.mode as TfaMode);
  }
  // An ordinary profile change: a write that needs the second factor when 2FA is on. Everything else is
  // checked first, so a mistyped password or address does not use up the one-time password (each works once).
  const row = await existingUser(ctx.store.db, p.user.id);
  const extra = JSON.parse(row.profile ?? '{}') as Record<string, string | null>;
  const changes: { email?: string; email_verified?: number; password_hash?: string; profile?: string } = {};
  if (typeof body.email === 'string' && body.email !== row.email) {
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(body.email))
      throw new Refusal('invalid-request', { detail: 'A valid e-mail address is required' });
    changes.email = body.email;
    changes.email_verified = 0; // a new address must be verified again
  }
  let newPassword: string | null = null;
  if (body.password && typeof body.password === 'object') {
    const pw = body.password as { old?: unknown; new?: unknown };
    if (typeof pw.old !== 'string') throw new Refusal('password-required');
    await auth.checkPassword(p.user.name, pw.old);
    const problem = validatePassword(pw.new);
    if (problem) throw new Refusal('invalid-request', { detail: problem });
    newPassword = pw.new as string;
  }
  await requireSecondFactor(ctx, p, authorizeAccount(p, 'profile'));
  const passwordChanged = newPassword !== null;
  if (newPassword !== null) changes.password_hash = await hashPassword(newPassword);
  for (const f of TEXT_FIELDS)
    if (f in body) extra[f] = typeof body[f] === 'string' ? (body[f] as string).slice(0, 500) : null;
  changes.profile = JSON.stringify(extra);
  await updateUser(ctx.store.db, p.user.id, changes, ctx.clock.now());
  if (changes.email) {
    // Cached principals carry the verified flag, which just went back to false.
    await bumpRevocations(ctx.store.db);
    auth.invalidate();
  }
  if (passwordChanged) {
    // Other sessions end; the one making the change keeps working so npm can print its answer.
    const keep = p.credential.type === 'token' ? p.credential.id : '';
    for (const id of await sessionIdsOf(ctx.store.db, p.user.id, keep))
      await revokeTokens(ctx.store.db, { id }, 'password changed', ctx.clock.now());
    auth.invalidate();
  }
  await audit(ctx, { event: 'profile-changed', user: p.user.name, detail: { fields: Object.keys(body) } });
  return getProfile(ctx, p);
}
