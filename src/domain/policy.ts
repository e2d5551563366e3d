// authorize(principal, action, package) → allowed, or the reason it is not, with the chain of checks
// that decided it (served by /-/tessera/v1/auth/explain). Pure: everything it needs is passed in.
import { SESSION_KINDS, type Principal, type Credential, type Grants } from './principal.ts';
import type { Params, ReasonId } from './reasons.ts';
import { scopeOf } from './names.ts';

export type Action =
  | 'read'
  | 'publish'
  | 'unpublish'
  | 'dist-tag'
  | 'deprecate'
  | 'owner'
  | 'star'
  | 'access'
  | 'trust'
  | 'stage'
  | 'stage-view'
  | 'stage-review';

/** `npm stage publish` (stage), `npm stage list|view|download` (stage-view): what stage-only tokens may do. */
const STAGING: ReadonlySet<Action> = new Set(['stage', 'stage-view']);

export type PackageFacts = {
  name: string;
  exists: boolean;
  access: 'public' | 'restricted';
  maintainerIds: readonly number[];
  /** The user id whose name equals the package's scope (`@alice/x` → alice), if any. */
  scopeOwnerId?: number | null;
  /** `npm access set mfa=…`: publishing needs 2FA (`publish`), or 2FA or an automation/bypass token (`automation`). */
  mfa?: 'none' | 'publish' | 'automation';
  /** The organization owning the package's scope, as the caller stands in it. */
  org?: { name: string; role: OrgRole | null; team: 'read-only' | 'read-write' | null } | null;
};

export type OrgRole = 'owner' | 'admin' | 'developer';

/** Actions that change who controls a package: never through a token that bypasses 2FA. */
const GOVERNANCE: ReadonlySet<Action> = new Set(['owner', 'access', 'trust']);

export type Check = { check: string; ok: boolean; detail: string };
export type Decision =
  /** `otpRefusal`: what to answer when the code is missing, if not plain `otp-required`. */
  | { allowed: true; checks: Check[]; otp?: boolean; otpRefusal?: { reason: ReasonId; params: Params } }
  | { allowed: false; reason: ReasonId; params: Params; checks: Check[] };

const verbs: Record<Action, string> = {
  read: 'read',
  publish: 'publish',
  unpublish: 'unpublish',
  'dist-tag': 'change dist-tags of',
  deprecate: 'deprecate',
  owner: 'change maintainers of',
  star: 'star',
  access: 'change access to',
  trust: 'change the trusted publishers of',
  stage: 'stage versions of',
  'stage-view': 'see the staged versions of',
  'stage-review': 'approve or reject staged versions of',
};

export function grantsCover(grants: Grants, name: string): boolean {
  if (grants.packagesAll) return true;
  if (grants.packages.includes(name)) return true;
  const scope = scopeOf(name);
  return scope !== undefined && grants.scopes.some((s) => s === scope || `@${s}` === scope);
}

export function describeGrants(grants: Grants): string {
  if (grants.packagesAll) return 'all packages';
  const parts = [...grants.scopes.map((s) => (s.startsWith('@') ? s : `@${s}`) + '/*'), ...grants.packages];
  return parts.length ? parts.join(', ') : 'no packages';
}

/** Can this credential write at all, whatever the package? */
function credentialWrites(c: Credential): boolean {
  if (c.type === 'password') return true;
  if (c.readonly) return false;
  if (c.grants) return c.grants.permission === 'read-write';
  return true;
}

function isMaintainer(p: Principal, pkg: PackageFacts): boolean {
  return p.user !== null && maintains(p.user.id, pkg);
}

/** A maintainer of an organization's package acts as one only while a member of the organization: taking
 *  someone out of the org takes the org's packages from them at once, those they published included. */
export function maintains(
  userId: number,
  pkg: Pick<PackageFacts, 'org'> & { maintainerIds?: readonly number[] },
): boolean {
  return (pkg.maintainerIds ?? []).includes(userId) && (!pkg.org || pkg.org.role !== null);
}

/** What the read rule needs: for a public package, or an anonymous caller, `name`, `exists` and `access` decide. */
export type ReadFacts = Pick<PackageFacts, 'name' | 'exists' | 'access'> &
  Partial<Pick<PackageFacts, 'maintainerIds' | 'org'>>;

/** Whether `canRead` can decide from the package's head alone, without its maintainers and org facts. */
export function decidesWithoutFacts(p: Principal, access: PackageFacts['access']): boolean {
  return access === 'public' || p.user === null;
}

/**
 * THE read rule, for the packument, tarballs, search, every package listing and the install fast path:
 * public packages are readable by anyone; restricted ones by maintainers, administrators, the org's owners
 * and admins and teams granted the package — through a credential that covers it.
 */
export function canRead(p: Principal, pkg: ReadFacts): boolean {
  if (!pkg.exists) return false;
  if (pkg.access === 'public') return true;
  if (p.user === null) return false;
  const c = p.credential;
  if (c.type === 'token' && c.grants && (c.grants.permission === 'no-access' || !grantsCover(c.grants, pkg.name)))
    return false;
  // A trusted-publishing token reads its own package (npm's publish pre-check), nothing else.
  if (c.type === 'token' && c.kind === 'oidc') return true;
  const org = pkg.org;
  return (
    p.user.admin ||
    maintains(p.user.id, pkg) ||
    org?.role === 'owner' ||
    org?.role === 'admin' ||
    (org?.team ?? null) !== null
  );
}

/** Registry-wide rules from the configuration. */
export type Rules = { requireVerifiedEmail?: boolean };

