// authorize(principal, action, package) → allowed, or the reason it is not, with the chain of checks
// that decided it (served by /-/tessera/v1/auth/explain). Pure: everything it needs is passed in.
import type { Principal, Credential, Grants } from './principal.ts';
import type { Params, ReasonId } from './reasons.ts';
import { scopeOf } from './names.ts';

export type Action = 'read' | 'publish' | 'unpublish' | 'dist-tag' | 'deprecate' | 'owner' | 'star' | 'access' | 'trust'
  | 'stage' | 'stage-view' | 'stage-review';

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
  | { allowed: true; checks: Check[]; otp?: boolean }
  | { allowed: false; reason: ReasonId; params: Params; checks: Check[] };

const verbs: Record<Action, string> = {
  read: 'read', publish: 'publish', unpublish: 'unpublish', 'dist-tag': 'change dist-tags of',
  deprecate: 'deprecate', owner: 'change maintainers of', star: 'star', access: 'change access to',
  trust: 'change the trusted publishers of', stage: 'stage versions of', 'stage-view': 'see the staged versions of',
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
  return p.user !== null && pkg.maintainerIds.includes(p.user.id);
}

/** Reading: public packages are readable by anyone; restricted ones by maintainers (and admins). */
export function canRead(p: Principal, pkg: PackageFacts): boolean {
  if (!pkg.exists) return false;
  if (pkg.access === 'public') return true;
  if (p.user === null) return false;
  const c = p.credential;
  if (c.type === 'token' && c.grants && (c.grants.permission === 'no-access' || !grantsCover(c.grants, pkg.name))) return false;
  // A trusted-publishing token reads its own package (npm's publish pre-check), nothing else.
  if (c.type === 'token' && c.kind === 'oidc') return true;
  return p.user.admin || isMaintainer(p, pkg) || pkg.org?.role === 'owner' || pkg.org?.role === 'admin' || (pkg.org?.team ?? null) !== null;
}

/** Registry-wide rules from the configuration. */
export type Rules = { requireVerifiedEmail?: boolean };

export function authorize(p: Principal, action: Action, pkg: PackageFacts, rules: Rules = {}): Decision {
  const checks: Check[] = [];
  const deny = (reason: ReasonId, params: Params, detail: string, check: string): Decision => {
    checks.push({ check, ok: false, detail });
    return { allowed: false, reason, params, checks };
  };
  const pass = (check: string, detail: string) => checks.push({ check, ok: true, detail });
  const verb = verbs[action];

  // Anonymous writes are refused the same way whether or not the package exists: nothing is revealed.
  if (p.user === null && action !== 'read') {
    return deny('auth-required', { action: `${verb} packages` }, 'no credential was sent', 'authenticated');
  }
  // Existence comes next: what the caller may not read does not exist for them.
  if (pkg.exists) {
    if (!canRead(p, pkg)) return deny('not-found', {}, `${pkg.name} is not visible to this caller`, 'visible');
    pass('visible', pkg.access === 'public' ? `${pkg.name} is public` : `${pkg.name} is restricted and the caller may read it`);
    if (action === 'read') return { allowed: true, checks };
  } else if (action === 'stage') {
    // Staging is for new versions: a first version is published directly (no placeholder is created).
    return deny('stage-needs-package', { package: pkg.name }, `${pkg.name} has no published version`, 'visible');
  } else if (action !== 'publish') {
    return deny('not-found', {}, `${pkg.name} does not exist`, 'visible');
  }

  if (p.user === null) return deny('auth-required', { action: `${verb} packages` }, 'no credential was sent', 'authenticated');
  pass('authenticated', `as ${p.user.name}`);
  const c = p.credential;
  if (c.type === 'token' && c.kind === 'oidc') return trustedPublish(c, action, pkg, checks);

  // Every write, starring included, needs a credential that may write this package.
  if (c.type === 'token' && c.grants?.permission === 'no-access' && c.grants.orgs.length > 0) {
    return deny('token-org-only', { orgs: c.grants.orgs.join(', '), action: verb, package: pkg.name },
      'the token grants no access to packages', 'token-writes');
  }
  const stageOnly = c.type === 'token' && c.grants?.permission === 'read-write-stage-only';
  if (stageOnly && !STAGING.has(action)) {
    return deny('token-stage-only', { package: pkg.name, action: verb }, 'the token may only stage releases', 'token-writes');
  }
  if (!stageOnly && !credentialWrites(c)) {
    return deny('token-read-only', { action: `${verb} ${pkg.name}` }, 'the token is read-only', 'token-writes');
  }
  pass('token-writes', c.type === 'password' ? 'password credentials act with the user\'s rights' : stageOnly ? 'the token may stage releases' : 'the token may write');
  if (c.type === 'token' && c.grants) {
    if (!grantsCover(c.grants, pkg.name)) {
      return deny('token-package-restricted', { allowed: describeGrants(c.grants), action: verb, package: pkg.name },
        `the token is limited to ${describeGrants(c.grants)}`, 'token-covers-package');
    }
    pass('token-covers-package', `the token covers ${describeGrants(c.grants)}`);
  }

  if (action === 'star') return { allowed: true, checks };

  if ((action === 'publish' || action === 'stage') && rules.requireVerifiedEmail && !p.user.emailVerified) {
    return deny('email-unverified', { email: p.user.email }, `${p.user.email} is not verified`, 'email-verified');
  }

  const finish = (): Decision => secondFactor(p as Principal & { user: object }, action, pkg, checks);

  if (GOVERNANCE.has(action) && c.type === 'token' && c.bypass2fa) {
    return deny('bypass-2fa-governance', { action: `${verb} ${pkg.name}` }, 'bypass-2FA tokens cannot govern packages', 'governance');
  }

  if (!pkg.exists) {
    const scope = scopeOf(pkg.name);
    if (pkg.org && pkg.org.role === null && !p.user.admin) {
      return deny('not-org-member', { org: pkg.org.name, action: `publish ${pkg.name}` }, `${p.user.name} is not a member of ${pkg.org.name}`, 'scope');
    }
    if (scope && pkg.scopeOwnerId != null && pkg.scopeOwnerId !== p.user.id && !p.user.admin) {
      return deny('scope-not-yours', { scope, package: pkg.name }, `${scope} is another user's scope`, 'scope');
    }
    pass('scope', scope ? `${p.user.name} may publish into ${scope}` : 'unscoped name is free');
    return finish();
  }

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
    if (pkg.org?.team === 'read-only' && !GOVERNANCE.has(action)) {
      return deny('team-lacks-write', { package: pkg.name, org: pkg.org.name, action: verb }, `${p.user.name}'s teams may only read ${pkg.name}`, 'maintainer');
    }
    return deny('not-maintainer', { package: pkg.name, action: verb }, `${p.user.name} is not a maintainer of ${pkg.name}`, 'maintainer');
  }
  pass('maintainer', `${p.user.name} maintains ${pkg.name}`);
  return finish();
}

