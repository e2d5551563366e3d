// Which credential npm sends to which URL, and from which line (reference §2: nerf-darts, lookups A and B).
import { createRequire } from 'node:module';
import type { NpmConfig, Origin } from './npm-config.ts';

const require = createRequire(import.meta.url);
type Npa = (spec: string) => {
  scope?: string | null;
  name?: string | null;
  subSpec?: { scope?: string | null; name?: string | null };
};
// Loaded on first use: npm-package-arg pulls in semver and hosted-git-info.
const npa: Npa = (spec) => (require('npm-package-arg') as Npa)(spec);

export type CredentialKind = 'token' | 'basic-auth' | 'username-password' | 'client-certificate' | 'none';
export type CredentialField = '_authToken' | '_auth' | 'username' | 'certfile';

export interface Credential {
  kind: CredentialKind;
  /** The nerf-dart prefix that matched, e.g. `//registry.example.com/npm/`. */
  regKey?: string;
  /** The full config key holding the secret, e.g. `//registry.example.com/:_authToken`. */
  key?: string;
  /** The secret as npm would send it (never printed; see redact()). */
  value?: string;
  origin?: Origin;
  /** Lookup A fell back to the spec's registry because the URL is on the same host. */
  sameHostFallback?: boolean;
  /** No credential, but the scoped registry has one: npm warns "No auth for URI". */
  scopeAuthKey?: string;
}

/** npm's nerf-dart: `//host[:port]/path/` with the last segment dropped unless the URL ends in `/`. */
export function nerfDart(url: string): string {
  const parsed = new URL(url);
  const from = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  const rel = new URL('.', from);
  return `//${rel.host}${rel.pathname}`;
}

const FIELD_KIND: Record<CredentialField, CredentialKind> = {
  _authToken: 'token',
  _auth: 'basic-auth',
  username: 'username-password',
  certfile: 'client-certificate',
};

function truthy(cfg: NpmConfig, key: string): boolean {
  return Boolean(cfg.get(key));
}

function hasAuth(cfg: NpmConfig, regKey: string): CredentialField | null {
  if (truthy(cfg, `${regKey}:_authToken`)) return '_authToken';
  if (truthy(cfg, `${regKey}:_auth`)) return '_auth';
  if (truthy(cfg, `${regKey}:username`) && truthy(cfg, `${regKey}:_password`)) return 'username';
  if (truthy(cfg, `${regKey}:certfile`) && truthy(cfg, `${regKey}:keyfile`)) return 'certfile';
  return null;
}

function regFromURI(cfg: NpmConfig, uri: string): { regKey: string; field: CredentialField } | null {
  const parsed = new URL(uri);
  let regKey = `//${parsed.host}${parsed.pathname}`;
  while (regKey.length > 2) {
    const field = hasAuth(cfg, regKey);
    if (field) return { regKey, field };
    regKey = regKey.replace(/([^/]+|\/)$/, '');
  }
  return null;
}

function credentialAt(cfg: NpmConfig, regKey: string, field: CredentialField): Credential {
  // Within a key, npm sends Bearer before Basic: the header is chosen by priority, not by what walked.
  const key = `${regKey}:${field === 'username' ? '_password' : field}`;
  const value = String(cfg.get(key) ?? '');
  const originKey = field === 'username' ? `${regKey}:_password` : key;
  return { kind: FIELD_KIND[field], regKey, key, value, origin: cfg.origin(originKey) };
}

/** The registry npm uses for a package spec: @scope:registry for its scope, else `registry`. */
export function registryForSpec(cfg: NpmConfig, spec: string | undefined): { registry: string; scope?: string } {
  const registry = String(cfg.get('registry'));
  if (!spec) return { registry };
  let scope: string | null | undefined;
  // Plain names (the common case) need no parser.
  if (/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(spec)) {
    scope = spec.startsWith('@') ? spec.slice(0, spec.indexOf('/')) : undefined;
    const scoped = scope ? cfg.getString(`${scope}:registry`) : undefined;
    return scoped ? { registry: scoped, scope } : { registry, scope };
  }
  try {
    const parsed = npa(spec);
    scope = parsed.subSpec ? parsed.subSpec.scope : parsed.scope;
  } catch {
    scope = spec.startsWith('@') ? spec.split('/')[0] : undefined;
  }
  const scoped = scope ? cfg.getString(`${scope}:registry`) : undefined;
  return scoped ? { registry: scoped, scope: scope ?? undefined } : { registry, scope: scope ?? undefined };
}

/** The package a spec names: `@corp/ui` for `@corp/ui@^1`, and for the alias `npm:@corp/ui@^1`. */
export function packageName(spec: string): string {
  if (/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(@.*)?$/i.test(spec)) return spec.replace(/(.)@.*$/, '$1');
  try {
    const parsed = npa(spec);
    return (parsed.subSpec ? parsed.subSpec.name : parsed.name) || spec;
  } catch {
    return spec;
  }
}

