// A Tessera refusal (the `x-tessera-reason` header, or `reason` from /-/tessera/v1/auth/explain) turned
// into the doctor's finding and a fix that names the exact command. Every reason id in
// src/domain/reasons.ts is either mapped here or listed as one a probe never meets (a unit test keeps
// the two lists complete).
import type { FindingId, Severity } from '../domain/findings.ts';
import type { ReasonId } from '../domain/reasons.ts';
import type { TokenMeta as WireTokenMeta } from '../domain/wire.ts';

export const REASON_FINDING: { readonly [R in ReasonId]?: FindingId } = {
  // the credential itself (401 on /-/whoami, /-/ping, …)
  'token-invalid': 'token-rejected',
  'token-expired': 'token-rejected',
  'token-revoked': 'token-rejected',
  'user-disabled': 'token-rejected',
  'ip-not-allowed': 'token-rejected',
  'password-wrong': 'token-rejected',
  'login-throttled': 'token-rejected',
  'classic-tokens-disabled': 'token-rejected',
  'directory-refused': 'token-rejected',
  'directory-user-removed': 'token-rejected',
  'directory-name-invalid': 'token-rejected',
  // a password (_auth, Basic) where auth.local is false
  'local-login-disabled': 'token-rejected',
  'password-with-2fa': 'token-rejected',
  'auth-required': 'no-credential-for-registry',
  // two-factor authentication
  'otp-required': 'otp-required',
  'otp-wrong': 'otp-required',
  'otp-reused': 'otp-required',
  'package-requires-otp': 'otp-required',
  'otp-throttled': 'otp-required',
  // what the token may do
  'token-read-only': 'read-only-token',
  'token-package-restricted': 'publish-forbidden',
  'token-org-only': 'publish-forbidden',
  'token-stage-only': 'publish-forbidden',
  'bypass-2fa-governance': 'publish-forbidden',
  'session-required': 'publish-forbidden',
  'token-org-restricted': 'publish-forbidden',
  // who the user is for this package
  'not-maintainer': 'not-maintainer',
  'scope-not-yours': 'not-maintainer',
  'team-lacks-write': 'not-maintainer',
  'not-org-member': 'not-maintainer',
  'org-role-too-low': 'not-maintainer',
  'sso-group-removed': 'not-maintainer',
  // the account, the package's policy, the version
  'email-unverified': 'publish-forbidden',
  'package-requires-2fa': 'publish-forbidden',
  'tfa-required': 'publish-forbidden',
  'version-exists': 'publish-forbidden',
  'version-staged': 'publish-forbidden',
  'name-reserved': 'publish-forbidden',
  // trusted publishing
  'oidc-exchange-failed': 'trusted-publishing-failed',
  'oidc-publish-only': 'trusted-publishing-failed',
  'trust-creator-disabled': 'trusted-publishing-failed',
  'oidc-not-a-user': 'publish-forbidden',
  // the registry, not the caller
  'upstream-unavailable': 'network-unreachable',
  'directory-unavailable': 'network-unreachable',
  'store-unavailable': 'network-unreachable',
};

/** Refusals of malformed requests, account management and other commands: never the answer to a probe. */
export const NOT_A_PROBE_ANSWER: readonly ReasonId[] = [
  'login-unknown-user',
  'signup-closed',
  'user-exists',
  'web-login-expired',
  'password-required',
  'token-limit-reached',
  'classic-token-not-made',
  'name-taken',
  'csrf-failed',
  'token-too-many-packages',
  'token-too-many-orgs',
  'token-expiry-out-of-range',
  'token-not-found',
  'tfa-not-pending',
  'last-org-owner',
  'trust-config-exists',
  'not-found',
  'stage-version-exists',
  'stage-needs-package',
  'stage-second-approver',
  'stage-conflict',
  'maintainer-not-org-member',
  'version-missing',
  'unscoped-restricted',
  'last-maintainer',
  'unknown-user',
  'audit-unavailable',
  'tag-invalid',
  'latest-tag-required',
  'rev-conflict',
  'bad-json',
  'body-too-large',
  'invalid-name',
  'invalid-version',
  'invalid-publish',
  'tarball-mismatch',
  'tarball-too-large',
  'invalid-request',
  'route-not-found',
  'method-not-allowed',
  'bad-url',
  'request-timeout',
  'headers-too-large',
  'email-link-unavailable',
  'oidc-audience-unset',
  'hook-scope-not-yours',
  'hook-owner-not-yours',
  'hook-endpoint-invalid',
  'hook-limit-reached',
  'hook-not-found',
  // company sign-in happens in a browser, never in a probe's request
  'sso-provider-refused',
  'sso-provider-unavailable',
  'sso-response-invalid',
  'sso-name-conflict',
];

