// Turns a policy denial into a Refusal, and records it in the audit log.
import { Refusal } from '../domain/reasons.ts';
import { withDirectoryRemoval, type Decision } from '../domain/policy.ts';
import { tokenIdOf, type Principal } from '../domain/principal.ts';
import { audit, auditAnonymousRefusal, type Ctx } from './context.ts';
import { removalFor } from './directory-groups.ts';

export async function deny(
  ctx: Ctx,
  principal: Principal,
  denied: Decision & { allowed: false },
  pkg: string,
): Promise<Refusal> {
  const decision = (await inDirectoryWords(ctx, principal, denied, pkg)) as Decision & { allowed: false };
  if (!principal.user) {
    // A plain 404 to an anonymous reader is not an event; other anonymous refusals are counted.
    if (decision.reason !== 'not-found') await auditAnonymousRefusal(ctx, decision.reason, pkg);
  } else {
    await audit(ctx, {
      event: 'denied',
      user: principal.user.name,
      tokenId: tokenIdOf(principal) ?? null,
      reason: decision.reason,
      detail: { package: pkg },
    });
  }
  return new Refusal(decision.reason, decision.params);
}

/** Said in the directory's words when a membership it removed is why (policy.ts: withDirectoryRemoval); auth/explain
 *  asks here too, so it names the same reason the request gets. */
export async function inDirectoryWords(ctx: Ctx, principal: Principal, d: Decision, pkg: string): Promise<Decision> {
  if (d.allowed) return d;
  const org = /^@([^/]+)/.exec(pkg)?.[1];
  const removal = principal.user && org ? await removalFor(ctx, principal.user.id, org) : undefined;
  return withDirectoryRemoval(d, removal);
}

/** A write refused at the edge because no credential came with it (before its body is read): counted
 *  like every other anonymous refusal. */
export async function anonymousWrite(ctx: Ctx, pkg: string, action: string): Promise<Refusal> {
  await auditAnonymousRefusal(ctx, 'auth-required', pkg);
  return new Refusal('auth-required', { action });
}
