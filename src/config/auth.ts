// The `auth` section: company sign-in (docs/signin.md) through an OpenID Provider or an LDAP directory, local
// passwords on or off, and the directory's groups mapped to organizations and teams. Every key is in the
// README's configuration reference.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDuration } from './duration.ts';
import { ConfigError } from './config-error.ts';

export type LdapConfig = {
  /** ldap:// or ldaps:// */
  url: string;
  /** The service account that looks users up (never the user's own bind). */
  bindDN: string;
  bindPassword: string;
  userSearchBase: string;
  /** `{{username}}` is replaced by the name typed at `npm login`, escaped as RFC 4515 says. */
  userFilter: string;
  /** The attribute that holds the user's e-mail address. */
  mailAttribute: string;
  /** Group search: null turns groups off. `{{dn}}` and `{{username}}` are replaced, escaped. */
  groupSearchBase: string | null;
  groupFilter: string;
  /** The attribute of a group entry that names it in `auth.groups`. */
  groupAttribute: string;
  /** `ca`: PEM text (read from the file the config names) trusted for LDAPS and StartTLS. */
  tls: { ca: string | null; startTls: boolean };
  /** How often every directory account is checked again: groups re-applied, the departed disabled. */
  syncIntervalMs: number;
  timeoutMs: number;
};

export type SignInOidc = {
  issuer: string;
  clientId: string;
  clientSecret: string | null;
  scopes: string;
  userClaim: string;
  groupsClaim: string;
  trustMfa: boolean;
  name: string;
  refreshIntervalMs: number;
  /** How long one request to the provider (discovery, token, keys, UserInfo) may take; 10 s when unset. */
  timeoutMs?: number;
};

export type AuthConfig = {
  /** false: passwords only for administrators made with `tessera user add --admin` (break-glass). */
  local: boolean;
  oidc: SignInOidc | null;
  ldap: LdapConfig | null;
  /** Directory group → `org:role` (owner, admin, developer) or `org:team`. */
  groups: Record<string, string>;
};

export const authDefaults: AuthConfig = { local: true, oidc: null, ldap: null, groups: {} };

function fail(key: string, why: string): never {
  throw new ConfigError(key, why);
}

function str(v: unknown, key: string): string {
  if (typeof v !== 'string' || !v) fail(key, 'must be a non-empty string');
  return v;
}

function mapping(v: unknown, key: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(key, 'must be a mapping');
  return v as Record<string, unknown>;
}

function duration(v: unknown, key: string): number {
  try {
    return parseDuration(v as string);
  } catch (e) {
    fail(key, (e as Error).message);
  }
}

const LDAP_KEYS = [
  'url',
  'bindDN',
  'bindPassword',
  'userSearchBase',
  'userFilter',
  'mailAttribute',
  'groupSearchBase',
  'groupFilter',
  'groupAttribute',
  'tls',
  'syncInterval',
  'timeout',
];

function parseLdap(raw: unknown, dir: string): LdapConfig {
  const l = mapping(raw, 'auth.ldap');
  for (const key of Object.keys(l)) if (!LDAP_KEYS.includes(key)) fail(`auth.ldap.${key}`, 'unknown key');
  const url = str(l.url, 'auth.ldap.url');
  if (!/^ldaps?:\/\/[^/]+\/?$/.test(url)) fail('auth.ldap.url', 'must be ldap://host:port or ldaps://host:port');
  const tls = l.tls === undefined || l.tls === null ? {} : mapping(l.tls, 'auth.ldap.tls');
  for (const key of Object.keys(tls)) {
    if (!['ca', 'startTls'].includes(key)) fail(`auth.ldap.tls.${key}`, 'unknown key');
  }
  if (tls.startTls !== undefined && typeof tls.startTls !== 'boolean') {
    fail('auth.ldap.tls.startTls', 'must be true or false');
  }
  const startTls = tls.startTls === true;
  if (startTls && url.startsWith('ldaps:')) {
    fail('auth.ldap.tls.startTls', 'is for ldap:// URLs (ldaps:// is TLS already)');
  }
  let ca: string | null = null;
  if (tls.ca !== undefined && tls.ca !== null) {
    const file = resolve(dir, str(tls.ca, 'auth.ldap.tls.ca'));
    try {
      ca = readFileSync(file, 'utf8');
    } catch (e) {
      fail('auth.ldap.tls.ca', `cannot read ${file}: ${(e as Error).message}`);
    }
  }
  const userFilter = l.userFilter === undefined ? '(uid={{username}})' : str(l.userFilter, 'auth.ldap.userFilter');
  if (!userFilter.includes('{{username}}')) fail('auth.ldap.userFilter', 'must contain {{username}}');
  const syncIntervalMs = l.syncInterval === undefined ? 5 * 60_000 : duration(l.syncInterval, 'auth.ldap.syncInterval');
  if (syncIntervalMs < 1000) fail('auth.ldap.syncInterval', 'must be at least 1s');
  return {
    url,
    bindDN: str(l.bindDN, 'auth.ldap.bindDN'),
    bindPassword: str(l.bindPassword, 'auth.ldap.bindPassword'),
    userSearchBase: str(l.userSearchBase, 'auth.ldap.userSearchBase'),
    userFilter,
    mailAttribute: l.mailAttribute === undefined ? 'mail' : str(l.mailAttribute, 'auth.ldap.mailAttribute'),
    groupSearchBase:
      l.groupSearchBase === undefined || l.groupSearchBase === null
        ? null
        : str(l.groupSearchBase, 'auth.ldap.groupSearchBase'),
    groupFilter: l.groupFilter === undefined ? '(member={{dn}})' : str(l.groupFilter, 'auth.ldap.groupFilter'),
    groupAttribute: l.groupAttribute === undefined ? 'cn' : str(l.groupAttribute, 'auth.ldap.groupAttribute'),
    tls: { ca, startTls },
    syncIntervalMs,
    timeoutMs: l.timeout === undefined ? 10_000 : duration(l.timeout, 'auth.ldap.timeout'),
  };
}