/**
 * Package actions. The order of checks is what keeps a private package indistinguishable from a missing one:
 * first what the credential itself allows (it reveals nothing about the package), then the scope a new name
 * would go into, and only then whether the package is there for this caller — and a package the caller may
 * not read is answered exactly as a name that does not exist, with the same reason and the same detail.
 */
export function authorize(p: Principal, action: Action, pkg: PackageFacts, rules: Rules = {}): Decision {
  const checks: Check[] = [];
  const deny = (reason: ReasonId, params: Params, detail: string, check: string): Decision => {
    checks.push({ check, ok: false, detail });
    return { allowed: false, reason, params, checks };
  };
  const pass = (check: string, detail: string) => checks.push({ check, ok: true, detail });
  const verb = verbs[action];
  const visible = canRead(p, pkg);
  const hidden = `no package ${pkg.name} is visible to this caller`;

  if (action === 'read') {
    if (!visible) return deny('not-found', {}, hidden, 'visible');
    pass(
      'visible',
      pkg.access === 'public' ? `${pkg.name} is public` : `${pkg.name} is restricted and the caller may read it`,
    );
    return { allowed: true, checks };
  }
  // Anonymous writes are refused the same way whether or not the package exists: nothing is revealed.
  if (p.user === null)
    return deny('auth-required', { action: `${verb} packages` }, 'no credential was sent', 'authenticated');
  pass('authenticated', `as ${p.user.name}`);
  const c = p.credential;
  if (c.type === 'token' && c.kind === 'oidc') return trustedPublish(c, action, pkg, checks);

  // What the credential allows, whatever the package: every write, starring included, needs one that may write it.
  if (c.type === 'token' && c.grants?.permission === 'no-access' && c.grants.orgs.length > 0) {
    return deny(
      'token-org-only',
      { orgs: c.grants.orgs.join(', '), action: verb, package: pkg.name },
      'the token grants no access to packages',
      'token-writes',
    );
  }
  const stageOnly = c.type === 'token' && c.grants?.permission === 'read-write-stage-only';
  if (stageOnly && !STAGING.has(action)) {
    return deny(
      'token-stage-only',
      { package: pkg.name, action: verb },
      'the token may only stage releases',
      'token-writes',
    );
  }
  if (!stageOnly && !credentialWrites(c)) {
    return deny('token-read-only', { action: `${verb} ${pkg.name}` }, 'the token is read-only', 'token-writes');
  }
  pass(
    'token-writes',
    c.type === 'password'
      ? "password credentials act with the user's rights"
      : stageOnly
        ? 'the token may stage releases'
        : 'the token may write',
  );
  if (c.type === 'token' && c.grants) {
    if (!grantsCover(c.grants, pkg.name)) {
      return deny(
        'token-package-restricted',
        { allowed: describeGrants(c.grants), action: verb, package: pkg.name },
        `the token is limited to ${describeGrants(c.grants)}`,
        'token-covers-package',
      );
    }
    pass('token-covers-package', `the token covers ${describeGrants(c.grants)}`);
  }
  if ((action === 'publish' || action === 'stage') && rules.requireVerifiedEmail && !p.user.emailVerified) {
    return deny('email-unverified', { email: p.user.email }, `${p.user.email} is not verified`, 'email-verified');
  }
  if (GOVERNANCE.has(action) && c.type === 'token' && c.bypass2fa) {
    return deny(
      'bypass-2fa-governance',
      { action: `${verb} ${pkg.name}` },
      'bypass-2FA tokens cannot govern packages',
      'governance',
    );
  }

  const finish = (): Decision => secondFactor(p as Principal & { user: object }, action, pkg, checks);
  if (!visible) {
    // A new name goes into a scope: the scope's rules answer first, alike for a missing and a hidden package.
    if (action === 'publish' || action === 'stage') {
      const scope = scopeOf(pkg.name);
      if (pkg.org && pkg.org.role === null && !p.user.admin) {
        return deny(
          'not-org-member',
          { org: pkg.org.name, action: `${verb} ${pkg.name}` },
          `${p.user.name} is not a member of ${pkg.org.name}`,
          'scope',
        );
      }
      if (scope && pkg.scopeOwnerId != null && pkg.scopeOwnerId !== p.user.id && !p.user.admin) {
        return deny('scope-not-yours', { scope, package: pkg.name }, `${scope} is another user's scope`, 'scope');
      }
      // Staging is for new versions: a first version is published directly (no placeholder is created).
      if (action === 'stage') return deny('stage-needs-package', { package: pkg.name }, hidden, 'visible');
      // The one answer that cannot be alike: a caller who could create the name learns that it is taken.
      if (pkg.exists) return deny('not-found', {}, hidden, 'visible');
      pass('scope', scope ? `${p.user.name} may publish into ${scope}` : 'unscoped name is free');
      return finish();
    }
    return deny('not-found', {}, hidden, 'visible');
  }
  pass(
    'visible',
    pkg.access === 'public' ? `${pkg.name} is public` : `${pkg.name} is restricted and the caller may read it`,
  );
  if (action === 'star') return { allowed: true, checks };

  if (!isMaintainer(p, pkg)) {
    if (p.user.admin) {
      pass('maintainer', `${p.user.name} is a registry administrator`);
      return finish();
    }
    if (pkg.org?.role === 'owner') {
      pass('maintainer', `${p.user.name} owns the ${pkg.org.name} organization`);
      return finish();
    }
    if (pkg.org?.team === 'read-write' && !GOVERNANCE.has(action)) {
      pass('maintainer', `a team of ${p.user.name} in ${pkg.org.name} has read-write access to ${pkg.name}`);
      return finish();
    }
    // A maintainer taken out of the organization is told why, not that they maintain nothing.
    if (pkg.org && pkg.org.role === null && pkg.maintainerIds.includes(p.user.id)) {
      return deny(
        'not-org-member',
        { org: pkg.org.name, action: `${verb} ${pkg.name}` },
        `${p.user.name} maintains ${pkg.name} but is not a member of ${pkg.org.name}`,
        'maintainer',
      );
    }
    if (pkg.org?.team === 'read-only' && !GOVERNANCE.has(action)) {
      return deny(
        'team-lacks-write',
        { package: pkg.name, org: pkg.org.name, action: verb },
        `${p.user.name}'s teams may only read ${pkg.name}`,
        'maintainer',
      );
    }
    return deny(
      'not-maintainer',
      { package: pkg.name, action: verb },
      `${p.user.name} is not a maintainer of ${pkg.name}`,
      'maintainer',
    );
  }
  pass('maintainer', `${p.user.name} maintains ${pkg.name}`);
  return finish();
}