/** Lookup A (npm-registry-fetch): the credential sent with a request to `uri` made for `spec`. */
export function credentialForRequest(cfg: NpmConfig, uri: string, spec?: string): Credential {
  const found = regFromURI(cfg, uri);
  if (found) return credentialAt(cfg, found.regKey, found.field);
  const { registry } = registryForSpec(cfg, spec);
  const defaultRegistry = String(cfg.get('registry'));
  if (registry && uri !== registry && sameHost(uri, registry)) {
    const viaRegistry = regFromURI(cfg, registry);
    if (viaRegistry) return { ...credentialAt(cfg, viaRegistry.regKey, viaRegistry.field), sameHostFallback: true };
    return { kind: 'none' };
  }
  if (registry !== defaultRegistry) {
    const scoped = regFromURI(cfg, registry);
    return { kind: 'none', scopeAuthKey: scoped?.regKey };
  }
  return { kind: 'none' };
}

/** Lookup B (@npmcli/config getCredentialsByURI): exact nerf-dart only, used by publish and whoami. */
export function credentialForRegistry(cfg: NpmConfig, registry: string): Credential {
  const nerfed = nerfDart(registry);
  if (truthy(cfg, `${nerfed}:_authToken`)) return credentialAt(cfg, nerfed, '_authToken');
  if (truthy(cfg, `${nerfed}:username`) && truthy(cfg, `${nerfed}:_password`))
    return credentialAt(cfg, nerfed, 'username');
  if (truthy(cfg, `${nerfed}:_auth`)) return credentialAt(cfg, nerfed, '_auth');
  if (truthy(cfg, `${nerfed}:certfile`) && truthy(cfg, `${nerfed}:keyfile`))
    return credentialAt(cfg, nerfed, 'certfile');
  return { kind: 'none', regKey: nerfed };
}

function sameHost(a: string, b: string): boolean {
  try {
    return new URL(a).host === new URL(b).host;
  } catch {
    return false;
  }
}

/** The URL npm requests for a package's packument on `registry`. */
export function packumentUrl(registry: string, name: string): string {
  const escaped = name.startsWith('@') ? '@' + encodeURIComponent(name.slice(1)) : encodeURIComponent(name);
  return registry.replace(/\/+$/, '') + '/' + escaped;
}

/** The Authorization header npm would send for a credential, if any. */
export function authorizationHeader(cred: Credential, cfg: NpmConfig): string | undefined {
  if (!cred.value || !cred.regKey) return undefined;
  if (cred.kind === 'token') return `Bearer ${cred.value}`;
  if (cred.kind === 'basic-auth') return `Basic ${cred.value}`;
  if (cred.kind === 'username-password') {
    const user = String(cfg.get(`${cred.regKey}:username`) ?? '');
    const pass = Buffer.from(cred.value, 'base64').toString('utf8');
    return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  }
  return undefined;
}

/** A secret as it may be shown: its recognisable prefix, never enough to use it. */
export function redact(secret: string): string {
  if (!secret) return '(empty)';
  if (/^\$\{[^}]*\}$/.test(secret)) return secret;
  const m = /^(npms?_|tsr_|ghp_|gho_|ghs_|github_pat_|glpat-)/.exec(secret);
  return `${m ? m[1] : secret.slice(0, Math.min(2, Math.floor(secret.length / 4)))}***`;
}