/** A token from an OIDC exchange publishes (or stages) its one package as its trust configuration allows:
 *  no maintainer, no second factor (the CI's identity is the proof), and nothing else. */
function trustedPublish(c: Credential & { type: 'token' }, action: Action, pkg: PackageFacts, checks: Check[]): Decision {
  const trust = c.grants?.trust;
  const deny = (reason: ReasonId, params: Params, detail: string): Decision => {
    checks.push({ check: 'trusted-publisher', ok: false, detail });
    return { allowed: false, reason, params, checks };
  };
  if (!trust || !c.grants || !grantsCover(c.grants, pkg.name)) {
    return deny('token-package-restricted', { allowed: c.grants ? describeGrants(c.grants) : 'no packages', action: 'publish', package: pkg.name },
      'a trusted-publishing token serves one package');
  }
  if (action === 'stage') {
    if (!trust.permissions.includes('createStagedPackage')) {
      return deny('oidc-publish-only', { action: verbs[action], package: pkg.name }, 'the trust configuration does not allow staged publishing');
    }
    checks.push({ check: 'trusted-publisher', ok: true, detail: `${trust.subject} may stage versions of ${pkg.name}` });
    return { allowed: true, checks, otp: false };
  }
  // Never npm stage list, view, approve, reject or download: those are for maintainers.
  // npm also exchanges for `npm dist-tag` in CI, so tagging the package is part of publishing it.
  if (action !== 'publish' && action !== 'dist-tag') return deny('oidc-publish-only', { action: verbs[action], package: pkg.name }, 'trusted publishing only publishes and tags');
  if (!trust.permissions.includes('createPackage')) {
    return deny('token-stage-only', { action: 'publish', package: pkg.name }, 'the trust configuration only allows staged publishing');
  }
  checks.push({ check: 'trusted-publisher', ok: true, detail: `${trust.subject} is a trusted publisher of ${pkg.name}` });
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
    checks.push({ check: 'two-factor', ok: true, detail: action === 'stage' ? 'staging needs no one-time password; approving does' : 'no one-time password to look' });
    return { allowed: true, checks, otp: false };
  }
  if (action === 'stage-review') {
    if (!p.user.tfa) {
      checks.push({ check: 'two-factor', ok: false, detail: `${p.user.name} has no 2FA, which approving or rejecting needs` });
      return { allowed: false, reason: 'tfa-required', params: { action: 'approve or reject staged versions' }, checks };
    }
    checks.push({ check: 'two-factor', ok: true, detail: 'approving or rejecting a staged version needs a one-time password' });
    return { allowed: true, checks, otp: true };
  }
  const mfa = pkg.exists ? pkg.mfa ?? 'none' : 'none';
  if (action === 'publish' && mfa !== 'none') {
    if (mfa === 'automation' && skipsOtp(c)) {
      checks.push({ check: 'two-factor', ok: true, detail: `${pkg.name} accepts automation and bypass-2FA tokens` });
      return { allowed: true, checks, otp: false };
    }
    if (!p.user.tfa) {
      checks.push({ check: 'two-factor', ok: false, detail: `${pkg.name} requires 2FA to publish and ${p.user.name} has none` });
      return { allowed: false, reason: 'package-requires-2fa', params: { package: pkg.name, user: p.user.name }, checks };
    }
    checks.push({ check: 'two-factor', ok: true, detail: `${pkg.name} requires a one-time password to publish` });
    return { allowed: true, checks, otp: true };
  }
  if (p.user.tfa === 'auth-and-writes') {
    const skip = PUBLISH_LIKE.has(action) && skipsOtp(c);
    checks.push({ check: 'two-factor', ok: true, detail: skip ? 'the token bypasses 2FA for publishing' : `${p.user.name} has 2FA for writes: a one-time password is needed` });
    return { allowed: true, checks, otp: !skip };
  }
  return { allowed: true, checks, otp: false };
}

