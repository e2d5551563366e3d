// Accounts and sessions: legacy CouchDB login/adduser, web login, logout, and the admin's user commands.
import { createHash, randomBytes } from 'node:crypto';
import { Refusal } from '../domain/reasons.ts';
import { hashPassword, validatePassword } from '../domain/passwords.ts';
import { anonymous, SESSION_KINDS, type Principal, type User } from '../domain/principal.ts';
import { authorizeSignup } from '../domain/policy.ts';
import { hashToken } from '../domain/tokens.ts';
import { insertToken, revokeTokens, tokenByHash } from '../store/tokens.ts';
import {
  existingUser,
  insertUser,
  orgHoldsName,
  setPasswordHash,
  setUserDisabled,
  userById as userRowById,
  userByName as userRowByName,
} from '../store/users.ts';
import {
  deleteExpiredWebLogins,
  deleteWebLogin,
  insertWebLogin,
  issueOtpProof,
  setWebLoginKind,
  setWebLoginUser,
  webLoginById,
} from '../store/web-logins.ts';
import { audit, type Ctx } from './context.ts';
import { toUser, type Authenticator } from './authenticate.ts';
import { verifyOtpFor } from './two-factor.ts';
import { deny } from './deny.ts';
import { hashCode } from '../domain/totp.ts';
import type { CouchUser, WebLoginForm } from '../domain/commands.ts';

const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,213}$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function validateUserName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new Refusal('invalid-request', {
      detail: 'User names are lowercase letters, digits, ".", "_" and "-", starting with a letter or digit',
    });
  }
  return name;
}

/** What is wrong with a user name, in the words of the rule it breaks; undefined for a valid one. */
export function userNameProblem(name: string): string | undefined {
  if (NAME_RE.test(name)) return undefined;
  if (!name) return 'it is empty';
  if (name.length > 214) return `it is ${name.length} characters long, and a user name has at most 214 characters`;
  if (!/^[a-z0-9]/.test(name)) return `a user name must start with a letter or a digit, not "${name[0]}"`;
  const bad = [...new Set(name.replace(/[a-z0-9._-]/g, ''))].map((c) => (c === ' ' ? 'a space' : `"${c}"`));
  return `a user name has only lowercase letters, digits, ".", "_" and "-", not ${bad.join(', ')}`;
}

function validateEmail(email: unknown): string {
  if (typeof email !== 'string' || !EMAIL_RE.test(email))
    throw new Refusal('invalid-request', { detail: 'A valid e-mail address is required' });
  return email;
}

/** Whether the registry asks this account for its password again (token creation, 2FA changes): a local
 *  password that may still sign in (with passwords off, only a break-glass administrator's). Accounts of the
 *  company sign-in keep none here; their sign-in session is what proves them. */
export function passwordCounts(ctx: Ctx, row: { password_hash: string | null; admin: number } | undefined): boolean {
  return !!row?.password_hash && (ctx.config.auth.local || row.admin === 1);
}

export async function createUser(
  ctx: Ctx,
  input: { name: string; email: string; password: string | null; admin?: boolean },
): Promise<User> {
  const name = validateUserName(input.name);
  const email = validateEmail(input.email);
  if (input.password !== null) {
    const problem = validatePassword(input.password);
    if (problem) throw new Refusal('invalid-request', { detail: problem });
  }
  if (await userRowByName(ctx.store.db, name)) throw new Refusal('user-exists', { name });
  // A user's name is also their scope: one an organization holds is not free.
  if (await orgHoldsName(ctx.store.db, name)) throw new Refusal('name-taken', { name, by: 'organization' });
  const now = ctx.clock.now();
  const row = await insertUser(ctx.store.db, {
    name,
    email,
    email_verified: 0,
    password_hash: input.password === null ? null : await hashPassword(input.password),
    admin: input.admin ? 1 : 0,
    disabled: 0,
    tfa: null,
    created_at: now,
    updated_at: now,
  });
  await audit(ctx, { event: 'user-created', user: name });
  return toUser(row);
}

/** An account brought from another registry with its password hash as that registry kept it
 *  (authenticate.ts accepts it once and re-hashes it); not created when the name is taken or invalid. */
export async function createImportedUser(
  ctx: Ctx,
  input: { name: string; email: string; passwordHash: string | null; via: string },
): Promise<{ created: true } | { created: false; why: string }> {
  try {
    validateUserName(input.name);
  } catch (e) {
    return { created: false, why: (e as Refusal).message };
  }
  if (await userByName(ctx, input.name)) return { created: false, why: 'a user of that name already exists' };
  if (await orgHoldsName(ctx.store.db, input.name)) return { created: false, why: 'an organization holds that name' };
  const now = ctx.clock.now();
  await insertUser(ctx.store.db, {
    name: input.name,
    email: input.email,
    email_verified: 0,
    password_hash: input.passwordHash,
    admin: 0,
    disabled: 0,
    tfa: null,
    created_at: now,
    updated_at: now,
  });
  await audit(ctx, { event: 'user-created', user: input.name, detail: { via: input.via } });
  return { created: true };
}

