// The rules moved into domain/policy.ts by issue #11: trust, org owner-only changes, the second
// approver, token create's password, sign-up and collaborators. Pure: principals and facts by hand.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  authorizeAccount,
  authorizeCollaborators,
  authorizeOrgMember,
  authorizeSignup,
  authorizeStageAccess,
  authorizeStageReview,
  authorizeTrust,
  type Decision,
  type OrgFacts,
  type PackageFacts,
} from '../../src/domain/policy.ts';
import type { Credential, Grants, Principal, User } from '../../src/domain/principal.ts';
import { grants as granular } from '../helpers/grants.ts';

const user = (id: number, name: string, more: Partial<User> = {}): User => ({
  id,
  name,
  email: `${name}@example.com`,
  admin: false,
  emailVerified: true,
  tfa: null,
  ...more,
});
const token = (more: Partial<Credential & { type: 'token' }> = {}): Credential => ({
  type: 'token',
  id: 't',
  kind: 'session',
  readonly: false,
  grants: null,
  bypass2fa: false,
  expiresAt: null,
  ...more,
});
const as = (u: User, c: Credential = token()): Principal => ({ user: u, credential: c });
const grants = (g: Partial<Grants>): Grants => granular({ packagesAll: true, ...g });

const alice = user(1, 'alice', { tfa: 'auth-only' });
const bob = user(2, 'bob', { tfa: 'auth-only' });
const root = user(3, 'root', { admin: true });
const pkg = (more: Partial<PackageFacts> = {}): PackageFacts => ({
  name: '@acme/x',
  exists: true,
  access: 'public',
  maintainerIds: [1],
  ...more,
});
const reason = (d: Decision) => (d.allowed ? '-' : d.reason);

describe('trust', () => {
  test('listing: maintainers, org owners and admins, with any of their credentials', () => {
    assert.equal(
      reason(authorizeTrust(as(alice, token({ kind: 'classic-readonly', readonly: true })), pkg(), false)),
      '-',
    );
    assert.equal(reason(authorizeTrust(as(bob), pkg(), false)), 'not-maintainer');
    assert.equal(
      reason(authorizeTrust(as(bob), pkg({ org: { name: 'acme', role: 'owner', team: null } }), false)),
      '-',
    );
    assert.equal(reason(authorizeTrust(as(root), pkg(), false)), '-');
    // A restricted package the caller cannot read does not exist for them.
    assert.equal(reason(authorizeTrust(as(bob), pkg({ access: 'restricted' }), false)), 'not-found');
  });
  test('changing: governance, needs 2FA and then a one-time password', () => {
    const d = authorizeTrust(as(alice), pkg(), true);
    assert.equal(d.allowed && d.otp, true);
    assert.equal(reason(authorizeTrust(as(user(1, 'alice')), pkg(), true)), 'tfa-required');
    assert.equal(
      reason(authorizeTrust(as(alice, token({ kind: 'granular', grants: grants({}), bypass2fa: true })), pkg(), true)),
      'bypass-2fa-governance',
    );
    assert.equal(
      reason(authorizeTrust(as(bob), pkg({ org: { name: 'acme', role: 'developer', team: 'read-write' } }), true)),
      'not-maintainer',
    );
    assert.equal(reason(authorizeTrust({ user: null }, pkg(), true)), 'auth-required');
  });
});

describe('org owner-only changes', () => {
  const acme = (role: OrgFacts['role']): OrgFacts => ({ name: 'acme', exists: true, role });
  test('admins manage developers and admins, never owners', () => {
    assert.equal(reason(authorizeOrgMember(as(bob), acme('admin'), { current: null, role: 'developer' })), '-');
    assert.equal(reason(authorizeOrgMember(as(bob), acme('admin'), { current: 'developer', role: 'admin' })), '-');
    assert.equal(
      reason(authorizeOrgMember(as(bob), acme('admin'), { current: null, role: 'owner' })),
      'org-role-too-low',
    );
    assert.equal(
      reason(authorizeOrgMember(as(bob), acme('admin'), { current: 'owner', role: 'developer' })),
      'org-role-too-low',
    );
    const removal = authorizeOrgMember(as(bob), acme('admin'), { current: 'owner', role: null });
    assert.equal(removal.allowed ? '' : String(removal.params.action), 'remove an owner of acme');
  });
  test('owners and registry administrators may', () => {
    assert.equal(reason(authorizeOrgMember(as(alice), acme('owner'), { current: 'owner', role: null })), '-');
    assert.equal(reason(authorizeOrgMember(as(root), acme(null), { current: null, role: 'owner' })), '-');
  });
  test('the org decision comes first', () => {
    assert.equal(
      reason(authorizeOrgMember(as(bob), acme('developer'), { current: null, role: 'developer' })),
      'org-role-too-low',
    );
    assert.equal(reason(authorizeOrgMember(as(bob), acme(null), { current: null, role: 'owner' })), 'not-org-member');
  });
});