/** A token from an OIDC exchange publishes (or stages) its one package as its trust configuration allows:
 *  no maintainer, no second factor (the CI's identity is the proof), and nothing else. */
function trustedPublish(
  c: Credential & { type: 'token' },
  action: Action,
  pkg: PackageFacts,
  checks: Check[],
): Decision {
  const trust = c.grants?.trust;
  const deny = (reason: ReasonId, params: Params, detail: string): Decision => {
    checks.push({ check: 'trusted-publisher', ok: false, detail });
    return { allowed: false, reason, params, checks };
  };
  if (!trust || !c.grants || !grantsCover(c.grants, pkg.name)) {
    return deny(
      'token-package-restricted',
      { allowed: c.grants ? describeGrants(c.grants) : 'no packages', action: 'publish', package: pkg.name },
      'a trusted-publishing token serves one package',
    );
  }
  if (action === 'stage') {
    if (!trust.permissions.includes('createStagedPackage')) {
      return deny(
        'oidc-publish-only',
        { action: verbs[action], package: pkg.name },
        'the trust configuration does not allow staged publishing',
      );
    }
    checks.push({ check: 'trusted-publisher', ok: true, detail: `${trust.subject} may stage versions of ${pkg.name}` });
    return { allowed: true, checks, otp: false };
  }
  // Never npm stage list, view, approve, reject or download: those are for maintainers. Nor dist-tags,
  // although npm 11 exchanges for `npm dist-tag` too: `npm publish --tag` sets the tag a release needs.
  if (action !== 'publish') {
    return deny('oidc-publish-only', { action: verbs[action], package: pkg.name }, 'trusted publishing only publishes');
  }
  if (!trust.permissions.includes('createPackage')) {
    return deny(
      'token-stage-only',
      { action: 'publish', package: pkg.name },
      'the trust configuration only allows staged publishing',
    );
  }
  checks.push({
    check: 'trusted-publisher',
    ok: true,
    detail: `${trust.subject} is a trusted publisher of ${pkg.name}`,
  });
  return { allowed: true, checks, otp: false };
}

/** Tokens that may publish without a one-time password: bypass-2FA granular tokens and classic automation tokens. */
function skipsOtp(c: Credential): boolean {
  return c.type === 'token' && (c.bypass2fa || c.kind === 'classic-automation');
}

const PUBLISH_LIKE: ReadonlySet<Action> = new Set(['publish', 'unpublish', 'dist-tag', 'deprecate']);

/** The second factor, once everything else allows the write: the package's 2FA policy, then the user's mode. */
function secondFactor(p: Principal, action: Action, pkg: PackageFacts, checks: Check[]): Decision {
  if (p.user === null) return { allowed: true, checks };
  const c = p.credential;
  // Staging defers the second factor to approval, which always asks for it (npm's "proof of presence").
  if (STAGING.has(action)) {
    checks.push({
      check: 'two-factor',
      ok: true,
      detail:
        action === 'stage' ? 'staging needs no one-time password; approving does' : 'no one-time password to look',
    });
    return { allowed: true, checks, otp: false };
  }
  if (action === 'stage-review') {
    if (!p.user.tfa) {
      checks.push({
        check: 'two-factor',
        ok: false,
        detail: `${p.user.name} has no 2FA, which approving or rejecting needs`,
      });
      return {
        allowed: false,
        reason: 'tfa-required',
        params: { action: 'approve or reject staged versions' },
        checks,
      };
    }
    checks.push({
      check: 'two-factor',
      ok: true,
      detail: 'approving or rejecting a staged version needs a one-time password',
    });
    return { allowed: true, checks, otp: true };
  }
  const mfa = pkg.exists ? (pkg.mfa ?? 'none') : 'none';
  // As on npmjs, a package that requires 2FA requires it to publish and to modify its settings (`npm access set`:
  // its 2FA policy and visibility): a maintainer without 2FA must not be able to weaken what protects it.
  const settings = action === 'access';
  if ((action === 'publish' || settings) && mfa !== 'none') {
    const what = settings ? 'publish or change its settings' : 'publish';
    if (!settings && mfa === 'automation' && skipsOtp(c)) {
      checks.push({ check: 'two-factor', ok: true, detail: `${pkg.name} accepts automation and bypass-2FA tokens` });
      return { allowed: true, checks, otp: false };
    }
    if (!p.user.tfa) {
      checks.push({
        check: 'two-factor',
        ok: false,
        detail: `${pkg.name} requires 2FA to ${what} and ${p.user.name} has none`,
      });
      return {
        allowed: false,
        reason: 'package-requires-2fa',
        params: { package: pkg.name, user: p.user.name, action: what },
        checks,
      };
    }
    checks.push({ check: 'two-factor', ok: true, detail: `${pkg.name} requires a one-time password to ${what}` });
    // A token that would skip the code anywhere else: the refusal says that this package's policy asks for it.
    const otpRefusal = { reason: 'package-requires-otp' as const, params: { package: pkg.name } };
    return { allowed: true, checks, otp: true, ...(skipsOtp(c) && !settings ? { otpRefusal } : {}) };
  }
  if (p.user.tfa === 'auth-and-writes') {
    const skip = PUBLISH_LIKE.has(action) && skipsOtp(c);
    checks.push({
      check: 'two-factor',
      ok: true,
      detail: skip
        ? 'the token bypasses 2FA for publishing'
        : `${p.user.name} has 2FA for writes: a one-time password is needed`,
    });
    return { allowed: true, checks, otp: !skip };
  }
  return { allowed: true, checks, otp: false };
}