export async function userByName(ctx: Ctx, name: string) {
  return userRowByName(ctx.store.db, name);
}

export async function userById(ctx: Ctx, id: number) {
  return userRowById(ctx.store.db, id);
}

/** A new session token, as `npm login` stores it. */
export async function mintSession(ctx: Ctx, user: User, how: string): Promise<string> {
  const now = ctx.clock.now();
  const { token, row } = await insertToken(ctx.store.db, {
    userId: user.id,
    kind: 'session',
    name: `npm login (${how})`,
    expiresAt: now + ctx.config.sessionTtlMs,
    now,
  });
  await audit(ctx, { event: 'token-created', user: user.name, tokenId: row.id, detail: { kind: 'session', via: how } });
  return token;
}

/** Creating an account over HTTP, as the sign-up policy allows it (authorizeSignup). */
export async function allowSignup(ctx: Ctx, caller: Principal): Promise<void> {
  const d = authorizeSignup(caller, ctx.config.signup);
  if (!d.allowed) throw await deny(ctx, caller, d, '');
}

/** With `auth.local: false` accounts come from the company sign-in, never from a password sign-up. */
function refuseLocalSignup(ctx: Ctx): void {
  if (!ctx.config.auth.local) throw new Refusal('local-login-disabled', { provider: ctx.config.auth.oidc?.name });
}

/** PUT /-/user/org.couchdb.user:<name>: login when the user exists, sign-up (by policy) when not. */
export async function couchLogin(
  ctx: Ctx,
  auth: Authenticator,
  caller: Principal,
  urlName: string,
  body: CouchUser,
  otp: string | undefined,
  ip: string,
): Promise<{ status: number; token: string; name: string; created?: User }> {
  const name = typeof body.name === 'string' ? body.name : urlName;
  if (name !== urlName)
    throw new Refusal('invalid-request', { detail: 'The user name in the body does not match the URL' });
  const password = body.password;
  if (typeof password !== 'string' || !password)
    throw new Refusal('invalid-request', { detail: 'A password is required' });
  const existing = await userByName(ctx, name);
  // With a directory, a name new to the registry signs in with its directory password (the first makes the account).
  if (existing || auth.directory) {
    // Existing user: this is a login, whether npm called it login or adduser.
    const user = await auth.checkPassword(name, password, ip);
    // Any 2FA mode protects login with a one-time password.
    await verifyOtpFor(ctx, user, otp);
    return { status: 201, token: await mintSession(ctx, user, 'legacy'), name };
  }
  if (body.email === undefined) throw new Refusal('login-unknown-user', { name });
  refuseLocalSignup(ctx);
  await allowSignup(ctx, caller);
  const user = await createUser(ctx, { name, email: String(body.email), password });
  return { status: 201, token: await mintSession(ctx, user, 'adduser'), name, created: user };
}

/** DELETE /-/user/token/<token>: logout revokes the session on the server. */
export async function logout(ctx: Ctx, auth: Authenticator, token: string): Promise<void> {
  const row = await tokenByHash(ctx.store.db, hashToken(token));
  // Unknown or already revoked: the client is logged out either way, so say yes and let it clean up.
  if (!row || row.revoked_at !== null) return;
  await revokeTokens(ctx.store.db, { id: row.id }, 'logged out', ctx.clock.now());
  auth.invalidate();
  await audit(ctx, { event: 'token-revoked', tokenId: row.id, reason: 'logout' });
}

// --- web login: POST /-/v1/login → the browser signs in at loginUrl → the CLI polls doneUrl.
// Only a digest of the session secret is stored; the token is minted when the CLI collects it.