describe('the second approver', () => {
  const staged = { version: '1.1.0', actor: 'alice', actorType: 'user' as const, stagedBy: 1 };
  test('with requireSecondApprover the maintainer who staged cannot approve, but can reject', () => {
    const on = { requireSecondApprover: true };
    assert.equal(
      reason(authorizeStageReview(as(alice), pkg({ maintainerIds: [1, 2] }), on, staged, true)),
      'stage-second-approver',
    );
    assert.equal(reason(authorizeStageReview(as(alice), pkg({ maintainerIds: [1, 2] }), on, staged, false)), '-');
    assert.equal(reason(authorizeStageReview(as(bob), pkg({ maintainerIds: [1, 2] }), on, staged, true)), '-');
    const ci = { ...staged, actor: 'repo:acme/x', actorType: 'trusted-publisher' as const, stagedBy: 1 };
    assert.equal(reason(authorizeStageReview(as(alice), pkg(), on, ci, true)), '-');
  });
  test('a staged version the caller may not see is as unknown as a missing id', () => {
    assert.equal(
      reason(authorizeStageReview(as(alice, token({ kind: 'classic-readonly', readonly: true })), pkg(), {})),
      'not-found',
    );
    assert.equal(reason(authorizeStageReview(as(bob), pkg(), {})), 'not-found');
    assert.equal(reason(authorizeStageReview({ user: null }, pkg(), {})), 'auth-required');
  });
  test('without it, or without a staged version (auth/explain), the review rule alone decides', () => {
    assert.equal(reason(authorizeStageReview(as(alice), pkg(), {}, staged, true)), '-');
    assert.equal(reason(authorizeStageReview(as(alice), pkg(), { requireSecondApprover: true })), '-');
    assert.equal(
      reason(authorizeStageReview(as(user(1, 'alice')), pkg(), { requireSecondApprover: true }, staged)),
      'tfa-required',
    );
  });
});

describe('token create: the password', () => {
  test('needed from a session when the account has one; checked by the service', () => {
    assert.equal(
      reason(authorizeAccount(as(alice), 'token-create', { hasPassword: true, passwordSent: false })),
      'password-required',
    );
    const d = authorizeAccount(as(alice), 'token-create', { hasPassword: true, passwordSent: true });
    assert.equal(d.allowed && d.password, true);
  });
  test('not from the password itself, nor for accounts without one', () => {
    assert.equal(
      authorizeAccount(as(alice, { type: 'password' }), 'token-create', { hasPassword: true, passwordSent: false })
        .allowed,
      true,
    );
    const d = authorizeAccount(as(alice), 'token-create', { hasPassword: false, passwordSent: false });
    assert.equal(d.allowed && d.password, undefined);
  });
  test('the session rule still comes first', () => {
    assert.equal(
      reason(
        authorizeAccount(as(alice, token({ kind: 'classic-publish' })), 'token-create', {
          hasPassword: true,
          passwordSent: false,
        }),
      ),
      'session-required',
    );
  });
});

describe('sign-up', () => {
  test('open and closed', () => {
    assert.equal(reason(authorizeSignup({ user: null }, 'open')), '-');
    assert.equal(reason(authorizeSignup(as(root), 'closed')), 'signup-closed');
  });
  test("admin-only: an administrator's session or password, nothing less", () => {
    assert.equal(reason(authorizeSignup(as(root), 'admin-only')), '-');
    assert.equal(reason(authorizeSignup(as(root, { type: 'password' }), 'admin-only')), '-');
    assert.equal(reason(authorizeSignup({ user: null }, 'admin-only')), 'signup-closed');
    assert.equal(reason(authorizeSignup(as(alice), 'admin-only')), 'signup-closed');
    for (const c of [
      token({ kind: 'classic-readonly', readonly: true }),
      token({ kind: 'classic-publish' }),
      token({ kind: 'classic-automation' }),
      token({ kind: 'granular', grants: grants({ packagesAll: false, packages: ['x'] }) }),
      token({ kind: 'granular', grants: grants({}) }),
      token({ kind: 'granular', grants: grants({ permission: 'read-only' }), readonly: true }),
      token({ kind: 'granular', grants: grants({}), bypass2fa: true }),
    ]) {
      assert.equal(reason(authorizeSignup(as(root, c), 'admin-only')), 'signup-closed', JSON.stringify(c));
    }
  });
});

describe('collaborators', () => {
  const org = (role: 'owner' | 'developer' | null) => ({ org: { name: 'acme', role, team: null } });
  test('who may not read the package gets not-found', () => {
    assert.equal(reason(authorizeCollaborators(as(bob), pkg({ access: 'restricted', ...org(null) }))), 'not-found');
    assert.equal(reason(authorizeCollaborators(as(bob), pkg({ exists: false }))), 'not-found');
  });
  test('team entries only for members of the organization and administrators', () => {
    const teams = (p: Principal, facts: PackageFacts) => {
      const d = authorizeCollaborators(p, facts);
      return d.allowed && d.teams;
    };
    assert.equal(teams({ user: null }, pkg(org(null))), false);
    assert.equal(teams(as(bob), pkg(org(null))), false);
    assert.equal(teams(as(bob), pkg(org('developer'))), true);
    assert.equal(teams(as(root), pkg(org(null))), true);
  });
});

describe('staging access', () => {
  test('signed-in callers look at staged versions; anonymous callers and trusted publishers do not', () => {
    assert.equal(reason(authorizeStageAccess({ user: null }, 'list staged versions')), 'auth-required');
    assert.equal(reason(authorizeStageAccess(as(alice), 'see staged versions')), '-');
    const ci = token({ kind: 'oidc', grants: grants({ packagesAll: false, packages: ['@acme/x'] }) });
    const d = authorizeStageAccess(as(alice, ci), 'list staged versions');
    assert.equal(reason(d), 'oidc-publish-only');
    assert.equal(d.allowed ? '' : d.params.package, '@acme/x');
  });
});
