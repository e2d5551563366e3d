// THE catalogue of refusals. Every refusal the registry gives is one entry here, with a KB article
// kb/<id>.md served at /-/help/<id>. Adding a refusal = an entry, an article and a test.

export type Reason = {
  status: number;
  /** Sent on 401s; npm picks its message from it (Bearer → "token seems to be invalid", Basic → password). */
  wwwAuthenticate?: string;
  /** The `error` text npm prints after "<status> <statusText> - <METHOD> <url> - ". */
  error: (p: Params) => string;
  /** Printed by npm as "npm notice …". */
  notice?: string;
  /** One line for docs and `tessera explain`. */
  summary: string;
};
export type Params = Record<string, string | number | undefined>;

const BEARER = 'Bearer realm="tessera"';
const BASIC = 'Basic realm="tessera"';
const EXPIRED_NOTICE = 'access token expired or revoked. Please try logging in again.';

/** What a granular token may do with organizations, for `token-org-restricted`. */
const orgGrant = (p: Params): string => {
  if (p.granted === 'read-only') return `it may only read ${p.org}`;
  if (p.granted === 'no-access') return `it has no access to ${p.org}`;
  return p.orgs === 'none' ? 'it manages no organizations' : `it manages the organizations ${p.orgs}`;
};

export const reasons = {
  // --- who is calling
  'auth-required': {
    status: 401,
    wwwAuthenticate: BEARER,
    error: (p) =>
      `You must be logged in to ${p.action ?? 'do this'}. Run \`npm login\` or configure a token for this registry`,
    summary: 'No credential was sent for an action that needs one.',
  },
  'token-invalid': {
    status: 401,
    wwwAuthenticate: BEARER,
    error: () => 'The access token is not valid: it is unknown to this registry, or truncated (its checksum fails)',
    summary: 'The bearer token is not one this registry issued.',
  },
  'token-expired': {
    status: 401,
    wwwAuthenticate: BEARER,
    notice: EXPIRED_NOTICE,
    error: (p) => `The access token expired on ${p.expired}. Run \`npm login\` or create a new token`,
    summary: 'The token was valid once but its expiry has passed.',
  },
  'token-revoked': {
    status: 401,
    wwwAuthenticate: BEARER,
    notice: EXPIRED_NOTICE,
    error: (p) => `The access token was revoked${p.why ? ` (${p.why})` : ''}. Run \`npm login\` or create a new token`,
    summary: 'The token was revoked: by logout, token revoke, a password change or an administrator.',
  },
  'user-disabled': {
    status: 401,
    wwwAuthenticate: BEARER,
    notice: EXPIRED_NOTICE,
    error: () => 'This account is disabled. Ask the registry administrator',
    summary: 'The account that owns the credential was disabled by an administrator.',
  },
  'ip-not-allowed': {
    status: 401,
    wwwAuthenticate: 'ipaddress',
    error: (p) => `This token may only be used from ${p.allowed}; this request came from ${p.ip}`,
    summary: "The token is limited to CIDR ranges that do not include the caller's address.",
  },
  'password-wrong': {
    status: 401,
    wwwAuthenticate: BASIC,
    error: () => 'Incorrect username or password',
    summary: 'The username and password do not match an enabled account.',
  },
  'login-unknown-user': {
    status: 400,
    error: (p) => `There is no user with the username "${p.name}"`,
    summary: 'Legacy login named a user that does not exist.',
  },
  'login-throttled': {
    status: 429,
    error: () => 'Too many failed login attempts. Wait a minute and try again',
    summary: 'Failed logins are rate-limited per address; failures against one user slow its checks.',
  },
  // --- company sign-in through an LDAP directory (services/ldap-sign-in.ts)
  'directory-refused': {
    status: 401,
    wwwAuthenticate: BASIC,
    error: () => 'The company directory did not accept this username and password',
    summary: 'The LDAP directory has no such user, or the bind with the password failed.',
  },
  'directory-user-removed': {
    status: 401,
    wwwAuthenticate: BASIC,
    error: () => 'This account left the company directory and is disabled. Ask the registry administrator',
    summary: 'The user is no longer in the LDAP directory: the account was disabled and its tokens revoked.',
  },
  'directory-name-invalid': {
    // Not the person's to fix, and the same every time: a 403 npm shows as it is, not a 400 about the request.
    status: 403,
    error: (p) =>
      `The directory account "${p.name}" cannot be a user name on this registry (${p.detail}). ` +
      'Ask the registry administrator to sign directory accounts in by an attribute that holds valid names ' +
      '(auth.ldap.userFilter)',
    summary: "The password bound, but the directory account's name is not a valid registry user name.",
  },
  'directory-unavailable': {
    // Not a 5xx: npm would send the password again and again, a minute and more, for an outage it cannot fix.
    status: 403,
    error: () => 'The company directory cannot be reached to check the password. Try again later',
    summary: 'The registry could not search or bind at its LDAP directory (down, TLS or service account).',
  },
  'signup-closed': {
    status: 403,
    error: (p) =>
      p.policy === 'admin-only'
        ? 'Accounts on this registry are created by an administrator (`tessera user add`)'
        : 'Sign-up is closed on this registry',
    summary: 'The registry does not let callers create accounts.',
  },
  'user-exists': {
    status: 409,
    error: (p) => `The username "${p.name}" is already taken`,
    summary: 'adduser asked for a username that exists, with another password.',
  },
  'name-taken': {
    status: 409,
    error: (p) =>
      p.by === 'organization'
        ? `The name "${p.name}" belongs to an organization (the scope @${p.name}); pick another username`
        : `The scope @${p.name} belongs to the user ${p.name}; only ${p.name} can turn it into an organization`,
    summary: 'A user and an organization would share a name, and with it a scope.',
  },
  'web-login-expired': {
    status: 400,
    error: () => 'This web login session is unknown or has expired. Run `npm login` again',
    summary: 'The web login session expired or was already used.',
  },
  'csrf-failed': {
    status: 403,
    error: () =>
      'This form did not come from a page of this registry, or the page is too old. Reload the page and send it again',
    summary: "A web form was posted without the form token of the browser's session (another site, or a stale page).",
  },
  // --- company sign-in (auth.oidc, auth.local; docs/signin.md)
  'local-login-disabled': {
    status: 403,
    error: (p) =>
      `Passwords are turned off on this registry: sign in with ${p.provider ?? 'your company account'} ` +
      '(`npm login` opens it in the browser)',
    summary: 'auth.local is false: only the company sign-in (and break-glass administrators) may sign in.',
  },
  'password-with-2fa': {
    status: 403,
    error: () =>
      'Two-factor authentication is on for this account, so its password alone does not sign requests: ' +
      'log in (`npm login`) and use the session token, or create a token',
    summary: 'Basic authentication (`_auth`, `username`/`_password`) for an account with two-factor authentication on.',
  },
  'sso-provider-refused': {
    status: 403,
    error: (p) =>
      `${p.provider ?? 'The identity provider'} refused the sign-in${p.detail ? ` (${p.detail})` : ''}. ` +
      'Ask your identity administrator',
    summary: 'The company identity provider refused the user (sign-in denied, or the refresh of a deprovisioned user).',
  },
  'sso-provider-unavailable': {
    // Not a 5xx: the person can do nothing but wait, and a retrying client would only add to the outage.
    status: 403,
    error: (p) =>
      `${p.provider ?? 'The identity provider'} cannot be reached${p.detail ? ` (${p.detail})` : ''}. ` +
      'Try the sign-in again later',
    summary: 'The company identity provider did not answer, or answered 5xx (discovery, token, keys or UserInfo).',
  },
  'sso-response-invalid': {
    status: 400,
    error: (p) =>
      `The answer from ${p.provider ?? 'the identity provider'} could not be verified` +
      `${p.detail ? ` (${p.detail})` : ''}. Start the sign-in again`,
    summary: 'The sign-in response failed a check: state, nonce, PKCE, issuer, signature, or it came too late.',
  },
  'sso-group-removed': {
    status: 403,
    error: (p) =>
      `The company directory removed you from ${p.target} on ${p.at}, ` +
      `so you may no longer ${p.action ?? 'do this'}. ` +
      `Ask your identity administrator to add you to ${p.groups} again`,
    summary: 'A membership that gave this right was taken away by the company directory (groups → teams).',
  },
  'sso-name-conflict': {
    status: 409,
    error: (p) =>
      `The company sign-in names the user "${p.name}", which cannot be used here` +
      `${p.detail ? ` (${p.detail})` : ''}. Ask the registry administrator`,
    summary: 'A first company sign-in named an account that exists locally (or an invalid name); it is not taken over.',
  },
  // --- what the credential may do
  'token-read-only': {
    status: 403,
    error: (p) =>
      `This token is read-only and cannot ${p.action ?? 'write'}. Create a read-write token (npm token create ${p.create ?? '--packages-and-scopes-permission read-write'})`,
    summary: 'A read-only token was used for a write.',
  },
  'token-package-restricted': {
    status: 403,
    error: (p) => `This token is limited to ${p.allowed} and cannot ${p.action ?? 'write'} ${p.package}`,
    summary: 'A granular token was used outside its packages and scopes.',
  },
  'token-org-only': {
    status: 403,
    error: (p) =>
      `This token only manages the organizations ${p.orgs}; it grants no access to packages, so it cannot ${p.action ?? 'publish'} ${p.package}`,
    summary: 'An org-only granular token was used on a package.',
  },
  'token-stage-only': {
    status: 403,
    error: (p) =>
      `This token may only stage releases, so it cannot ${p.action} ${p.package}. Stage with \`npm stage publish\` and have a maintainer approve it`,
    summary: 'A stage-only token tried anything but staging a release.',
  },
  'bypass-2fa-governance': {
    status: 403,
    error: (p) =>
      `Tokens that bypass two-factor authentication cannot ${p.action}. Use a login session (npm login) or a token without --bypass-2fa`,
    summary: 'Bypass-2FA tokens may publish but never manage tokens, maintainers, access, trust or orgs.',
  },
  'session-required': {
    status: 403,
    error: (p) =>
      `Only a login session can ${p.action}; this request used a ${p.kind} token. Run \`npm login\` and try again`,
    summary: 'Token management needs a login session, not an access token.',
  },
  'password-required': {
    status: 401,
    wwwAuthenticate: BASIC,
    error: () => 'Confirm this with your password (npm token create --password …)',
    summary: 'Creating a token needs the account password.',
  },
  'classic-tokens-disabled': {
    status: 401,
    wwwAuthenticate: BEARER,
    error: () =>
      'Classic tokens are turned off on this registry. Create a granular access token (npm token create) or run `npm login`',
    summary: 'A classic token was used while the compatibility mode is off.',
  },
  'classic-token-not-made': {
    status: 403,
    error: () =>
      'Classic tokens are turned off on this registry, so none is made for this request (an older npm' +
      "'s `npm token create`, or `npm profile enable-2fa` with a password in .npmrc). Run `npm login`, then try " +
      'again; `npm token create` of npm 11 or later makes granular tokens',
    summary: 'A classic token was requested (`readonly` in the body) while the compatibility mode is off.',
  },
  'token-limit-reached': {
    status: 400,
    error: (p) =>
      `You already have ${p.limit} tokens, the most one account may have. Revoke some (npm token list, npm token revoke <id>)`,
    summary: 'The account has as many tokens as allowed.',
  },
  'token-too-many-packages': {
    status: 400,
    error: (p) =>
      `A token may list at most ${p.limit} packages and scopes (got ${p.count}); use --packages-all or a scope`,
    summary: 'More packages and scopes than a token may carry.',
  },
  'token-too-many-orgs': {
    status: 400,
    error: (p) => `A token may list at most ${p.limit} organizations (got ${p.count})`,
    summary: 'More organizations than a token may carry.',
  },
  'token-expiry-out-of-range': {
    status: 400,
    error: (p) => `Token expiry must be between ${p.min} and ${p.max} days for a ${p.permission} token (got ${p.days})`,
    summary: 'The requested expiry is below the minimum or above the maximum.',
  },
  'token-not-found': {
    status: 404,
    error: (p) => `You have no token with id "${p.id}"`,
    summary: 'A revoke named a token the caller does not own.',
  },
  'otp-required': {
    status: 401,
    wwwAuthenticate: 'OTP',
    error: () => 'This operation requires a one-time password from your authenticator; pass it with --otp=<code>',
    summary: 'Two-factor authentication asks for a one-time password for this action.',
  },
  'otp-wrong': {
    status: 401,
    wwwAuthenticate: 'OTP',
    notice: 'The one-time password you gave is wrong or expired. Use the current code from your authenticator.',
    error: () => 'The one-time password is wrong or expired; enter the current code from your authenticator',
    summary: 'The one-time password does not match the current code.',
  },
  'otp-reused': {
    status: 401,
    wwwAuthenticate: 'OTP',
    notice: 'That one-time password was already used. Wait for your authenticator to show the next code.',
    error: () => 'That one-time password was already used; each code works once. Wait for the next code',
    summary: 'A one-time password (or recovery code) was replayed.',
  },
  'otp-throttled': {
    status: 403,
    error: () => 'Too many wrong one-time passwords. Wait five minutes, then use the current code',
    summary: 'Wrong one-time passwords are rate-limited per user.',
  },
  'package-requires-otp': {
    status: 401,
    wwwAuthenticate: 'OTP',
    notice:
      'This package requires a one-time password for every publish (npm access set mfa=publish): ' +
      'tokens that bypass two-factor authentication do not skip it.',
    error: (p) =>
      `${p.package} requires a one-time password for every publish (npm access set mfa=publish), even with a ` +
      'token that bypasses two-factor authentication; pass it with --otp=<code>',
    summary: 'A bypass-2FA or automation token publishing a package whose policy is mfa=publish: a code is needed.',
  },
  'package-requires-2fa': {
    status: 403,
    error: (p) =>
      `${p.package} requires two-factor authentication to ${p.action ?? 'publish'}, and ${p.user} has none. Turn it on with \`npm profile enable-2fa auth-and-writes\``,
    summary:
      "The package's 2FA policy (npm access set mfa=…) requires 2FA the user lacks: to publish or change settings.",
  },
  'tfa-not-pending': {
    status: 400,
    error: () => 'There is no pending two-factor enrolment to confirm; start with `npm profile enable-2fa`',
    summary: 'A 2FA confirmation code arrived without an enrolment in progress.',
  },
  'not-org-member': {
    status: 403,
    error: (p) =>
      `You are not a member of the ${p.org} organization, so you cannot ${p.action}. Ask one of its owners to add you (npm org set ${p.org} <you>)`,
    summary: 'The caller is not a member of the organization that owns the scope.',
  },
  'org-role-too-low': {
    status: 403,
    error: (p) =>
      `As ${p.role} of ${p.org} you cannot ${p.action}; that needs ${p.needed === 'owner' ? 'an owner' : 'an admin or an owner'}`,
    summary: "The caller's role in the organization is too low for the action.",
  },
  'team-lacks-write': {
    status: 403,
    error: (p) =>
      `Your teams in ${p.org} may only read ${p.package}, so you cannot ${p.action} it. Ask an org admin: npm access grant read-write ${p.org}:<team> ${p.package}`,
    summary: "The caller's teams have read-only access to the package.",
  },
  'token-org-restricted': {
    status: 403,
    error: (p) =>
      `This token cannot ${p.action}: ${orgGrant(p)}. Create a token with --orgs ${p.org} --orgs-permission ${p.level}`,
    summary: 'A granular token was used on an organization it does not list, or beyond its org permission.',
  },
  'last-org-owner': {
    status: 400,
    error: (p) => `${p.org} must keep at least one owner`,
    summary: 'Removing or demoting the last owner of an organization.',
  },
  'maintainer-not-org-member': {
    status: 400,
    error: (p) =>
      `${p.user} is not a member of the ${p.org} organization, so they cannot maintain ${p.package}. ` +
      `Add them first (npm org set ${p.org} ${p.user}), ` +
      `or give one of their teams access (npm access grant read-write ${p.org}:<team> ${p.package})`,
    summary:
      "Making someone who is not a member of the organization a maintainer of one of the organization's packages.",
  },
  'email-unverified': {
    status: 403,
    error: (p) =>
      `Verify your e-mail address (${p.email}) before publishing: follow the link we sent you, or ask for a new one with \`npm profile set email ${p.email}\``,
    summary: 'The registry requires a verified e-mail address to publish.',
  },
  'email-link-unavailable': {
    status: 403,
    error: () => 'This registry cannot send verification links: its administrator has not set `publicUrl`',
    summary: 'E-mail verification is required but `publicUrl` is not set, so no link can be trusted to point here.',
  },
  'oidc-publish-only': {
    status: 403,
    error: (p) => `A trusted-publishing token can only publish ${p.package}; it cannot ${p.action} it`,
    summary: 'A token from an OIDC exchange was used for something other than publishing its package.',
  },
  'trust-creator-disabled': {
    status: 403,
    error: (p) =>
      `The trusted publisher of ${p.package} was configured by ${p.user}, whose account is disabled, so the tokens ` +
      `it mints cannot publish. A maintainer configures it again: npm trust list ${p.package}, ` +
      `npm trust revoke ${p.package} --id ${p.id}, ` +
      `then npm trust github|gitlab|circleci ${p.package} …`,
    summary: "A trusted-publishing token whose configuration's author was disabled: a maintainer re-creates it.",
  },
  'oidc-not-a-user': {
    status: 403,
    error: (p) =>
      `A trusted-publishing token stands for a CI job publishing ${p.package}, not for a user: ` +
      `it cannot ${p.action}`,
    summary: 'A token from an OIDC exchange was used to ask who it is, or to read the account or its tokens.',
  },
  'tfa-required': {
    status: 403,
    error: (p) => `Turn on two-factor authentication before you ${p.action} (npm profile enable-2fa auth-and-writes)`,
    summary: 'The action needs an account with two-factor authentication.',
  },
  'trust-config-exists': {
    status: 409,
    error: (p) =>
      `${p.package} already has a ${p.type} trusted publisher; revoke it first (npm trust revoke ${p.package} --id <id>)`,
    summary: 'A package has one trust configuration per provider.',
  },
  'oidc-exchange-failed': {
    status: 401,
    wwwAuthenticate: BEARER,
    error: (p) => `OIDC token exchange error - ${p.detail}`,
    summary: "The CI's OIDC id token was refused: issuer, signature, audience, times or claims.",
  },
  'oidc-audience-unset': {
    status: 403,
    error: () =>
      'Trusted publishing is not set up on this registry: its administrator must set publicUrl ' +
      '(or oidc.audience), the audience every id token is checked against',
    summary: 'An OIDC exchange on a registry with neither publicUrl nor oidc.audience configured.',
  },
  'not-maintainer': {
    status: 403,
    error: (p) =>
      `You are not a maintainer of ${p.package}, so you cannot ${p.action ?? 'change'} it. \`npm owner ls ${p.package}\` shows who is`,
    summary: 'The user is not a maintainer of the package.',
  },
  'scope-not-yours': {
    status: 403,
    error: (p) => `The scope ${p.scope} belongs to other publishers; you cannot publish ${p.package}`,
    summary: 'A first publish into a scope the user may not publish to.',
  },
  // --- hooks made over npm's hooks API (/-/npm/v1/hooks)
  'hook-scope-not-yours': {
    status: 403,
    error: (p) =>
      `You can watch only your own user scope and the scopes of organizations you belong to; ` +
      `${p.scope} is not one of them`,
    summary: "A scope hook on a scope that is neither the caller's user scope nor one of their organizations.",
  },
  'hook-owner-not-yours': {
    status: 403,
    error: (p) => `You can watch only your own packages; watching the packages of ${p.name} is for administrators`,
    summary: "An owner hook on another user's packages, by someone who is not an administrator.",
  },
  'hook-endpoint-invalid': {
    status: 400,
    error: (p) =>
      `A hook's endpoint must be an absolute http or https URL without a user name or password (${p.detail})`,
    summary: 'The endpoint of a new or changed hook is not a plain http(s) URL.',
  },
  'hook-limit-reached': {
    status: 400,
    error: (p) => `You already have ${p.limit} hooks, the most one account may have. Delete some you no longer use`,
    summary: 'The account has as many hooks as allowed (`hookApi.maxPerUser`).',
  },
  'hook-not-found': {
    status: 404,
    error: (p) => `You have no hook with id "${p.id}"`,
    summary: "A hook id that is not one of the caller's hooks.",
  },
  // --- the package and its versions
  'not-found': {
    status: 404,
    error: () => 'Not found',
    summary: 'The package or version does not exist, or the caller may not know that it does.',
  },
  'version-exists': {
    status: 403,
    error: (p) => `You cannot publish over the previously published versions: ${p.version}.`,
    summary: 'The version exists, or existed and was unpublished: versions are never reused.',
  },
  'name-reserved': {
    status: 403,
    error: (p) => `${p.package} was unpublished on ${p.unpublished} and cannot be republished until ${p.until}`,
    summary: 'A wholly unpublished name is reserved for a while (unpublish.reserveFor), from everyone.',
  },
  'version-staged': {
    status: 409,
    error: (p) =>
      `Cannot publish over previously staged version "${p.version}". Approve it (npm stage approve <id>) or reject it (npm stage reject <id>) first`,
    summary: 'Publishing a version number that a staged version holds.',
  },
  'stage-version-exists': {
    status: 409,
    error: (p) =>
      `Cannot stage previously published version "${p.version}". Staged and published versions share one set of version numbers: bump the version`,
    summary: 'Staging a version number that is published, was unpublished, or is already staged.',
  },
  'stage-needs-package': {
    status: 404,
    error: (p) =>
      `${p.package} has no published version on this registry yet, so nothing can be staged for it. Publish its first version with \`npm publish\`, then stage new versions`,
    summary: 'Staging is for new versions of a package that exists; a first version is published directly.',
  },
  'stage-second-approver': {
    status: 403,
    error: (p) =>
      `${p.package}@${p.version} was staged by ${p.user}; this registry requires another maintainer to approve it`,
    summary: 'With stage.requireSecondApprover, the maintainer who staged a version cannot approve it.',
  },
  'stage-conflict': {
    status: 409,
    error: (p) =>
      `The staged ${p.package}@${p.version} can no longer be published: that version number is taken. Reject it (npm stage reject <id>) and stage a new version`,
    summary: 'Approving a staged version whose number was taken meanwhile.',
  },
  'version-missing': {
    status: 404,
    error: (p) => `Version ${p.version} of ${p.package} does not exist`,
    summary: 'A dist-tag or deprecation named a version that is not published.',
  },
  'unscoped-restricted': {
    status: 400,
    error: () => "Can't restrict access to unscoped packages.",
    summary: 'Unscoped packages are always public.',
  },
  'last-maintainer': {
    status: 400,
    error: () => 'A package must keep at least one maintainer',
    summary: 'Removing every maintainer would orphan the package.',
  },
  'unknown-user': {
    status: 404,
    error: (p) => `There is no user named "${p.name}"`,
    summary: 'An owner or token command named an unknown user.',
  },
  'tag-invalid': {
    status: 400,
    error: (p) =>
      `Invalid dist-tag "${p.tag}": tags must not be empty, need no URL-encoding and must not be semver ranges`,
    summary: 'A dist-tag name that npm would mistake for a version or range.',
  },
  'latest-tag-required': {
    status: 400,
    error: () => 'The "latest" dist-tag cannot be removed',
    summary: 'Every package keeps a latest tag.',
  },
  'rev-conflict': {
    status: 409,
    error: (p) => `Document update conflict: the package changed since revision ${p.rev} was read; fetch it again`,
    summary: 'A write carried a stale `_rev`.',
  },
  'store-unavailable': {
    status: 503,
    error: (p) => `The registry's ${p.part} could not be reached; retry in a moment`,
    summary: "The registry's database or blob store did not answer; the request changed nothing.",
  },
  'upstream-unavailable': {
    status: 502,
    error: (p) => `The upstream registry could not be reached: ${p.detail}`,
    summary: 'Proxying to the upstream registry failed.',
  },
  'audit-unavailable': {
    status: 404,
    error: (p) =>
      `No advisory database can answer this audit: ${p.detail}. ` + 'Run `npm audit` against a registry that has one',
    summary: 'An audit was asked of a registry with no advisory database and no upstream that answers audits.',
  },
  // --- malformed requests
  'bad-json': {
    status: 400,
    error: (p) => `The request body is not valid JSON${p.detail ? `: ${p.detail}` : ''}`,
    summary: 'The body could not be parsed.',
  },
  'body-too-large': {
    status: 413,
    error: (p) => `The request body is larger than this registry accepts (${p.limit} bytes)`,
    summary: 'The body exceeds the `maxBodyBytes` setting.',
  },
  'invalid-name': {
    status: 400,
    error: (p) => `Invalid package name "${p.name}": ${p.detail}`,
    summary: "The name breaks npm's naming rules.",
  },
  'invalid-version': {
    status: 400,
    error: (p) => `Invalid version "${p.version}": versions must be valid semver`,
    summary: 'The version is not valid semver.',
  },
  'invalid-publish': {
    status: 400,
    error: (p) => `Invalid publish: ${p.detail}`,
    summary: 'The publish document is malformed (versions, dist-tags or attachments).',
  },
  'tarball-mismatch': {
    status: 400,
    error: (p) => `The tarball does not match its manifest: ${p.detail}`,
    summary: 'Length, integrity, shasum or the package.json inside the tarball disagree with the manifest.',
  },
  'tarball-too-large': {
    status: 413,
    error: (p) => `The tarball is too large once unpacked: ${p.detail}`,
    summary: 'The tarball unpacks to more than `maxUnpackedBytes`, or its package.json is over 5 MiB.',
  },
  'invalid-request': {
    status: 400,
    error: (p) => `${p.detail}`,
    summary: 'A field of the request is missing or malformed.',
  },
  'bad-url': {
    status: 400,
    error: () => 'The URL is malformed: a percent escape (%XX) in it is not valid',
    summary: 'The request URL has a broken percent escape.',
  },
  'request-timeout': {
    status: 408,
    error: (p) => `The request was not received in time (requestTimeout ${p.seconds} s)`,
    summary: 'The headers or body arrived more slowly than the `requestTimeout` setting allows.',
  },
  'headers-too-large': {
    status: 431,
    error: () => 'The request headers are larger than this registry accepts',
    summary: "The request headers exceed Node's limit (16 KiB by default).",
  },
  'route-not-found': {
    status: 404,
    error: () => 'Not found',
    summary: 'No such endpoint.',
  },
  'method-not-allowed': {
    status: 405,
    error: (p) => `${p.method} is not supported here`,
    summary: 'The endpoint exists but not for this method.',
  },
} satisfies Record<string, Reason>;

export type ReasonId = keyof typeof reasons;

/** A refusal as a value: services return or throw these; the HTTP edge renders them. */
export class Refusal extends Error {
  readonly reason: ReasonId;
  readonly params: Params;
  constructor(reason: ReasonId, params: Params = {}) {
    super(reasons[reason].error(params));
    this.reason = reason;
    this.params = params;
  }
  get status(): number {
    return reasons[this.reason].status;
  }
}