export type AccountAction = 'token-create' | 'token-revoke' | 'token-list' | 'profile';

const accountVerbs: Record<AccountAction, string> = {
  'token-create': 'create tokens', 'token-revoke': 'revoke tokens', 'token-list': 'list tokens', profile: 'change the profile',
};

/** Actions on the caller's own account: token management needs a login session (or the password). */
export function authorizeAccount(p: Principal, action: AccountAction): Decision {
  const checks: Check[] = [];
  const verb = accountVerbs[action];
  if (p.user === null) {
    checks.push({ check: 'authenticated', ok: false, detail: 'no credential was sent' });
    return { allowed: false, reason: 'auth-required', params: { action: verb }, checks };
  }
  checks.push({ check: 'authenticated', ok: true, detail: `as ${p.user.name}` });
  const c = p.credential;
  if (action === 'token-list') return { allowed: true, checks };
  if (c.type === 'token' && c.bypass2fa) {
    checks.push({ check: 'governance', ok: false, detail: 'bypass-2FA tokens cannot manage tokens or the account' });
    return { allowed: false, reason: 'bypass-2fa-governance', params: { action: verb }, checks };
  }
  if (c.type === 'token' && c.kind !== 'session') {
    checks.push({ check: 'session', ok: false, detail: `a ${c.kind} token cannot ${verb}` });
    return { allowed: false, reason: 'session-required', params: { action: verb, kind: c.kind }, checks };
  }
  checks.push({ check: 'session', ok: true, detail: c.type === 'password' ? 'password credentials' : 'a login session' });
  // Token management and profile changes are password-bearing: any 2FA mode asks for a code.
  return { allowed: true, checks, otp: p.user.tfa !== null };
}

export type OrgAction = 'org-read' | 'org-members' | 'team-manage' | 'access-grant';

export type OrgFacts = { name: string; exists: boolean; role: OrgRole | null };

const orgVerbs: Record<OrgAction, string> = {
  'org-read': 'see the members and teams of', 'org-members': 'change the members of', 'team-manage': 'manage the teams of',
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
      return deny('token-org-restricted', { org: org.name, orgs: c.grants.orgs.join(', ') || 'none', action: verb, level: writes ? 'read-write' : 'read-only' }, 'token-covers-org',
        listed ? `the token may only ${level === 'read-only' ? 'read' : 'not touch'} ${org.name}` : `the token does not list ${org.name}`);
    }
    checks.push({ check: 'token-covers-org', ok: true, detail: `the token may ${level === 'read-write' ? 'manage' : 'read'} ${org.name}` });
  } else if (c.type === 'token' && c.readonly && writes) {
    return deny('token-read-only', { action: verb }, 'token-writes', 'the token is read-only');
  }
  if (writes && c.type === 'token' && c.bypass2fa) {
    return deny('bypass-2fa-governance', { action: verb }, 'governance', 'bypass-2FA tokens cannot manage organizations');
  }
  if (org.role === null && !p.user.admin) return deny('not-org-member', { org: org.name, action: verb }, 'member', `${p.user.name} is not a member of ${org.name}`);
  const role = p.user.admin ? 'owner' : org.role!;
  checks.push({ check: 'member', ok: true, detail: p.user.admin ? 'a registry administrator' : `${p.user.name} is ${role} of ${org.name}` });
  if (writes && role === 'developer') {
    return deny('org-role-too-low', { org: org.name, role, needed: 'admin', action: verb }, 'role', 'developers cannot manage the organization');
  }
  return { allowed: true, checks, otp: writes && p.user.tfa === 'auth-and-writes' };
}

/** A publish (or a staged version) whose `access` differs from the package's also changes its access, for
 *  every version: it needs the `access` action too, as `npm access set status=…` does. Null: no change. */
export function authorizeAccessChange(p: Principal, pkg: PackageFacts, access: PackageFacts['access'] | null): Decision | null {
  if (!pkg.exists || access === null || access === pkg.access) return null;
  return authorize(p, 'access', pkg);
}
