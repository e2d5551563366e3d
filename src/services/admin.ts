// What an administrator does from the web pages: the same account and organization functions as
// `tessera user`, `tessera org` and `tessera audit`, behind one policy decision (authorizeAdmin) that
// the command line does not need (it holds the data directory itself).
import { authorizeAdmin } from '../domain/policy.ts';
import type { Principal, User } from '../domain/principal.ts';
import { Refusal } from '../domain/reasons.ts';
import { createUser, disableUser } from './accounts.ts';
import type { Authenticator } from './authenticate.ts';
import { audit, type Ctx } from './context.ts';
import { deny } from './deny.ts';
import { markVerified } from './email.ts';
import { createOrg } from './orgs.ts';
import { auditEntries } from '../store/audit.ts';
import { allOrgs, orgMembers } from '../store/orgs.ts';
import { userList } from '../store/user-reads.ts';
import { requireSecondFactor } from './two-factor.ts';

async function allow(ctx: Ctx, p: Principal, write: boolean): Promise<User> {
  const d = authorizeAdmin(p, write);
  if (!d.allowed) throw await deny(ctx, p, d, '');
  await requireSecondFactor(ctx, p, d);
  return p.user as User;
}

export type UserRow = {
  name: string;
  email: string;
  admin: boolean;
  disabled: boolean;
  emailVerified: boolean;
  created: number;
};

/** `tessera user list`. */
export async function listUsers(ctx: Ctx, p: Principal): Promise<UserRow[]> {
  await allow(ctx, p, false);
  const rows = await userList(ctx.store.db);
  return rows.map((r) => ({
    name: r.name,
    email: r.email,
    admin: !!r.admin,
    disabled: !!r.disabled,
    emailVerified: !!r.email_verified,
    created: r.created_at,
  }));
}

export type NewUser = { name: string; email: string; password: string; admin: boolean; verified: boolean };

/** `tessera user add NAME --email … [--admin] [--verified]`; no password makes an account for single sign-on. */
export async function addUser(ctx: Ctx, p: Principal, u: NewUser): Promise<void> {
  const by = await allow(ctx, p, true);
  const user = await createUser(ctx, { name: u.name, email: u.email, password: u.password || null, admin: u.admin });
  if (u.verified) await markVerified(ctx, user.name);
  await audit(ctx, { event: 'admin-user-added', user: by.name, detail: { name: user.name, admin: u.admin } });
}

/** `tessera user disable NAME`: every token of the account is revoked with it. */
export async function disable(ctx: Ctx, auth: Authenticator, p: Principal, name: string): Promise<void> {
  const by = await allow(ctx, p, true);
  await disableUser(ctx, name);
  auth.invalidate();
  await audit(ctx, { event: 'admin-user-disabled', user: by.name, detail: { name } });
}

/** `tessera user verify NAME`. */
export async function verifyEmail(ctx: Ctx, p: Principal, name: string): Promise<void> {
  await allow(ctx, p, true);
  await markVerified(ctx, name);
}

export type AuditFilter = { user?: string; event?: string; reason?: string; since?: number; until?: number };
export type AuditEntry = {
  id: number;
  at: number;
  event: string;
  user: string | null;
  token: string | null;
  reason: string | null;
  detail: string | null;
};

/** `tessera audit`, with filters, newest first, at most `limit` entries. */
export async function auditLog(ctx: Ctx, p: Principal, f: AuditFilter, limit = 200): Promise<AuditEntry[]> {
  await allow(ctx, p, false);
  const rows = await auditEntries(ctx.store.db, { ...f, order: 'newest-first', limit });
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    event: r.event,
    user: r.user_name,
    token: r.token_id,
    reason: r.reason,
    detail: r.detail,
  }));
}

export type OrgRow = { name: string; created: number; owners: string[]; members: number };

/** `tessera org list`. */
export async function listOrgs(ctx: Ctx, p: Principal): Promise<OrgRow[]> {
  await allow(ctx, p, false);
  const orgs = await allOrgs(ctx.store.db);
  const members = await orgMembers(ctx.store.db);
  return orgs.map((o) => {
    const mine = members.filter((m) => m.org === o.name);
    const owners = mine.filter((m) => m.role === 'owner').map((m) => m.name);
    return { name: o.name, created: o.created_at, members: mine.length, owners };
  });
}

/** `tessera org create NAME --owner USER`. */
export async function addOrg(ctx: Ctx, p: Principal, name: string, owner: string): Promise<void> {
  await allow(ctx, p, true);
  if (!owner) throw new Refusal('invalid-request', { detail: 'An organization needs an owner' });
  await createOrg(ctx, name.replace(/^@/, ''), owner);
}