/** `whoami` and `profile-read` are `npm whoami` and `npm profile get`; `profile` changes the profile. */
export type AccountAction = 'token-create' | 'token-revoke' | 'token-list' | 'profile' | 'profile-read' | 'whoami';

const accountVerbs: Record<AccountAction, string> = {
  'token-create': 'create tokens',
  'token-revoke': 'revoke tokens',
  'token-list': 'list tokens',
  profile: 'change the profile',
  'profile-read': 'read your profile',
  whoami: 'ask who you are',
};
const ACCOUNT_READS: ReadonlySet<AccountAction> = new Set(['token-list', 'profile-read', 'whoami']);

/** What the account looks like to `npm token create`: whether it has a password, and whether one was sent. */
export type PasswordFacts = { hasPassword: boolean; passwordSent: boolean };

/**
 * Actions on the caller's own account: token management needs a login session (or the password).
 * `npm token create` also confirms with the account password unless the caller authenticated with it:
 * given `account`, the decision says `password: true` when the service must check the one sent.
 * Accounts without a password (created for SSO) skip it.
 */
export function authorizeAccount(
  p: Principal,
  action: AccountAction,
  account?: PasswordFacts,
): Decision & { password?: boolean } {
  const checks: Check[] = [];
  const verb = accountVerbs[action];
  if (p.user === null) {
    checks.push({ check: 'authenticated', ok: false, detail: 'no credential was sent' });
    return { allowed: false, reason: 'auth-required', params: { action: verb }, checks };
  }
  checks.push({ check: 'authenticated', ok: true, detail: `as ${p.user.name}` });
  const c = p.credential;
  // A trusted-publishing token is a CI job's, not its user's: it may not even say whose it is.
  if (c.type === 'token' && c.kind === 'oidc') {
    checks.push({ check: 'trusted-publisher', ok: false, detail: 'a trusted-publishing token only publishes' });
    const pkg = c.grants ? describeGrants(c.grants) : 'its package';
    return { allowed: false, reason: 'oidc-not-a-user', params: { action: verb, package: pkg }, checks };
  }
  if (ACCOUNT_READS.has(action)) return { allowed: true, checks };
  if (c.type === 'token' && c.bypass2fa) {
    checks.push({ check: 'governance', ok: false, detail: 'bypass-2FA tokens cannot manage tokens or the account' });
    return { allowed: false, reason: 'bypass-2fa-governance', params: { action: verb }, checks };
  }
  if (c.type === 'token' && !SESSION_KINDS.includes(c.kind)) {
    checks.push({ check: 'session', ok: false, detail: `a ${c.kind} token cannot ${verb}` });
    return { allowed: false, reason: 'session-required', params: { action: verb, kind: c.kind }, checks };
  }
  checks.push({
    check: 'session',
    ok: true,
    detail: c.type === 'password' ? 'password credentials' : 'a login session',
  });
  const password = action === 'token-create' && account?.hasPassword === true && c.type !== 'password';
  if (password && !account.passwordSent) {
    checks.push({ check: 'password', ok: false, detail: 'creating a token needs the account password' });
    return { allowed: false, reason: 'password-required', params: {}, checks };
  }
  if (password) checks.push({ check: 'password', ok: true, detail: 'the password sent is checked' });
  // Token management and profile changes are password-bearing: any 2FA mode asks for a code.
  return { allowed: true, checks, otp: p.user.tfa !== null, ...(password ? { password } : {}) };
}

/** `org-leave` is `npm org rm <org> <me>`: any member may leave (the last owner is kept by the store). */
export type OrgAction = 'org-read' | 'org-members' | 'org-leave' | 'team-manage' | 'access-grant';

/** `left`: the caller left this organization moments ago (services/orgs.ts LEFT_GRACE_MS). */
export type OrgFacts = { name: string; exists: boolean; role: OrgRole | null; left?: boolean };

const orgVerbs: Record<OrgAction, string> = {
  'org-read': 'see the members and teams of',
  'org-members': 'change the members of',
  'org-leave': 'leave',
  'team-manage': 'manage the teams of',
  'access-grant': 'change team access to packages of',
};