// Secrets as they turn up in pasted text: each pattern keeps what says where the secret was (the key, the
// scheme, a token's prefix) and masks the rest. An unset `${VAR}` is not a secret, and a clue: it is kept.
const SECRET_IN_TEXT: [RegExp, (m: string, ...g: string[]) => string][] = [
  // A password in a URL: `https://user:pass@host`, a proxy's `http://user:pass@proxy:3128`.
  [/(:\/\/[^\s/:@"'`<>]+:)([^\s/@"'`<>]+)@/g, (_m, pre, pw) => `${pre}${mask(pw)}@`],
  // Credential settings in .npmrc, .yarnrc(.yml), JSON or an environment dump: `_authToken=…`, `npmAuthToken: "…"`.
  // (`npm_config__auth=…` too: the key may follow an underscore; `&quot;` is a quote copied from a web page.)
  [
    /((?<![A-Za-z0-9])(?:_authToken|_auth|_password|npmAuthToken|npmAuthIdent|authToken)["']?[ \t]*[=:][ \t]*(?:["']|&quot;)?)([^\s"'`,;&\\]+)/gi,
    (_m, pre, v) => `${pre}${mask(v)}`,
  ],
  // The same given as two words: `npm config set //host/:_authToken VALUE`, `yarn config set npmAuthToken VALUE`,
  // and Yarn 1's .yarnrc line `"//host/:_authToken" "VALUE"`.
  [
    /(\bset[ \t]+(?:-[-\w]+[ \t]+)*["']?\S*?(?:_authToken|_auth|_password|npmAuthToken|npmAuthIdent)["']?[ \t]+["']?)([^\s"'`,;\\]+)/gi,
    (_m, pre, v) => `${pre}${mask(v)}`,
  ],
  [/("[^"\s]*(?:_authToken|_auth|_password)"[ \t]+")([^"\s]+)"/g, (_m, pre, v) => `${pre}${mask(v)}"`],
  // A password on the command line or in npm's environment: `--password=…`, `npm_config_password=…`.
  [/((?:--|\bnpm_config_)password[= ]["']?)([^\s"'`,;\\]+)/gi, (_m, pre, v) => `${pre}${mask(v)}`],
  // Environment variables, also as YAML sets them in a workflow (`NODE_AUTH_TOKEN: …`).
  [
    /(\b[A-Z][A-Z0-9_]*(?:TOKEN|PASSWORD|PASSWD|PASS|SECRET|_AUTH|PAT)[ \t]*[=:][ \t]*["']?)([^\s"'`,;\\]+)/g,
    (_m, pre, v) => `${pre}${mask(v)}`,
  ],
  // Credentials in a URL's query: a token parameter, a presigned storage URL (S3, Azure SAS) a tarball redirects to.
  [
    /([?&](?:token|access_token|auth|X-Amz-Security-Token|X-Amz-Signature|X-Amz-Credential|sig|signature)=)([^&\s"'#<>:]+)/gi,
    (_m, pre, v) => `${pre}${mask(v)}`,
  ],
  // HTTP authorization as logged or pasted: `Authorization: Bearer …`, `authorization: 'Basic …'`.
  // Only a value that looks like a credential (digits or base64's `+/=`): not `Basic authentication`, not a
  // challenge's `Bearer authorization_uri=…`.
  [
    /(\b(?:Bearer|Basic) )([A-Za-z0-9._~+/-]{8,}=*)(?![\w:=])/g,
    (m, pre, v) => (/[\d+/=]/.test(v) && !/^[A-Za-z_]+=/.test(v) ? `${pre}${mask(v)}` : m),
  ],
  // An Authorization header's value whatever it looks like, GitHub's `token` scheme included.
  [
    /(\bauthorization["']?[ \t]*[:=][ \t]*["']?(?:token|bearer|basic)[ \t]+)([^\s"'`,;\\]+)/gi,
    (_m, pre, v) => `${pre}${mask(v)}`,
  ],
  // Tokens recognisable by their prefix, anywhere, and JSON Web Tokens (OIDC, CodeArtifact).
  // (Not a setting's name: `npm_config__auth=` keeps its key.)
  [/\b(npms?_|tsr_|gh[pousr]_|github_pat_|glpat-)[A-Za-z0-9_]{8,}(?![\w=])/g, (_m, prefix) => `${prefix}***`],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, () => 'eyJ***'],
];
function mask(v: string): string {
  // Not secrets, and clues: a variable, a placeholder (`<token>`, XXXXX-…), a value already masked.
  if (
    /^[$<]|^[.…]+$|^X{5}(-X{5})*$|^(undefined|null|true|false|password|pass|secret|token)$|\*\*\*|^\(?redacted\)?$/i.test(
      v,
    )
  )
    return v;
  const m = /^(npms?_|tsr_|gh[pousr]_|github_pat_|glpat-)/.exec(v);
  return `${m ? m[1] : ''}***`;
}

/** Text with the password of every `scheme://user:password@host` masked (registry and proxy URLs). */
export function maskUrlPasswords(text: string): string {
  return text.replace(/(:\/\/[^\s/:@"'`<>]+:)([^\s/@"'`<>]+)@/g, (_m, pre) => `${pre}***@`);
}

/** Text with every secret it holds masked: what a pasted log may show again in an answer. */
export function maskSecrets(text: string): string {
  let out = text;
  for (const [re, to] of SECRET_IN_TEXT) out = out.replace(re, to as (m: string, ...g: unknown[]) => string);
  return out;
}

/** The credential keys npm recognises after a nerf-dart. */
export const CREDENTIAL_FIELDS = ['_authToken', '_auth', '_password', 'username', 'certfile', 'keyfile'] as const;

/** Split `//host/path/:_authToken` into its nerf-dart and field; undefined for other keys. */
export function splitCredentialKey(key: string): { prefix: string; field: string } | undefined {
  const i = key.lastIndexOf(':');
  if (i <= 0) return undefined;
  const field = key.slice(i + 1);
  if (!(CREDENTIAL_FIELDS as readonly string[]).includes(field)) return undefined;
  return { prefix: key.slice(0, i), field };
}