export function findingForReason(reason: string | undefined): FindingId | undefined {
  return reason && Object.hasOwn(REASON_FINDING, reason) ? REASON_FINDING[reason as ReasonId] : undefined;
}

/** Severity for a refused action: a one-time password is asked for, not refused. */
export function severityForReason(reason: string | undefined, id: FindingId): Severity {
  return id === 'otp-required' && reason !== 'otp-throttled' ? 'warning' : 'error';
}

/** A token as /-/tessera/v1/token and /-/npm/v1/tokens present it; an older Tessera may lack fields. */
export type TokenMeta = Partial<WireTokenMeta>;

export interface FixInput {
  reason: string | undefined;
  /** The registry URL as configured (with its trailing slash). */
  registry: string;
  /** `file:line` of the credential. */
  where: string;
  /** Where a new token goes: a file line, or the variable that line reads. */
  place: string;
  pkg?: string;
  user?: string;
  /** The token's own metadata, when the registry gave it. */
  token?: TokenMeta;
  /** The registry's own text for the refusal. */
  detail?: string;
  /** The npm command that was refused (explain), e.g. `npm dist-tag`; default `npm publish`. */
  command?: string;
  /** `npm login` would overwrite the credential itself (a literal value in the user .npmrc, at the key npm writes). */
  loginReplaces?: boolean;
}

const DAY = 86_400_000;

function permissionOf(t: TokenMeta, name: 'package' | 'org'): string | undefined {
  return t.permissions?.find((p) => p.name === name)?.action;
}

/** The `npm token create` that makes a token like `t` (optionally with changes): the rotation command. */
export function tokenCreateCommand(
  registry: string,
  like: TokenMeta | undefined,
  change: { addPackage?: string; permission?: string; bypass2fa?: boolean; cidr?: string[]; name?: string } = {},
): string {
  // A login session or a trusted-publishing token has no limits worth copying: a plain token replaces it.
  const t = like?.type === 'session' || like?.type === 'oidc' ? undefined : like;
  const args = ['npm token create', `--registry=${registry}`];
  const name = change.name ?? t?.name ?? undefined;
  if (name) args.push(`--name ${/^[\w.@/-]+$/.test(name) ? name : JSON.stringify(name)}`);
  const classic = t?.type?.startsWith('classic-');
  const packages = [...(t?.packages ?? [])];
  const scopes = [...(t?.scopes ?? [])];
  if (change.addPackage && !packages.includes(change.addPackage)) packages.push(change.addPackage);
  const all = change.addPackage ? false : !t || classic || Boolean(t.packages_all);
  if (all) args.push('--packages-all');
  else {
    for (const p of packages) args.push(`--packages ${p}`);
    for (const s of scopes) args.push(`--scopes ${s}`);
  }
  const perm =
    change.permission ??
    (classic ? (t?.type === 'classic-readonly' ? 'read-only' : 'read-write') : permissionOf(t ?? {}, 'package')) ??
    'read-write';
  args.push(`--packages-and-scopes-permission ${perm}`);
  if (t?.orgs?.length) {
    for (const o of t.orgs) args.push(`--orgs ${o}`);
    const op = permissionOf(t, 'org');
    if (op) args.push(`--orgs-permission ${op}`);
  }
  const cidr = change.cidr ?? t?.cidr_whitelist ?? [];
  if (cidr.length) args.push(`--cidr ${cidr.join(',')}`);
  if (change.bypass2fa ?? (t?.bypass_2fa || t?.type === 'classic-automation')) args.push('--bypass-2fa');
  // A rotation keeps the token's lifetime; a token with new limits gets the usual 30 days.
  const rotation = Object.keys(change).length === 0;
  const lifetime =
    rotation && t?.created && t?.expires
      ? Math.round((Date.parse(t.expires) - Date.parse(t.created)) / DAY)
      : undefined;
  args.push(`--expires ${lifetime && lifetime >= 1 ? lifetime : 30}`);
  return args.join(' ');
}

