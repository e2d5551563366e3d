// What the web pages show a signed-in person about themselves beyond the profile: the refusals the
// audit log holds in their name ("why was I refused?") and the organizations they belong to.
import { authorizeAccount } from '../domain/policy.ts';
import type { Principal, User } from '../domain/principal.ts';
import { Refusal, reasons } from '../domain/reasons.ts';
import type { OrgRole } from '../domain/policy.ts';
import type { Ctx } from './context.ts';
import { membershipsOf, refusalsOf } from '../store/self.ts';
import { deny } from './deny.ts';
import { passwordCounts } from './accounts.ts';
import { userById } from '../store/users.ts';

async function self(ctx: Ctx, p: Principal): Promise<User> {
  const d = authorizeAccount(p, 'profile-read');
  if (!d.allowed) throw p.user ? await deny(ctx, p, d, '') : new Refusal(d.reason, d.params);
  return p.user as User;
}

/** The audit events that record a refusal, with its reason id. */
const REFUSALS = ['denied', 'otp-denied'];

export type MyRefusal = { at: number; reason: keyof typeof reasons; package: string | null; token: string | null };

/** The caller's own most recent refusals, newest first (never anyone else's). */
export async function myRefusals(ctx: Ctx, p: Principal, limit = 50): Promise<MyRefusal[]> {
  const user = await self(ctx, p);
  const rows = await refusalsOf(ctx.store.db, user.name, REFUSALS, limit);
  return rows
    .filter((r) => Object.hasOwn(reasons, r.reason ?? ''))
    .map((r) => {
      const detail = JSON.parse(r.detail ?? '{}') as { package?: string };
      return {
        at: r.at,
        reason: r.reason as keyof typeof reasons,
        package: detail.package || null,
        token: r.token_id ? r.token_id.slice(0, 8) : null,
      };
    });
}

/** The organizations the caller is a member of, with their role. */
export async function myOrgs(ctx: Ctx, p: Principal): Promise<{ org: string; role: OrgRole }[]> {
  const user = await self(ctx, p);
  const rows = await membershipsOf(ctx.store.db, user.id);
  return rows.map((r) => ({ org: r.org, role: r.role as OrgRole }));
}

/** Whether the caller has a password the registry still takes (else the account page offers no change of it:
 *  an account of the company sign-in has none, and with passwords off only break-glass administrators do). */
export async function myPasswordCounts(ctx: Ctx, p: Principal): Promise<boolean> {
  const user = await self(ctx, p);
  return passwordCounts(ctx, await userById(ctx.store.db, user.id));
}
