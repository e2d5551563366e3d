// The doctor's findings: one stable id per problem, shared with the KB (kb/<id>.md) and the JSON contract.
export type Severity = 'error' | 'warning' | 'info';

export interface FindingSource {
  file: string;
  /** 1-based line in `file`; 0 when the value came from the environment or the command line. */
  line: number;
}

export interface Finding {
  id: FindingId;
  severity: Severity;
  message: string;
  fix: string;
  registry?: string;
  source?: FindingSource;
}

interface FindingSpec {
  title: string;
  /** Severity when a rule does not say otherwise. */
  severity: Severity;
  /** One line: why it matters (printed under the message in the human report). */
  why: string;
}

export const FINDINGS = {
  'unscoped-credential': {
    title: 'Credential not tied to a registry',
    severity: 'error',
    why: 'npm 9+ refuses to run any command except `npm config` (ERR_INVALID_AUTH); env/cli copies are silently ignored.',
  },
  'unexpanded-env-var': {
    title: 'Environment variable not expanded',
    severity: 'error',
    why: 'npm keeps an unset ${VAR} literally and sends it as the credential, so the registry answers 401.',
  },
  'token-has-whitespace': {
    title: 'Credential contains whitespace or control characters',
    severity: 'error',
    why: 'npm sends the value as is: a CR/LF fails with "not a legal HTTP header value", spaces give a 401.',
  },
  'no-credential-for-registry': {
    title: 'No credential for a registry',
    severity: 'warning',
    why: 'npm sends no Authorization header, so private packages answer 401/404 and publish fails with ENEEDAUTH.',
  },
  'malformed-credential-key': {
    title: 'Credential key never matches',
    severity: 'error',
    why: 'npm matches keys exactly against //host[:port]/path/; this key can never match a request, so the credential is never sent.',
  },
  'credential-overridden': {
    title: 'Credential overridden by another file',
    severity: 'warning',
    why: 'Only the highest layer wins; the token you updated may not be the one npm sends.',
  },
  'registry-missing-trailing-slash': {
    title: 'Registry URL without trailing slash',
    severity: 'warning',
    why: 'publish and whoami look up the exact nerf-dart, which drops the last path segment: ENEEDAUTH although installs work.',
  },
  'tarball-host-mismatch': {
    title: 'Tarballs served from another host',
    severity: 'warning',
    why: 'npm only sends credentials to the registry host, so tarball downloads get no Authorization header.',
  },
  'lockfile-registry-mismatch': {
    title: 'Lockfile points at another registry',
    severity: 'warning',
    why: 'npm fetches lockfile `resolved` URLs as written (only the public registry is rewritten), without your registry credential.',
  },
  'scope-not-mapped': {
    title: 'Scope not mapped to a registry',
    severity: 'info',
    why: 'Without @scope:registry, a scoped package is requested from the default registry.',
  },
  'invalid-scope-mapping': {
    title: 'Scope mapping that npm never uses',
    severity: 'error',
    why: 'npm looks up exactly @<lowercase scope>:registry; any other spelling is ignored without a warning.',
  },
  'url-missing-scheme': {
    title: 'URL without http:// or https://',
    severity: 'error',
    why: 'npm fails every command with ERR_INVALID_URL (registry) or EINVALIDPROXY (proxy).',
  },
  'npmrc-ignored': {
    title: '.npmrc that npm does not read',
    severity: 'warning',
    why: 'npm only reads the project .npmrc at the detected project root; settings elsewhere have no effect.',
  },
  'userconfig-redirected': {
    title: 'User config redirected',
    severity: 'warning',
    why: 'NPM_CONFIG_USERCONFIG, --userconfig or HOME select a different user .npmrc than the one you may be editing.',
  },
  'npmrc-unreadable': {
    title: '.npmrc that npm cannot read as written',
    severity: 'error',
    why: 'npm parses .npmrc as UTF-8 ini: UTF-16 files, [sections] and unquoted # or ; silently lose settings.',
  },
  'invalid-boolean': {
    title: 'Boolean that is not true or false',
    severity: 'warning',
    why: 'Only the exact words true and false are booleans; 0, no and False all mean true.',
  },
  'deprecated-key': {
    title: 'Setting npm no longer uses',
    severity: 'warning',
    why: 'npm ignores it (and warns); npm 12 with strict-npmrc turns unknown keys into errors.',
  },
  'placeholder-token': {
    title: 'Placeholder instead of a credential',
    severity: 'error',
    why: 'The registry receives a dummy value and answers 401 (or 404 on publish).',
  },
  'token-host-mismatch': {
    title: 'Credential for a different host',
    severity: 'error',
    why: 'Credentials are sent only to the host (and port) in their key; a token for one host never reaches another.',
  },
  'azure-artifacts-credentials': {
    title: 'Azure Artifacts credentials not in the form npm needs',
    severity: 'error',
    why: 'Azure Artifacts takes a username and the base64 of a PAT in _password, keyed at both …/npm/registry/ and …/npm/; anything else sends garbage (401) or nothing.',
  },
  'github-packages-config': {
    title: 'Package name or registry URL GitHub Packages does not accept',
    severity: 'error',
    why: 'GitHub Packages hosts only packages scoped to their lowercase owner, at the bare registry URL: an unscoped name or another scope is refused on publish, and an owner appended to the URL breaks pnpm.',
  },
  'token-checksum-invalid': {
    title: 'Token checksum does not match',
    severity: 'error',
    why: 'The token was truncated or mistyped; every registry will reject it.',
  },
  'plaintext-token-in-repo': {
    title: 'Token in plain text in the repository',
    severity: 'error',
    why: 'Anyone who can read the repository can use the token; scanners will flag and registries may revoke it.',
  },
  'strict-ssl-disabled': {
    title: 'TLS verification disabled',
    severity: 'warning',
    why: 'With strict-ssl=false anyone on the network path can read your credentials.',
  },
  'insecure-registry-url': {
    title: 'Registry over plain http',
    severity: 'warning',
    why: 'Tokens sent over http:// can be read by anyone on the network path.',
  },
  'cafile-problem': {
    title: 'CA configuration problem',
    severity: 'error',
    why: "cafile/ca replace Node's trust store; a missing, relative or incomplete bundle breaks TLS.",
  },
  'proxy-misconfigured': {
    title: 'Proxy misconfigured',
    severity: 'error',
    why: 'npm uses only https-proxy/proxy or HTTPS_PROXY for https registries; a bad proxy fails every request.',
  },
  'token-rejected': {
    title: 'Registry rejected the credential',
    severity: 'error',
    why: 'The token is invalid, expired or revoked; every authenticated request answers 401.',
  },
  'token-expiring-soon': {
    title: 'Token expires soon',
    severity: 'warning',
    why: 'Installs and publishes will start failing with E401 when it expires.',
  },
  'otp-required': {
    title: 'One-time password required',
    severity: 'warning',
    why: 'The action needs --otp=<code>; in CI there is no prompt and npm fails with EOTP.',
  },
  'read-only-token': {
    title: 'Read-only token used to publish',
    severity: 'error',
    why: 'A read-only token can install but every PUT answers 403.',
  },
  'not-maintainer': {
    title: 'Not a maintainer of the package',
    severity: 'error',
    why: 'Only maintainers may publish; the registry answers 403 on PUT.',
  },
  'publish-forbidden': {
    title: 'Publishing refused',
    severity: 'error',
    why: 'The registry refuses this publish for a reason other than the credential itself.',
  },
  'trusted-publishing-failed': {
    title: 'Trusted publishing failed',
    severity: 'error',
    why: 'npm fell back to the configured token (or none) after the OIDC exchange failed.',
  },
  'tls-untrusted-chain': {
    title: 'Certificate chain not trusted',
    severity: 'error',
    why: 'A TLS-inspecting proxy or a private CA signs the certificate; npm rejects it unless cafile trusts that root.',
  },
  'tls-bad-certificate': {
    title: 'Server certificate is invalid',
    severity: 'error',
    why: 'The certificate is expired, self-signed or issued for another name; npm refuses the connection.',
  },
  'package-blocked': {
    title: 'Package blocked by a policy',
    severity: 'error',
    why: 'A quarantine, curation or firewall rule (or a network block) refuses this version: the same 403 for every credential.',
  },
  'network-unreachable': {
    title: 'Registry unreachable',
    severity: 'error',
    why: 'DNS, routing, firewall or the registry itself fails; this is not an authentication problem.',
  },
  'password-not-base64': {
    title: 'Password not base64-encoded',
    severity: 'error',
    why: 'npm base64-decodes `_password` before sending it: a plain password arrives as garbage, and the registry answers 401.',
  },
  'registry-redirected': {
    title: 'Registry URL redirects elsewhere',
    severity: 'warning',
    why: 'npm follows the redirect on every request, and drops the credential when the host name changes: E401.',
  },
  'registry-not-npm': {
    title: 'Registry URL serves a web page, not the npm API',
    severity: 'error',
    why: 'npm expects JSON and fails with "invalid json response body … Unexpected token \'<\'" (FETCH_ERROR).',
  },
  'pnpm-config': {
    title: 'pnpm reads this configuration differently',
    severity: 'warning',
    why: 'pnpm drops files, ignores project credentials or matches keys differently from npm.',
  },
  'yarn-config': {
    title: 'Yarn Berry reads this configuration differently',
    severity: 'warning',
    why: 'Yarn Berry ignores .npmrc and matches registries exactly; missing variables abort every command.',
  },
} as const satisfies Record<string, FindingSpec>;

export type FindingId = keyof typeof FINDINGS;

export const FINDING_IDS = Object.keys(FINDINGS) as FindingId[];

export function makeFinding(
  id: FindingId,
  f: { message: string; fix: string; severity?: Severity; registry?: string; source?: FindingSource },
): Finding {
  const out: Finding = { id, severity: f.severity ?? FINDINGS[id].severity, message: f.message, fix: f.fix };
  if (f.registry !== undefined) out.registry = f.registry;
  if (f.source !== undefined) out.source = f.source;
  return out;
}

const ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function sortFindings(list: Finding[]): Finding[] {
  return [...list].sort((a, b) => ORDER[a.severity] - ORDER[b.severity]);
}