/** The steps that replace a credential: a fresh login session, or a new token put where npm reads the old one. */
function renew(i: FixInput, tokenCmd = tokenCreateCommand(i.registry, i.token)): string {
  const login = `\`npm login --registry=${i.registry}\``;
  if (i.loginReplaces && (!i.token || i.token.type === 'session')) {
    return `Log in again: ${login} writes a new session token over ${i.where}. For a long-lived token instead (CI), after logging in: \`${tokenCmd}\`, and put it in ${i.place}.`;
  }
  return `In a terminal, log in (${login}), create a new token: \`${tokenCmd}\`, and put it in ${i.place}.`;
}

/** The fix for a refusal, naming the exact command. */
export function reasonFix(i: FixInput): string {
  const R = `--registry=${i.registry}`;
  const pkg = i.pkg ?? '<package>';
  const you = i.user ?? '<your user name>';
  const scope = /^@([^/]+)\//.exec(pkg)?.[1];
  switch (i.reason) {
    case 'token-expired':
    case 'token-revoked':
      return `The token at ${i.where} can no longer be used. ${renew(i)}`;
    case 'token-invalid':
      return `The registry does not know this token: check that ${i.where} holds the whole token, as created. ${renew(i)}`;
    case 'classic-tokens-disabled':
      return `Classic tokens are turned off on this registry: replace it with a granular token. ${renew(i, tokenCreateCommand(i.registry, i.token && { ...i.token, type: 'granular' }))}`;
    case 'user-disabled':
      return `The account behind ${i.where} is disabled: ask the registry administrator. A new token does not help until the account is enabled again.`;
    case 'ip-not-allowed': {
      const m = /may only be used from (.+?); this request came from (\S+?)\.?$/.exec(i.detail ?? '');
      const allowed = i.token?.cidr_whitelist ?? m?.[1].split(/,\s*/) ?? [];
      const ip = m?.[2];
      const cidr = ip && !ip.includes(':') ? `${ip}/32` : '<this address>/32';
      return (
        `Use the token from a network in its allow-list, or create one that also allows this machine: after \`npm login ${R}\`, ` +
        `\`${tokenCreateCommand(i.registry, i.token, { cidr: [...allowed, cidr] })}\`, and put it in ${i.place}.`
      );
    }
    case 'local-login-disabled':
      return (
        `This registry takes no passwords (company sign-in only): remove the password at ${i.where} and run ` +
        `\`npm login ${R}\`, which opens the company sign-in in the browser; for CI, create a token after signing in.`
      );
    case 'password-with-2fa':
      return (
        `The account has two-factor authentication on, so the password at ${i.where} no longer signs requests: ` +
        `replace it with a token: \`npm login ${R}\` (it asks for the code) writes a session token to ~/.npmrc.`
      );
    case 'password-wrong':
      return `Correct the user name and password at ${i.where}, or replace them with a token: \`npm login ${R}\`.`;
    case 'directory-name-invalid':
      // Logging in again cannot help: the directory account's name is the problem, and only the config fixes it.
      return (
        'The directory account behind this name cannot be a user name on this registry: ask the registry ' +
        'administrator to match sign-in names to another directory attribute (`auth.ldap.userFilter`).'
      );
    case 'directory-refused':
      return (
        `The company directory refused the user name and password at ${i.where}: use your directory password ` +
        `(the one of your company account), or replace them with a token: \`npm login ${R}\`.`
      );
    case 'directory-user-removed':
      // A new login cannot help: the directory no longer has the account, and its tokens went with it.
      return (
        'The company directory no longer has this account, so the registry ended its sessions and tokens: ' +
        'ask your directory administrator; logging in again or a new token does not help until the account is back.'
      );
    case 'directory-unavailable':
      return 'The registry could not reach the company directory to check the password: retry later, and tell the registry administrator; do not rotate passwords or tokens for this.';
    case 'login-throttled':
      return `Too many failed logins: wait a minute, then correct the password at ${i.where} (or \`npm login ${R}\`).`;
    case 'auth-required':
      return `Add a credential for this registry to ~/.npmrc: \`//${hostPath(i.registry)}:_authToken=\${NPM_TOKEN}\`, or run \`npm login ${R}\`.`;
    case 'otp-required':
    case 'otp-wrong':
    case 'otp-reused':
      return (
        `Give the current code from your authenticator: \`${i.command ?? 'npm publish'} --otp=<code>\` (a terminal prompts for it). In CI, where nothing can prompt, ` +
        `publish with a token that bypasses 2FA: after \`npm login ${R}\`, \`${tokenCreateCommand(i.registry, undefined, { addPackage: pkg, permission: 'read-write', bypass2fa: true, name: `${pkg.replace(/^@[^/]+\//, '')}-ci` })} --otp=<code>\`, ` +
        `or trusted publishing: \`npm trust github ${pkg} --repo <owner/repo> --file <workflow.yml> ${R}\`.`
      );
    case 'package-requires-otp':
      return (
        `${pkg} asks for a one-time password on every publish (its policy is mfa=publish), even from a token that ` +
        `bypasses 2FA: give \`npm publish --otp=<code>\`, or a maintainer lets such tokens publish with ` +
        `\`npm access set mfa=automation ${pkg} ${R}\`, or publish from CI with trusted publishing: ` +
        `\`npm trust github ${pkg} --repo <owner/repo> --file <workflow.yml> ${R}\`.`
      );
    case 'otp-throttled':
      return "Too many wrong one-time passwords: wait five minutes, check the authenticator's clock, then use the current code (`--otp=<code>`).";
    case 'token-read-only':
      return (
        `The token at ${i.where} is read-only. For publishing ${pkg}: after \`npm login ${R}\`, ` +
        `\`${tokenCreateCommand(i.registry, undefined, { addPackage: pkg, permission: 'read-write', name: `${pkg.replace(/^@[^/]+\//, '')}-publish` })}\`, and put it in ${i.place} (keep the read-only token for installs).`
      );
    case 'token-package-restricted':
    case 'token-org-only':
      return (
        `The token at ${i.where} does not cover ${pkg}. Create one that does: after \`npm login ${R}\`, ` +
        `\`${tokenCreateCommand(i.registry, i.token, { addPackage: pkg, permission: 'read-write' })}\`, and put it in ${i.place}.`
      );
    case 'token-stage-only':
      return (
        `This token may only stage releases: \`npm stage publish ${R}\`, then a maintainer approves it (\`npm stage approve <id> ${R}\`). ` +
        `To publish directly, after \`npm login ${R}\`: \`${tokenCreateCommand(i.registry, i.token, { addPackage: pkg, permission: 'read-write' })}\`.`
      );
    case 'bypass-2fa-governance':
    case 'session-required':
      return `Do this with a login session, not this token: \`npm login ${R}\`, then run the command again.`;
    case 'token-org-restricted':
      return `The token does not manage this organization: after \`npm login ${R}\`, \`npm token create ${R} --orgs ${scope ?? '<org>'} --orgs-permission read-write --expires 30\`.`;
    case 'not-maintainer':
      return (
        `${you} is not a maintainer of ${pkg}: see who is (\`npm owner ls ${pkg} ${R}\`) and ask one of them to run \`npm owner add ${you} ${pkg} ${R}\`, ` +
        `or publish under your own scope (\`@${you}/${pkg.replace(/^@[^/]+\//, '')}\` in package.json, then \`npm publish --access public\`).`
      );
    case 'scope-not-yours':
      return (
        `The scope @${scope ?? '<scope>'} belongs to other publishers: rename the package to \`@${you}/${pkg.replace(/^@[^/]+\//, '')}\` in package.json, ` +
        `or ask the scope's owner to publish it and add you (\`npm owner add ${you} ${pkg} ${R}\`).`
      );
    case 'team-lacks-write':
      return `Your teams in ${scope ?? '<org>'} may only read ${pkg}: ask an admin of ${scope ?? '<org>'} to run \`npm access grant read-write ${scope ?? '<org>'}:<team> ${pkg} ${R}\`.`;
    case 'not-org-member':
      return `${pkg} belongs to the ${scope ?? '<org>'} organization and ${you} is not a member: ask one of its owners to run \`npm org set ${scope ?? '<org>'} ${you} developer ${R}\`.`;
    case 'org-role-too-low':
      return `Your role in ${scope ?? '<org>'} is too low for this: ask an owner to run \`npm org set ${scope ?? '<org>'} ${you} admin ${R}\`.`;
    case 'email-unverified': {
      const email = /\(([^()\s]+@[^()\s]+)\)/.exec(i.detail ?? '')?.[1] ?? '<your address>';
      return `Verify your e-mail address: follow the link the registry sent, or ask for a new one with \`npm profile set email ${email} ${R}\`; then publish again.`;
    }
    case 'package-requires-2fa':
      return `${pkg} requires two-factor authentication to publish or change its settings: turn it on with \`npm profile enable-2fa auth-and-writes ${R}\`, then run the command again with \`--otp=<code>\`.`;
    case 'tfa-required':
      return `Turn on two-factor authentication first: \`npm profile enable-2fa auth-and-writes ${R}\`.`;
    case 'version-exists':
      return 'That version was published before and versions are never reused: `npm version patch`, then publish again.';
    case 'name-reserved':
      return (
        `${pkg} was wholly unpublished and its name is reserved for a while: wait until the time in the message, ` +
        'then `npm version patch` and publish again, or publish under another name.'
      );
    case 'version-staged':
      return `That version is staged: approve it (\`npm stage approve <id> ${R}\`), reject it (\`npm stage reject <id> ${R}\`), or \`npm version patch\` and publish again.`;
    case 'oidc-exchange-failed':
    case 'oidc-publish-only':
      return `Check the trusted publisher of ${pkg} (\`npm trust list ${pkg} ${R}\`): repository, workflow file and environment must match the CI run (the workflow file's case too), and the job needs \`id-token: write\`.`;
    case 'trust-creator-disabled':
      return `The account that configured the trusted publisher of ${pkg} is disabled: a maintainer revokes it and configures it again (\`npm trust list ${pkg} ${R}\`, \`npm trust revoke ${pkg} --id <id> ${R}\`, then \`npm trust github ${pkg} … ${R}\`).`;
    case 'oidc-not-a-user':
      return (
        'This is a trusted-publishing token, which only publishes its package: use a login session ' +
        `(\`npm login ${R}\`) for whoami, profile and tokens, and let CI exchange a new one each run.`
      );
    case 'upstream-unavailable':
      return 'The registry could not reach its upstream: retry later, and tell the registry administrator; do not rotate tokens for this.';
    default:
      // Not a Tessera refusal: the registry's own way to issue tokens applies.
      return `Log in again (\`npm login ${R}\`) or create a new token with your registry, then put it in ${i.place}.`;
  }
}

function hostPath(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`}`;
  } catch {
    return 'host/';
  }
}