/** Organization actions: the caller's role, and a token's org grants. */
export function authorizeOrg(p: Principal, action: OrgAction, org: OrgFacts): Decision {
  const checks: Check[] = [];
  const verb = `${orgVerbs[action]} ${org.name}`;
  const deny = (reason: ReasonId, params: Params, check: string, detail: string): Decision => {
    checks.push({ check, ok: false, detail });
    return { allowed: false, reason, params, checks };
  };
  if (p.user === null) return deny('auth-required', { action: verb }, 'authenticated', 'no credential was sent');
  if (!org.exists) return deny('not-found', {}, 'visible', `there is no organization ${org.name}`);
  checks.push({ check: 'authenticated', ok: true, detail: `as ${p.user.name}` });
  const c = p.credential;
  const writes = action !== 'org-read';
  if (c.type === 'token' && c.grants) {
    const listed = c.grants.orgs.includes(org.name);
    const level = c.grants.orgsPermission;
    if (!listed || level === 'no-access' || (writes && level !== 'read-write')) {
      return deny(
        'token-org-restricted',
        {
          org: org.name,
          orgs: c.grants.orgs.join(', ') || 'none',
          action: verb,
          level: writes ? 'read-write' : 'read-only',
          // Listed, but below what the action needs: the refusal says what the token may do there.
          ...(listed ? { granted: level === 'no-access' ? 'no-access' : 'read-only' } : {}),
        },
        'token-covers-org',
        listed
          ? `the token may only ${level === 'read-only' ? 'read' : 'not touch'} ${org.name}`
          : `the token does not list ${org.name}`,
      );
    }
    checks.push({
      check: 'token-covers-org',
      ok: true,
      detail: `the token may ${level === 'read-write' ? 'manage' : 'read'} ${org.name}`,
    });
  } else if (c.type === 'token' && c.readonly && writes) {
    // A token for packages would not manage the org either: the fix is a token with the org's permission.
    const create = `--orgs ${org.name} --orgs-permission read-write`;
    return deny('token-read-only', { action: verb, create }, 'token-writes', 'the token is read-only');
  }
  if (writes && c.type === 'token' && c.bypass2fa) {
    return deny(
      'bypass-2fa-governance',
      { action: verb },
      'governance',
      'bypass-2FA tokens cannot manage organizations',
    );
  }
  if (org.role === null && !p.user.admin && action === 'org-read' && org.left) {
    // npm org rm reads the roster right after the removal, to say how many members are left: who has just left
    // reads it once more, as they could a moment before, and npm reports the removal instead of a refusal.
    checks.push({ check: 'member', ok: true, detail: `${p.user.name} left ${org.name} moments ago` });
    return { allowed: true, checks, otp: false };
  }
  if (org.role === null && !p.user.admin)
    return deny(
      'not-org-member',
      { org: org.name, action: verb },
      'member',
      `${p.user.name} is not a member of ${org.name}`,
    );
  const role = p.user.admin ? 'owner' : org.role!;
  checks.push({
    check: 'member',
    ok: true,
    detail: p.user.admin ? 'a registry administrator' : `${p.user.name} is ${role} of ${org.name}`,
  });
  if (writes && role === 'developer' && action !== 'org-leave') {
    return deny(
      'org-role-too-low',
      { org: org.name, role, needed: 'admin', action: verb },
      'role',
      'developers cannot manage the organization',
    );
  }
  return { allowed: true, checks, otp: writes && p.user.tfa === 'auth-and-writes' };
}

// --- rules that used to live in services (issue #11): each one a pure function returning a Decision.

const refuse = (checks: Check[], reason: ReasonId, params: Params, check: string, detail: string): Decision => {
  checks.push({ check, ok: false, detail });
  return { allowed: false, reason, params, checks };
};

/** `npm trust list` (write=false) and `npm trust github|gitlab|…|revoke` (write=true) on a package. */
export function authorizeTrust(p: Principal, pkg: PackageFacts, write: boolean): Decision {
  const d = authorize(p, write ? 'trust' : 'read', pkg);
  if (!d.allowed) return d;
  const checks = d.checks;
  if (p.user === null)
    return refuse(
      checks,
      'auth-required',
      { action: 'manage trusted publishers' },
      'authenticated',
      'no credential was sent',
    );
  if (!write) {
    // Reading governs nothing, so any credential of a maintainer, org owner or administrator may.
    if (!p.user.admin && !isMaintainer(p, pkg) && pkg.org?.role !== 'owner') {
      return refuse(
        checks,
        'not-maintainer',
        { package: pkg.name, action: 'see the trusted publishers of' },
        'maintainer',
        `${p.user.name} is not a maintainer of ${pkg.name}`,
      );
    }
    checks.push({
      check: 'maintainer',
      ok: true,
      detail: `${p.user.name} may see the trusted publishers of ${pkg.name}`,
    });
    return { allowed: true, checks, otp: false };
  }
  // Trust is governance: whoever changes it proves presence with a one-time password, whatever their 2FA mode.
  const tfa = checks.findIndex((c) => c.check === 'two-factor');
  if (tfa >= 0) checks.splice(tfa, 1);
  if (!p.user.tfa) {
    return refuse(
      checks,
      'tfa-required',
      { action: 'change the trusted publishers of a package' },
      'two-factor',
      `${p.user.name} has no 2FA, which changing trusted publishers needs`,
    );
  }
  checks.push({ check: 'two-factor', ok: true, detail: 'changing trusted publishers needs a one-time password' });
  return { allowed: true, checks, otp: true };
}

/** A change of someone's role in an organization: `role` null removes them. Only owners make, change or remove owners. */
export type MemberChange = { current: OrgRole | null; role: OrgRole | null; self?: boolean };

