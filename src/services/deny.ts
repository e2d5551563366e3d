// Turns a policy denial into a Refusal, and records it in the audit log.
import { Refusal } from '../domain/reasons.ts';
import type { Decision } from '../domain/policy.ts';
import type { Principal } from '../domain/principal.ts';
import { audit, type Ctx } from './context.ts';

export async function deny(ctx: Ctx, principal: Principal, decision: Decision & { allowed: false }, pkg: string): Promise<Refusal> {
  if (decision.reason !== 'not-found' || principal.user) {
    await audit(ctx, {
      event: 'denied',
      user: principal.user?.name ?? null,
      tokenId: principal.user && principal.credential.type === 'token' ? principal.credential.id : null,
      reason: decision.reason,
      detail: { package: pkg },
    });
  }
  return new Refusal(decision.reason, decision.params);
}
