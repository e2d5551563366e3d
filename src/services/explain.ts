// GET /-/tessera/v1/auth/explain: would the caller's credential be allowed `action` on `package`, and
// which checks decide it? Answered from the very decision the request itself asks for (decide.ts for
// packages, authorizeAccount for the account), so the verdict cannot drift from what the request does.
import { Refusal } from '../domain/reasons.ts';
import { authorizeAccount, type AccountAction, type Decision } from '../domain/policy.ts';
import type { Explanation } from '../domain/wire.ts';
import type { Principal } from '../domain/principal.ts';
import type { Ctx } from './context.ts';
import { decidePackage, PACKAGE_ACTIONS, type PackageAction } from './decide.ts';
import { inDirectoryWords } from './deny.ts';
import { userRowBy } from '../store/user-reads.ts';

const ACCOUNT_ACTIONS: readonly AccountAction[] = ['token-create', 'token-list', 'token-revoke', 'profile'];
export const EXPLAIN_ACTIONS: readonly string[] = [...PACKAGE_ACTIONS, ...ACCOUNT_ACTIONS];

async function accountDecision(ctx: Ctx, p: Principal, action: AccountAction): Promise<Decision> {
  if (action !== 'token-create' || !p.user) return authorizeAccount(p, action);
  const row = await userRowBy(ctx.store.db, { id: p.user.id });
  // npm token create asks for the password and sends it: the explanation assumes it will.
  return authorizeAccount(p, action, { hasPassword: !!row?.password_hash, passwordSent: true });
}

export async function explain(
  ctx: Ctx,
  p: Principal,
  actionIn: string | undefined,
  pkg: string | undefined,
): Promise<Explanation> {
  const action = actionIn ?? 'read';
  if (!EXPLAIN_ACTIONS.includes(action))
    throw new Refusal('invalid-request', { detail: `action must be one of ${EXPLAIN_ACTIONS.join(', ')}` });
  const account = (ACCOUNT_ACTIONS as readonly string[]).includes(action);
  if (!account && !pkg) throw new Refusal('invalid-request', { detail: 'package is required' });
  const d = account
    ? await accountDecision(ctx, p, action as AccountAction)
    : await inDirectoryWords(ctx, p, (await decidePackage(ctx, p, action as PackageAction, pkg!)).decision, pkg!);
  const who = p.user?.name ?? 'an anonymous caller';
  const c = p.user ? p.credential : null;
  return {
    allowed: d.allowed,
    reason: d.allowed ? null : d.reason,
    otp: d.allowed ? d.otp === true : false,
    message: d.allowed
      ? `${who} may ${action}${account ? '' : ` ${pkg}`} with this credential`
      : new Refusal(d.reason, d.params).message,
    credential: {
      user: p.user?.name ?? null,
      kind: c === null ? 'anonymous' : c.type === 'token' ? c.kind : 'password',
      expires: c?.type === 'token' && c.expiresAt ? new Date(c.expiresAt).toISOString() : null,
    },
    checks: d.checks,
  };
}