export function authorizeOrgMember(p: Principal, org: OrgFacts, change: MemberChange): Decision {
  const d = authorizeOrg(p, change.self && change.role === null ? 'org-leave' : 'org-members', org);
  if (!d.allowed || p.user === null) return d;
  const mine: OrgRole = p.user.admin ? 'owner' : org.role!;
  const touchesOwner = change.role === 'owner' || change.current === 'owner';
  if (mine !== 'owner' && touchesOwner) {
    const action = change.role === null ? `remove an owner of ${org.name}` : `make or change an owner of ${org.name}`;
    return refuse(
      d.checks,
      'org-role-too-low',
      { org: org.name, role: mine, needed: 'owner', action },
      'role',
      'only owners make, change or remove owners',
    );
  }
  d.checks.push({
    check: 'role',
    ok: true,
    detail: touchesOwner ? `${p.user.name} is an owner` : 'admins manage developers and admins',
  });
  return d;
}

/**
 * `npm owner add` on an organization's package: a maintainer who is not a member of the organization would hold
 * nothing (maintains() above), so adding one is refused, naming the first of `outsiders` (the new maintainers
 * who are not members). Maintainers already listed stay, so that removing someone else still works.
 */
export function authorizeNewMaintainers(pkg: Pick<PackageFacts, 'name' | 'org'>, outsiders: string[]): Decision {
  const checks: Check[] = [];
  if (pkg.org && outsiders.length) {
    const params = { user: outsiders[0], org: pkg.org.name, package: pkg.name };
    const detail = `${outsiders.join(', ')} not a member of ${pkg.org.name}`;
    return refuse(checks, 'maintainer-not-org-member', params, 'org-member', detail);
  }
  checks.push({ check: 'org-member', ok: true, detail: 'every new maintainer may maintain the package' });
  return { allowed: true, checks };
}

/** The staged version a review is about: who staged it (a user id, or a trusted publisher). */
export type StagedFacts = {
  version: string;
  actor: string;
  actorType: 'user' | 'trusted-publisher';
  stagedBy: number | null;
};
export type StageRules = Rules & { requireSecondApprover?: boolean };

/**
 * `npm stage approve|reject`: a staged version the caller may not see (stage-view) is as unknown as a
 * missing id; then the stage-review decision, then the second-approver rule for approvals.
 */
export function authorizeStageReview(
  p: Principal,
  pkg: PackageFacts,
  rules: StageRules,
  staged?: StagedFacts,
  approving = true,
): Decision {
  const oidc = p.user !== null && p.credential.type === 'token' && p.credential.kind === 'oidc';
  const view = authorize(p, 'stage-view', pkg);
  if (!view.allowed && p.user !== null && !oidc) {
    const checks = view.checks.filter((c) => c.ok);
    return refuse(
      checks,
      'not-found',
      {},
      'stage-visible',
      `the staged versions of ${pkg.name} are not visible to this credential (${view.reason})`,
    );
  }
  const d = authorize(p, 'stage-review', pkg, rules);
  if (!d.allowed || !staged || !approving || !rules.requireSecondApprover || p.user === null) return d;
  if (staged.actorType === 'user' && staged.stagedBy === p.user.id) {
    const at = d.checks.findIndex((c) => c.check === 'two-factor');
    const checks = at >= 0 ? d.checks.slice(0, at) : d.checks;
    return refuse(
      checks,
      'stage-second-approver',
      { package: pkg.name, version: staged.version, user: staged.actor },
      'second-approver',
      `${p.user.name} staged this version; another maintainer must approve it`,
    );
  }
  d.checks.push({ check: 'second-approver', ok: true, detail: `staged by ${staged.actor}, approved by another` });
  return d;
}

export type SignupPolicy = 'open' | 'closed' | 'admin-only';

/**
 * Creating an account. Under `admin-only` only an administrator's password or login session may: a token
 * that may manage the account, as npm's model has it (the same credentials authorizeAccount accepts),
 * never a read-only, package-limited, automation, publish or bypass-2FA token.
 */
export function authorizeSignup(p: Principal, policy: SignupPolicy): Decision {
  const checks: Check[] = [];
  if (policy === 'open') {
    checks.push({ check: 'signup', ok: true, detail: 'sign-up is open' });
    return { allowed: true, checks, otp: false };
  }
  if (policy === 'closed') return refuse(checks, 'signup-closed', { policy }, 'signup', 'sign-up is closed');
  if (p.user === null || !p.user.admin) {
    return refuse(checks, 'signup-closed', { policy }, 'administrator', 'accounts are created by an administrator');
  }
  checks.push({ check: 'administrator', ok: true, detail: `${p.user.name} is a registry administrator` });
  const c = p.credential;
  if (c.type === 'token' && (!SESSION_KINDS.includes(c.kind) || c.bypass2fa || c.readonly || c.grants)) {
    return refuse(checks, 'signup-closed', { policy }, 'session', `a ${c.kind} token cannot manage accounts`);
  }
  checks.push({
    check: 'session',
    ok: true,
    detail: c.type === 'password' ? 'password credentials' : 'a login session',
  });
  return { allowed: true, checks, otp: false };
}

/**
 * `npm access list collaborators`: who may read the package may list its maintainers; team grants are
 * the organization's business, so only its members (and administrators) see the team-derived entries.
 */
export function authorizeCollaborators(p: Principal, pkg: PackageFacts): Decision & { teams?: boolean } {
  const d = authorize(p, 'read', pkg);
  if (!d.allowed) return d;
  const teams = p.user !== null && (p.user.admin || (pkg.org?.role ?? null) !== null);
  d.checks.push({
    check: 'teams',
    ok: true,
    detail: teams ? 'team grants are shown' : 'team grants are shown only to members of the organization',
  });
  return { ...d, teams };
}

