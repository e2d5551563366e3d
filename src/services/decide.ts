// The one place a package decision is made for a request: the facts from the store, the registry's
// rules from the configuration, and the policy action that fits. Services and auth/explain both ask
// here, so what explain answers is what the request then does.
import {
  authorize,
  authorizeStageReview,
  authorizeTrust,
  type Action,
  type Decision,
  type PackageFacts,
  type StagedFacts,
  type StageRules,
} from '../domain/policy.ts';
import type { Principal } from '../domain/principal.ts';
import type { PackageHead } from '../store/packages.ts';
import { factsFor } from './read.ts';
import type { Ctx } from './context.ts';
import { deny } from './deny.ts';
import { requireSecondFactor } from './two-factor.ts';

/** Package actions as auth/explain names them: the policy's, and `trust-list` (reading the trust configuration). */
export type PackageAction = Action | 'trust-list';

export const PACKAGE_ACTIONS: readonly PackageAction[] = [
  'read',
  'publish',
  'unpublish',
  'dist-tag',
  'deprecate',
  'owner',
  'star',
  'access',
  'trust',
  'trust-list',
  'stage',
  'stage-view',
  'stage-review',
];

/** Registry-wide rules, the same for every action (the policy applies each where it belongs). */
export function rulesOf(ctx: Ctx): StageRules {
  return {
    requireVerifiedEmail: ctx.config.email.requireVerified,
    requireSecondApprover: ctx.config.stage.requireSecondApprover,
  };
}

export type Facts = PackageFacts & { head?: PackageHead };

/** The decision for `action` on `name`; `staged` is the staged version a review is about, when there is one. */
export async function decidePackage(
  ctx: Ctx,
  p: Principal,
  action: PackageAction,
  name: string,
  staged?: StagedFacts & { approving: boolean },
): Promise<{ decision: Decision; facts: Facts }> {
  const facts = await factsFor(ctx, p, name);
  return { decision: decideFor(ctx, p, action, facts, staged), facts };
}

export function decideFor(
  ctx: Ctx,
  p: Principal,
  action: PackageAction,
  facts: PackageFacts,
  staged?: StagedFacts & { approving: boolean },
): Decision {
  if (action === 'trust' || action === 'trust-list') return authorizeTrust(p, facts, action === 'trust');
  if (action === 'stage-review') return authorizeStageReview(p, facts, rulesOf(ctx), staged, staged?.approving ?? true);
  return authorize(p, action, facts, rulesOf(ctx));
}

/** Decides, refuses (audited) when denied, and asks for the one-time password when the decision needs it. */
export async function allowPackage(
  ctx: Ctx,
  p: Principal,
  action: PackageAction,
  name: string,
  staged?: StagedFacts & { approving: boolean },
): Promise<Facts> {
  const { decision, facts } = await decidePackage(ctx, p, action, name, staged);
  if (!decision.allowed) throw await deny(ctx, p, decision, name);
  await requireSecondFactor(ctx, p, decision);
  return facts;
}