const TARGET_RE = /^[a-z0-9][a-z0-9._-]*:[a-z0-9][a-z0-9._-]*$/;

const OIDC_KEYS = [
  'issuer',
  'clientId',
  'clientSecret',
  'scopes',
  'userClaim',
  'groupsClaim',
  'trustMfa',
  'name',
  'refreshInterval',
  'timeout',
];

function parseOidc(raw: unknown): SignInOidc {
  const o = mapping(raw, 'auth.oidc');
  for (const key of Object.keys(o)) if (!OIDC_KEYS.includes(key)) fail(`auth.oidc.${key}`, 'unknown key');
  // The issuer is kept exactly as written: discovery compares it with the provider's own, slash and all.
  const issuer = str(o.issuer, 'auth.oidc.issuer');
  let u: URL | undefined;
  try {
    u = new URL(issuer);
  } catch {
    /* refused below */
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:'))
    fail('auth.oidc.issuer', 'must be an absolute http(s) URL');
  if (o.trustMfa !== undefined && typeof o.trustMfa !== 'boolean') fail('auth.oidc.trustMfa', 'must be true or false');
  const out: SignInOidc = {
    issuer,
    clientId: str(o.clientId, 'auth.oidc.clientId'),
    clientSecret: o.clientSecret === undefined ? null : str(o.clientSecret, 'auth.oidc.clientSecret'),
    scopes: o.scopes === undefined ? 'openid profile email offline_access' : str(o.scopes, 'auth.oidc.scopes'),
    userClaim: o.userClaim === undefined ? 'preferred_username' : str(o.userClaim, 'auth.oidc.userClaim'),
    groupsClaim: o.groupsClaim === undefined ? 'groups' : str(o.groupsClaim, 'auth.oidc.groupsClaim'),
    trustMfa: o.trustMfa === true,
    name: o.name === undefined ? 'your company account' : str(o.name, 'auth.oidc.name'),
    refreshIntervalMs:
      o.refreshInterval === undefined ? 5 * 60_000 : duration(o.refreshInterval, 'auth.oidc.refreshInterval'),
    timeoutMs: o.timeout === undefined ? 10_000 : duration(o.timeout, 'auth.oidc.timeout'),
  };
  if (!out.scopes.split(/\s+/).includes('openid')) fail('auth.oidc.scopes', 'must include openid');
  return out;
}

export function parseAuth(raw: unknown, dir: string): AuthConfig {
  const a = mapping(raw, 'auth');
  for (const key of Object.keys(a)) {
    if (!['local', 'oidc', 'ldap', 'groups'].includes(key)) fail(`auth.${key}`, 'unknown key');
  }
  if (a.local !== undefined && typeof a.local !== 'boolean') fail('auth.local', 'must be true or false');
  const groups: Record<string, string> = {};
  if (a.groups !== undefined && a.groups !== null) {
    for (const [group, target] of Object.entries(mapping(a.groups, 'auth.groups'))) {
      if (typeof target !== 'string' || !TARGET_RE.test(target)) {
        fail(`auth.groups.${group}`, 'must be "org:role" or "org:team"');
      }
      groups[group] = target;
    }
  }
  return {
    local: a.local !== false,
    oidc: a.oidc === undefined || a.oidc === null ? null : parseOidc(a.oidc),
    ldap: a.ldap === undefined || a.ldap === null ? null : parseLdap(a.ldap, dir),
    groups,
  };
}