/**
 * `npm access list packages <org>`: the caller's access to one of the organization's packages — `write` when
 * the policy lets them change it (dist-tags stand for every write), `read` when they may only read it, null
 * when they may not even see it.
 */
export function accessLevel(p: Principal, pkg: PackageFacts): 'read' | 'write' | null {
  if (!canRead(p, pkg)) return null;
  return authorize(p, 'dist-tag', pkg).allowed ? 'write' : 'read';
}

/**
 * `npm access list packages <user>`: what the user holds on a package of theirs — `write` as a maintainer (a
 * member, for an org package) or through a read-write team, `read` through a read-only team. `pkg` is as the
 * user stands; `teams` says whether the caller may see team grants (the organization's business, as in
 * authorizeCollaborators: the user themselves, the org's members and administrators).
 */
export function heldAccess(userId: number, pkg: PackageFacts, teams: boolean): 'read' | 'write' | null {
  if (maintains(userId, pkg)) return 'write';
  if (!teams) return null;
  return pkg.org?.team === 'read-write' ? 'write' : pkg.org?.team === 'read-only' ? 'read' : null;
}

/** Whether the caller may see the team grants of an organization's members (see heldAccess). */
export function seesTeamGrants(p: Principal, userId: number, org: PackageFacts['org']): boolean {
  return p.user !== null && (p.user.id === userId || p.user.admin || (org?.role ?? null) !== null);
}

/** A user's e-mail address in their user document (`npm owner add` reads it): never for anonymous callers. */
export function canSeeEmail(p: Principal, _userName: string): boolean {
  return p.user !== null;
}

/**
 * `npm stage list|view|download|approve|reject` before any staged version is looked at: a signed-in
 * caller, and never a trusted-publishing token (those stage; maintainers review). Which versions the
 * caller then sees is the per-package 'stage-view' decision.
 */
export function authorizeStageAccess(p: Principal, action: 'list staged versions' | 'see staged versions'): Decision {
  const checks: Check[] = [];
  if (p.user === null) return refuse(checks, 'auth-required', { action }, 'authenticated', 'no credential was sent');
  checks.push({ check: 'authenticated', ok: true, detail: `as ${p.user.name}` });
  const c = p.credential;
  if (c.type === 'token' && c.kind === 'oidc') {
    const own = c.grants?.packages[0] ?? '';
    return refuse(
      checks,
      'oidc-publish-only',
      { action: verbs['stage-view'], package: own },
      'trusted-publisher',
      'trusted publishing only publishes and stages',
    );
  }
  return { allowed: true, checks };
}

/** A publish (or a staged version) whose `access` differs from the package's also changes its access, for
 *  every version: it needs the `access` action too, as `npm access set status=…` does. Null: no change. */
export function authorizeAccessChange(
  p: Principal,
  pkg: PackageFacts,
  access: PackageFacts['access'] | null,
): Decision | null {
  if (!pkg.exists || access === null || access === pkg.access) return null;
  return authorize(p, 'access', pkg);
}

/**
 * The administration pages (users, the audit log, organizations): registry administrators only, and through
 * a credential that may manage accounts (a login session or the password, as authorizeSignup asks). To
 * everyone else they do not exist: the refusal is a plain `not-found`. Writes ask for the second factor
 * when the administrator has 2FA on, like the account's own changes.
 */
export function authorizeAdmin(p: Principal, write: boolean): Decision {
  const checks: Check[] = [];
  if (p.user === null || !p.user.admin) {
    return refuse(
      checks,
      'not-found',
      {},
      'administrator',
      'only registry administrators see the administration pages',
    );
  }
  checks.push({ check: 'administrator', ok: true, detail: `${p.user.name} is a registry administrator` });
  const c = p.credential;
  if (c.type === 'token' && (!SESSION_KINDS.includes(c.kind) || c.bypass2fa || c.readonly || c.grants)) {
    return refuse(checks, 'not-found', {}, 'session', `a ${c.kind} token cannot administer the registry`);
  }
  checks.push({
    check: 'session',
    ok: true,
    detail: c.type === 'password' ? 'password credentials' : 'a login session',
  });
  return { allowed: true, checks, otp: write && p.user.tfa !== null };
}

/** What a new hook (npm's hooks API) would watch, as the caller stands to it. */
export type HookTarget =
  | { type: 'package'; pkg: PackageFacts }
  | { type: 'scope'; scope: string; org: { name: string; role: OrgRole | null } | null }
  | { type: 'owner'; name: string; exists: boolean };

/**
 * Hooks are account configuration (npm's model: managed like tokens, from a login session or a token
 * that may write, never through one that bypasses 2FA), and they read what they watch with their
 * owner's rights. `target` is what a new hook watches; without it, the decision is about the
 * caller's own hooks (list, view, change, delete), which any non-read-only credential of theirs may write.
 */