function sessionId(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export async function startWebLogin(
  ctx: Ctx,
  kind: 'login' | 'adduser' | 'otp',
  userId: number | null = null,
): Promise<string> {
  // Web sign-up is refused up front when the browser's form (which carries no credential) would be.
  if (kind === 'adduser') await allowSignup(ctx, anonymous);
  const secret = randomBytes(24).toString('base64url');
  const now = ctx.clock.now();
  await deleteExpiredWebLogins(ctx.store.db, now);
  await insertWebLogin(ctx.store.db, {
    id: sessionId(secret),
    user_id: userId,
    kind,
    created_at: now,
    expires_at: now + ctx.config.webLoginTtlMs,
    proof: null,
  });
  return secret;
}

async function liveSession(ctx: Ctx, secret: string) {
  const row = await webLoginById(ctx.store.db, sessionId(secret));
  if (!row || row.expires_at <= ctx.clock.now()) throw new Refusal('web-login-expired');
  return row;
}

export async function webLoginKind(ctx: Ctx, secret: string): Promise<string> {
  return (await liveSession(ctx, secret)).kind;
}

/** The browser side: the user proved who they are (or signed up); the session is now theirs. */
export async function completeWebLogin(
  ctx: Ctx,
  auth: Authenticator,
  secret: string,
  form: WebLoginForm & { create: boolean },
  ip: string,
): Promise<User> {
  const session = await liveSession(ctx, secret);
  const name = String(form.name ?? '');
  const password = String(form.password ?? '');
  let user: User;
  if (session.kind === 'otp') {
    // The web OTP flow: the person proves the second factor in the browser; the CLI then collects a proof.
    user = toUser(await existingUser(ctx.store.db, session.user_id!));
    await verifyOtpFor(ctx, user, form.otp || undefined);
    await setWebLoginKind(ctx.store.db, session.id, 'otp-approved');
    return user;
  }
  if (form.create) {
    // The browser's form carries no credential: an administrator creates accounts another way.
    refuseLocalSignup(ctx);
    await allowSignup(ctx, anonymous);
    user = await createUser(ctx, { name, email: String(form.email ?? ''), password });
  } else {
    user = await auth.checkPassword(name, password, ip);
    await verifyOtpFor(ctx, user, form.otp || undefined);
  }
  await setWebLoginUser(ctx.store.db, session.id, user.id);
  return user;
}

/** The browser side, when the company sign-in proved who the person is (and, for an OTP challenge, that the
 *  provider did the second factor the registry trusts). */
export async function completeWebLoginAs(ctx: Ctx, secret: string, user: User, mfa: boolean): Promise<void> {
  const session = await liveSession(ctx, secret);
  if (session.kind === 'otp') {
    if (session.user_id !== user.id) throw new Refusal('sso-response-invalid', { detail: 'signed in as another user' });
    if (!mfa) throw new Refusal('otp-required');
    await setWebLoginKind(ctx.store.db, session.id, 'otp-approved');
    return;
  }
  if (session.kind !== 'login' && session.kind !== 'adduser') throw new Refusal('web-login-expired');
  await setWebLoginUser(ctx.store.db, session.id, user.id);
}

/** The CLI side: 202 until the browser finished, then the token exactly once. */
export async function pollWebLogin(ctx: Ctx, secret: string): Promise<string | null> {
  const session = await liveSession(ctx, secret);
  if (session.kind === 'otp') return null;
  if (session.kind === 'otp-approved') {
    // Hand the CLI a one-time proof to send as npm-otp; only its digest is kept.
    const proof = randomBytes(32).toString('hex');
    if (!(await issueOtpProof(ctx.store.db, session.id, hashCode(proof)))) throw new Refusal('web-login-expired');
    return proof;
  }
  if (session.kind === 'otp-issued') throw new Refusal('web-login-expired');
  if (session.user_id === null) return null;
  if (!(await deleteWebLogin(ctx.store.db, session.id))) throw new Refusal('web-login-expired');
  return mintSession(ctx, toUser(await existingUser(ctx.store.db, session.user_id)), 'web');
}

// --- administration

export async function setPassword(ctx: Ctx, name: string, password: string): Promise<void> {
  const problem = validatePassword(password);
  if (problem) throw new Refusal('invalid-request', { detail: problem });
  const user = await userByName(ctx, name);
  if (!user) throw new Refusal('unknown-user', { name });
  await setPasswordHash(ctx.store.db, user.id, await hashPassword(password), ctx.clock.now());
  // A new password ends every login session made with the old one, npm's and the web pages' alike.
  const n = await revokeTokens(
    ctx.store.db,
    { userId: user.id, kind: SESSION_KINDS },
    'password changed',
    ctx.clock.now(),
  );
  await audit(ctx, { event: 'password-changed', user: name, detail: { sessionsRevoked: n } });
}

/** `why` goes on every revoked token (what npm prints for them) and in the audit log. */
export async function disableUser(ctx: Ctx, name: string, why = 'account disabled'): Promise<void> {
  const user = await userByName(ctx, name);
  if (!user) throw new Refusal('unknown-user', { name });
  await setUserDisabled(ctx.store.db, user.id, true, ctx.clock.now());
  await revokeTokens(ctx.store.db, { userId: user.id }, why, ctx.clock.now());
  await audit(ctx, { event: 'user-disabled', user: name, ...(why === 'account disabled' ? {} : { reason: why }) });
}