export function authorizeHook(p: Principal, write: boolean, target?: HookTarget): Decision {
  const checks: Check[] = [];
  const action = 'manage hooks';
  if (p.user === null) return refuse(checks, 'auth-required', { action }, 'authenticated', 'no credential was sent');
  checks.push({ check: 'authenticated', ok: true, detail: `as ${p.user.name}` });
  const c = p.credential;
  if (c.type === 'token' && c.kind === 'oidc') {
    const pkg = c.grants ? describeGrants(c.grants) : 'its package';
    return refuse(
      checks,
      'oidc-not-a-user',
      { action, package: pkg },
      'trusted-publisher',
      'a trusted-publishing token only publishes',
    );
  }
  if (!write) return { allowed: true, checks, otp: false };
  if (c.type === 'token' && (c.bypass2fa || c.kind === 'classic-automation')) {
    return refuse(
      checks,
      'bypass-2fa-governance',
      { action },
      'governance',
      'tokens that bypass 2FA cannot manage hooks',
    );
  }
  if (c.type === 'token' && (c.readonly || c.grants?.permission === 'read-only')) {
    return refuse(checks, 'token-read-only', { action }, 'token-writes', 'the token is read-only');
  }
  if (c.type === 'token' && c.grants && c.grants.permission !== 'read-write') {
    const params = { allowed: `${c.grants.permission} access`, action: 'manage hooks on', package: 'packages' };
    return refuse(
      checks,
      'token-package-restricted',
      params,
      'token-writes',
      `the token's permission is ${c.grants.permission}`,
    );
  }
  const credential = c.type === 'password' ? 'password credentials' : `a ${c.kind} token`;
  checks.push({ check: 'token-writes', ok: true, detail: credential });
  // Like token management: a hook (and its secret) is account configuration, so any 2FA mode asks for a code.
  const allow = (check: string, detail: string): Decision => {
    checks.push({ check, ok: true, detail });
    return { allowed: true, checks, otp: p.user !== null && p.user.tfa !== null };
  };
  if (!target) return allow('owner', "the caller's own hooks");
  const grants = c.type === 'token' ? c.grants : null;
  const restricted = (what: string, verb: string): Decision =>
    refuse(
      checks,
      'token-package-restricted',
      { allowed: describeGrants(grants!), action: verb, package: what },
      'token-covers',
      `the token is limited to ${describeGrants(grants!)}`,
    );
  if (target.type === 'package') {
    // A package the caller may not read is answered exactly as a name that does not exist.
    if (!canRead(p, target.pkg)) {
      return refuse(checks, 'not-found', {}, 'visible', `no package ${target.pkg.name} is visible to this caller`);
    }
    if (grants && !grantsCover(grants, target.pkg.name)) return restricted(target.pkg.name, 'watch');
    return allow('visible', `${p.user.name} may read ${target.pkg.name}`);
  }
  if (target.type === 'scope') {
    const covered =
      !grants || grants.packagesAll || grants.scopes.some((s) => s === target.scope || `@${s}` === target.scope);
    if (!covered) return restricted(`${target.scope}/*`, 'watch');
    if (p.user.admin) return allow('scope', `${p.user.name} is a registry administrator`);
    if (target.scope === `@${p.user.name}`) return allow('scope', `${target.scope} is ${p.user.name}'s own scope`);
    if (target.org && target.org.role !== null) {
      return allow('scope', `${p.user.name} is ${target.org.role} of ${target.org.name}`);
    }
    // One answer for another user's scope, an org the caller is not in and a scope nobody owns.
    return refuse(
      checks,
      'hook-scope-not-yours',
      { scope: target.scope },
      'scope',
      `${target.scope} is neither ${p.user.name}'s scope nor an organization ${p.user.name} belongs to`,
    );
  }
  if (grants && !grants.packagesAll) return restricted(`the packages of ${target.name}`, 'watch');
  if (target.name === p.user.name) return allow('owner', `${p.user.name} watches their own packages`);
  if (!p.user.admin) {
    return refuse(
      checks,
      'hook-owner-not-yours',
      { name: target.name },
      'owner',
      `only administrators watch another user's packages`,
    );
  }
  if (!target.exists) {
    return refuse(checks, 'unknown-user', { name: target.name }, 'owner', `there is no user ${target.name}`);
  }
  return allow('owner', `${p.user.name} is a registry administrator`);
}

/**
 * Whether a credential reaches one of its user's own hooks. A token limited to some packages or scopes may
 * make hooks only on what it covers (authorizeHook), and sees and changes only those: a hook on a package
 * outside its grants is as absent to it as the package is.
 */
export function hookWithinGrants(p: Principal, hook: { type: HookTarget['type']; name: string }): boolean {
  if (p.user === null) return false;
  const grants = p.credential.type === 'token' ? p.credential.grants : null;
  if (!grants || grants.packagesAll) return true;
  if (hook.type === 'package') return grantsCover(grants, hook.name);
  if (hook.type === 'scope') return grants.scopes.some((s) => s === hook.name || `@${s}` === hook.name);
  return false;
}

/** A membership the company directory took away (services/directory-groups.ts), and the groups that give it back. */
export type DirectoryRemoval = { target: string; groups: string[]; at: number; source: string };

const DIRECTORY_CAUSED: ReadonlySet<ReasonId> = new Set(['not-org-member', 'not-maintainer', 'team-lacks-write']);

/**
 * A refusal whose cause is a membership the directory removed says so (`sso-group-removed`), with what it
 * refused. Only refusals that already admit the package exists: a plain 404 stays a plain 404.
 */
export function withDirectoryRemoval(d: Decision, removal: DirectoryRemoval | undefined): Decision {
  if (d.allowed || !removal || !DIRECTORY_CAUSED.has(d.reason)) return d;
  const detail = `the company directory (${removal.source}) removed the user from ${removal.target}`;
  return {
    ...d,
    reason: 'sso-group-removed',
    checks: [...d.checks, { check: 'directory', ok: false, detail }],
    params: {
      ...d.params,
      target: removal.target,
      groups: removal.groups.join(', ') || 'a mapped group',
      at: new Date(removal.at).toISOString(),
    },
  };
}
