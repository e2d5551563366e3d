// Server configuration: defaults, overridden by the YAML file, overridden by flags. Every key is
// documented in the README's configuration reference; unknown keys are an error, not a silent typo.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from './duration.ts';
import { ConfigError } from './config-error.ts';
import { applyOps, opsDefaults, opsKeys, type OpsConfig } from './ops.ts';
import { authDefaults, parseAuth, type AuthConfig } from './auth.ts';
import { applyBlobs, applyBlobsEnv, blobsDefaults, blobsKeys, type BlobsConfig } from './blobs.ts';

export type { AuthConfig, SignInOidc } from './auth.ts';

export type SignupPolicy = 'open' | 'closed' | 'admin-only';

export type Config = OpsConfig &
  BlobsConfig & {
    listen: { host: string; port: number };
    data: string;
    /** `postgres://…`: records in PostgreSQL (several nodes may share it); null: SQLite in the data folder. */
    database: string | null;
    publicUrl: string | null;
    signup: SignupPolicy;
    sessionTtlMs: number;
    webLoginTtlMs: number;
    maxBodyBytes: number;
    /** Time a request has to arrive in full, headers and body; one that trickles in is cut with a 408. */
    requestTimeoutMs: number;
    /** The most bytes a published tarball may unpack to (read as a stream); null: 8 × maxBodyBytes. */
    maxUnpackedBytes: number | null;
    defaultScopedAccess: 'public' | 'restricted';
    upstream: UpstreamConfig;
    /** Byte budgets of what the read path keeps in memory (services/read-cache.ts). */
    cache: { documentBytes: number; tarballBytes: number };
    privateNamespaces: string[];
    trustedProxies: string[];
    logLevel: string;
    /** One log line per request; off by default, since a reverse proxy usually keeps the access log. */
    accessLog: boolean;
    tokens: TokenPolicy;
    email: EmailConfig;
    oidc: OidcConfig;
    stage: StageConfig;
    unpublish: UnpublishConfig;
    /** Company sign-in (config/auth.ts). */
    auth: AuthConfig;
  };

/** The registry proxied for names that are not local (services/proxy.ts, services/upstream.ts). */
export type UpstreamConfig = {
  url: string | null;
  /** A cached packument is fresh this long; after that it is served as it is and refreshed in the background. */
  cacheTtlMs: number;
  timeoutMs: number;
  /** Past this age a cached packument is not served without a successful refresh. */
  maxStaleMs: number;
  /** Requests in flight to one upstream host at most; the rest wait (and reuse kept-alive connections). */
  maxConnections: number;
  /** Consecutive failures or timeouts that open the circuit breaker: the upstream is not asked meanwhile. */
  breakerFailures: number;
  /** How long the breaker stays open before one probe request may try again. */
  breakerCooldownMs: number;
  /** Fetch the packuments of a fetched package's dependencies ahead of the client (services/proxy.ts). */
  prefetch: boolean;
};

/** After a whole unpublish the name is reserved from everyone for this long (npm: 24 hours); 0 turns it off. */
export type UnpublishConfig = { reserveForMs: number };

/** Staged publishing (`npm stage`): how long a staged version waits for approval, and whether the
 *  maintainer who staged it may approve it. */
export type StageConfig = { ttlMs: number; requireSecondApprover: boolean };

/** Trusted publishing. GitHub, GitLab and CircleCI are built in; every issuer address can be overridden
 *  (GitHub Enterprise, self-managed GitLab) and generic issuers added (Gitea/Forgejo, Woodpecker, Jenkins…). */
export type OidcConfig = {
  tokenTtlMs: number;
  /** `aud` the id token must carry; default `npm:<publicUrl's host name>` (or `npm:<host:port>`, Yarn's).
   *  Without either, exchanges are refused. */
  audience: string | null;
  /** Allow several trust configurations per package (npmjs allows one). */
  multipleConfigs: boolean;
  issuers: OidcIssuer[];
};
export type OidcIssuer = {
  name: string;
  type: 'github' | 'gitlab' | 'circleci' | 'generic';
  issuer: string;
  jwksUri: string | null;
};

export const builtinIssuers: OidcIssuer[] = [
  { name: 'github', type: 'github', issuer: 'https://token.actions.githubusercontent.com', jwksUri: null },
  { name: 'gitlab', type: 'gitlab', issuer: 'https://gitlab.com', jwksUri: null },
  // CircleCI issues per organization: https://oidc.circleci.com/org/<org-id>, matched as this prefix plus
  // one path segment (services/oidc.ts).
  { name: 'circleci', type: 'circleci', issuer: 'https://oidc.circleci.com/org', jwksUri: null },
];

/** E-mail verification: links go out by SMTP, or into the data folder's outbox when no SMTP is set. */
export type EmailConfig = {
  requireVerified: boolean;
  from: string;
  linkTtlMs: number;
  smtp: { host: string; port: number; secure: boolean; user: string | null; password: string | null } | null;
};

/** npmjs's limits on granular access tokens, each adjustable by the administrator. */
export type TokenPolicy = {
  maxPerUser: number;
  maxPackagesAndScopes: number;
  maxOrgs: number;
  minExpiryDays: number;
  writeDefaultDays: number;
  writeMaxDays: number;
  readDefaultDays: number;
  readMaxDays: number | null;
  /** Classic tokens (read-only, automation, publish): off unless the administrator turns them on. */
  classic: boolean;
};

export const defaults: Config = {
  listen: { host: '127.0.0.1', port: 4873 },
  data: './tessera-data',
  database: null,
  publicUrl: null,
  signup: 'admin-only',
  sessionTtlMs: 2 * 3_600_000,
  webLoginTtlMs: 10 * 60_000,
  maxBodyBytes: 64 * 1024 * 1024,
  requestTimeoutMs: 60_000,
  maxUnpackedBytes: null,
  defaultScopedAccess: 'restricted',
  upstream: {
    url: null,
    cacheTtlMs: 5 * 60_000,
    timeoutMs: 30_000,
    maxStaleMs: 7 * 86_400_000,
    maxConnections: 16,
    breakerFailures: 3,
    breakerCooldownMs: 30_000,
    prefetch: true,
  },
  cache: { documentBytes: 256 * 1024 * 1024, tarballBytes: 128 * 1024 * 1024 },
  privateNamespaces: [],
  trustedProxies: [],
  logLevel: 'info',
  accessLog: false,
  tokens: {
    maxPerUser: 1000,
    maxPackagesAndScopes: 50,
    maxOrgs: 50,
    minExpiryDays: 1,
    writeDefaultDays: 7,
    writeMaxDays: 90,
    readDefaultDays: 30,
    readMaxDays: null,
    classic: false,
  },
  email: { requireVerified: false, from: 'Tessera <tessera@localhost>', linkTtlMs: 7 * 86_400_000, smtp: null },
  oidc: { tokenTtlMs: 3_600_000, audience: null, multipleConfigs: false, issuers: builtinIssuers },
  stage: { ttlMs: 7 * 86_400_000, requireSecondApprover: false },
  unpublish: { reserveForMs: 24 * 3_600_000 },
  ...opsDefaults,
  ...blobsDefaults,
  auth: authDefaults,
};

/** What a published tarball may unpack to: a compressed upload of maxBodyBytes that unpacks to gigabytes is refused. */
export function unpackedLimit(c: Pick<Config, 'maxBodyBytes' | 'maxUnpackedBytes'>): number {
  return c.maxUnpackedBytes ?? 8 * c.maxBodyBytes;
}

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (!m || Number(m[3]) > 65535) throw new Error(`invalid --listen "${text}" (use HOST:PORT, a port up to 65535)`);
  return { host: m[1] || m[2] || '127.0.0.1', port: Number(m[3]) };
}

type FileConfig = Record<string, unknown>;
const fileKeys = new Set([
  'listen',
  'data',
  'database',
  'publicUrl',
  'signup',
  'sessionTtl',
  'webLoginTtl',
  'maxBodyBytes',
  'requestTimeout',
  'maxUnpackedBytes',
  'defaultScopedAccess',
  'upstream',
  'privateNamespaces',
  'trustedProxies',
  'logLevel',
  'accessLog',
  'tokens',
  'email',
  'oidc',
  'stage',
  'unpublish',
  'auth',
  'cache',
  ...opsKeys,
  ...blobsKeys,
]);

function fail(key: string, why: string): never {
  throw new ConfigError(key, why);
}

/** A YAML mapping: a list is an object too, and would be read as keys 0, 1, … */
function mapping(v: unknown, key: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(key, 'must be a mapping');
  return v as Record<string, unknown>;
}

function str(v: unknown, key: string): string {
  if (typeof v !== 'string' || !v) fail(key, 'must be a non-empty string');
  return v;
}

function oneOf<T extends string>(v: unknown, key: string, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) fail(key, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

function duration(v: unknown, key: string): number {
  try {
    return parseDuration(v as string);
  } catch (e) {
    fail(key, (e as Error).message);
  }
}

function urlValue(v: unknown, key: string): string {
  const s = str(v, key);
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    fail(key, 'must be an absolute http(s) URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') fail(key, 'must be an http(s) URL');
  return s.endsWith('/') ? s : `${s}/`;
}

function databaseUrl(v: unknown, key: string): string {
  const s = str(v, key);
  if (!/^postgres(ql)?:\/\/./.test(s)) fail(key, 'must be a postgres:// URL');
  return s;
}

/** `path`: the file's name, put in front of any error so the operator knows where to look. */
export function applyFile(base: Config, file: FileConfig, dir: string, path?: string): Config {
  try {
    return applyFileKeys(base, file, dir);
  } catch (e) {
    if (e instanceof ConfigError && path) throw new ConfigError(e.key, e.why, path);
    throw e;
  }
}

function readFile(path: string): FileConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError('', `cannot be read (${(e as Error).message})`, path);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text) ?? {};
  } catch (e) {
    // The parser's message goes on with a code frame over several lines: its first line says where.
    throw new ConfigError('', `not valid YAML: ${(e as Error).message.split('\n')[0].replace(/:$/, '')}`, path);
  }
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError('', 'must be a YAML mapping', path);
  return parsed as FileConfig;
}

function applyFileKeys(base: Config, file: FileConfig, dir: string): Config {
  const c: Config = structuredClone(base);
  for (const key of Object.keys(file)) if (!fileKeys.has(key)) fail(key, 'unknown key');
  const f = file;
  if (f.listen !== undefined) {
    if (typeof f.listen !== 'string' && typeof f.listen !== 'number') fail('listen', 'must be HOST:PORT');
    try {
      c.listen = parseListen(String(f.listen));
    } catch {
      fail('listen', `"${f.listen}" is not HOST:PORT with a port up to 65535`);
    }
  }
  if (f.data !== undefined) c.data = resolve(dir, str(f.data, 'data'));
  if (f.database !== undefined && f.database !== null) c.database = databaseUrl(f.database, 'database');
  if (f.publicUrl !== undefined && f.publicUrl !== null) c.publicUrl = urlValue(f.publicUrl, 'publicUrl');
  if (f.signup !== undefined) c.signup = oneOf(f.signup, 'signup', ['open', 'closed', 'admin-only'] as const);
  if (f.sessionTtl !== undefined) c.sessionTtlMs = duration(f.sessionTtl, 'sessionTtl');
  if (f.webLoginTtl !== undefined) c.webLoginTtlMs = duration(f.webLoginTtl, 'webLoginTtl');
  if (f.maxBodyBytes !== undefined) {
    if (!Number.isInteger(f.maxBodyBytes) || (f.maxBodyBytes as number) < 1024)
      fail('maxBodyBytes', 'must be an integer ≥ 1024');
    c.maxBodyBytes = f.maxBodyBytes as number;
  }
  if (f.requestTimeout !== undefined) {
    c.requestTimeoutMs = duration(f.requestTimeout, 'requestTimeout');
    if (c.requestTimeoutMs < 1000) fail('requestTimeout', 'must be at least 1s');
  }
  if (f.maxUnpackedBytes !== undefined && f.maxUnpackedBytes !== null) {
    const n = f.maxUnpackedBytes;
    if (!Number.isInteger(n) || (n as number) < 1024) fail('maxUnpackedBytes', 'must be an integer ≥ 1024');
    c.maxUnpackedBytes = f.maxUnpackedBytes as number;
  }
  if (f.defaultScopedAccess !== undefined) {
    c.defaultScopedAccess = oneOf(f.defaultScopedAccess, 'defaultScopedAccess', ['public', 'restricted'] as const);
  }
  if (f.upstream !== undefined && f.upstream !== null) {
    const u = mapping(f.upstream, 'upstream');
    const keys = [
      'url',
      'cacheTtl',
      'timeout',
      'maxStale',
      'maxConnections',
      'breakerFailures',
      'breakerCooldown',
      'prefetch',
    ];
    for (const key of Object.keys(u)) if (!keys.includes(key)) fail(`upstream.${key}`, 'unknown key');
    if (u.url !== undefined && u.url !== null) c.upstream.url = urlValue(u.url, 'upstream.url');
    if (u.cacheTtl !== undefined) c.upstream.cacheTtlMs = duration(u.cacheTtl, 'upstream.cacheTtl');
    if (u.timeout !== undefined) c.upstream.timeoutMs = duration(u.timeout, 'upstream.timeout');
    if (u.maxStale !== undefined) c.upstream.maxStaleMs = duration(u.maxStale, 'upstream.maxStale');
    if (u.breakerCooldown !== undefined) {
      c.upstream.breakerCooldownMs = duration(u.breakerCooldown, 'upstream.breakerCooldown');
    }
    if (u.prefetch !== undefined) {
      if (typeof u.prefetch !== 'boolean') fail('upstream.prefetch', 'must be true or false');
      c.upstream.prefetch = u.prefetch;
    }
    for (const key of ['maxConnections', 'breakerFailures'] as const) {
      if (u[key] === undefined) continue;
      if (!Number.isInteger(u[key]) || (u[key] as number) < 1) fail(`upstream.${key}`, 'must be a whole number ≥ 1');
      c.upstream[key] = u[key] as number;
    }
  }
  if (f.privateNamespaces !== undefined) {
    if (!Array.isArray(f.privateNamespaces)) fail('privateNamespaces', 'must be a list');
    c.privateNamespaces = f.privateNamespaces.map((v, i) => str(v, `privateNamespaces[${i}]`));
  }
  if (f.trustedProxies !== undefined) {
    if (!Array.isArray(f.trustedProxies)) fail('trustedProxies', 'must be a list');
    c.trustedProxies = f.trustedProxies.map((v, i) => str(v, `trustedProxies[${i}]`));
  }
  if (f.tokens !== undefined && f.tokens !== null) {
    const t = mapping(f.tokens, 'tokens');
    const ints = [
      'maxPerUser',
      'maxPackagesAndScopes',
      'maxOrgs',
      'minExpiryDays',
      'writeDefaultDays',
      'writeMaxDays',
      'readDefaultDays',
    ] as const;
    for (const key of Object.keys(t)) {
      if (![...ints, 'readMaxDays', 'classic'].includes(key)) fail(`tokens.${key}`, 'unknown key');
    }
    for (const key of ints) {
      if (t[key] === undefined) continue;
      if (!Number.isInteger(t[key]) || (t[key] as number) < 0) fail(`tokens.${key}`, 'must be a whole number ≥ 0');
      c.tokens[key] = t[key] as number;
    }
    if (t.readMaxDays !== undefined) {
      if (t.readMaxDays !== null && (!Number.isInteger(t.readMaxDays) || (t.readMaxDays as number) < 1))
        fail('tokens.readMaxDays', 'must be a whole number ≥ 1 or null');
      c.tokens.readMaxDays = t.readMaxDays as number | null;
    }
    if (t.classic !== undefined) {
      if (typeof t.classic !== 'boolean') fail('tokens.classic', 'must be true or false');
      c.tokens.classic = t.classic;
    }
  }
  if (f.email !== undefined && f.email !== null) {
    const e = mapping(f.email, 'email');
    for (const key of Object.keys(e))
      if (!['requireVerified', 'from', 'linkTtl', 'smtp'].includes(key)) fail(`email.${key}`, 'unknown key');
    if (e.requireVerified !== undefined) {
      if (typeof e.requireVerified !== 'boolean') fail('email.requireVerified', 'must be true or false');
      c.email.requireVerified = e.requireVerified;
    }
    if (e.from !== undefined) c.email.from = str(e.from, 'email.from');
    if (e.linkTtl !== undefined) c.email.linkTtlMs = duration(e.linkTtl, 'email.linkTtl');
    if (e.smtp !== undefined && e.smtp !== null) {
      const m = mapping(e.smtp, 'email.smtp');
      for (const key of Object.keys(m))
        if (!['host', 'port', 'secure', 'user', 'password'].includes(key)) fail(`email.smtp.${key}`, 'unknown key');
      const port = m.port ?? 587;
      if (!Number.isInteger(port)) fail('email.smtp.port', 'must be a port number');
      c.email.smtp = {
        host: str(m.host, 'email.smtp.host'),
        port: port as number,
        secure: m.secure === true,
        user: m.user === undefined ? null : str(m.user, 'email.smtp.user'),
        password: m.password === undefined ? null : str(m.password, 'email.smtp.password'),
      };
    }
  }
  if (f.oidc !== undefined && f.oidc !== null) {
    const o = mapping(f.oidc, 'oidc');
    for (const key of Object.keys(o))
      if (!['tokenTtl', 'audience', 'multipleConfigs', 'issuers'].includes(key)) fail(`oidc.${key}`, 'unknown key');
    if (o.tokenTtl !== undefined) c.oidc.tokenTtlMs = duration(o.tokenTtl, 'oidc.tokenTtl');
    if (o.audience !== undefined && o.audience !== null) c.oidc.audience = str(o.audience, 'oidc.audience');
    if (o.multipleConfigs !== undefined) {
      if (typeof o.multipleConfigs !== 'boolean') fail('oidc.multipleConfigs', 'must be true or false');
      c.oidc.multipleConfigs = o.multipleConfigs;
    }
    if (o.issuers !== undefined) {
      if (!Array.isArray(o.issuers)) fail('oidc.issuers', 'must be a list');
      const issuers = [...c.oidc.issuers];
      o.issuers.forEach((raw, i) => {
        const it = raw as Record<string, unknown>;
        const key = `oidc.issuers[${i}]`;
        for (const k of Object.keys(it ?? {}))
          if (!['name', 'type', 'issuer', 'jwksUri'].includes(k)) fail(`${key}.${k}`, 'unknown key');
        const name = str(it?.name, `${key}.name`);
        const builtin = builtinIssuers.find((b) => b.name === name);
        const type = oneOf(it.type ?? builtin?.type ?? 'generic', `${key}.type`, [
          'github',
          'gitlab',
          'circleci',
          'generic',
        ] as const);
        const issuer =
          it.issuer === undefined && builtin ? builtin.issuer : str(it.issuer, `${key}.issuer`).replace(/\/+$/, '');
        const jwksUri =
          it.jwksUri === undefined || it.jwksUri === null
            ? null
            : urlValue(it.jwksUri, `${key}.jwksUri`).replace(/\/+$/, '');
        const entry: OidcIssuer = { name, type, issuer, jwksUri };
        const at = issuers.findIndex((x) => x.name === name);
        if (at >= 0) issuers[at] = entry;
        else issuers.push(entry);
      });
      c.oidc.issuers = issuers;
    }
  }
  if (f.accessLog !== undefined) {
    if (typeof f.accessLog !== 'boolean') fail('accessLog', 'must be true or false');
    c.accessLog = f.accessLog;
  }
  if (f.stage !== undefined && f.stage !== null) {
    const st = mapping(f.stage, 'stage');
    for (const key of Object.keys(st))
      if (!['ttl', 'requireSecondApprover'].includes(key)) fail(`stage.${key}`, 'unknown key');
    if (st.ttl !== undefined) {
      c.stage.ttlMs = duration(st.ttl, 'stage.ttl');
      if (c.stage.ttlMs < 1000) fail('stage.ttl', 'must be at least 1s');
    }
    if (st.requireSecondApprover !== undefined) {
      if (typeof st.requireSecondApprover !== 'boolean') fail('stage.requireSecondApprover', 'must be true or false');
      c.stage.requireSecondApprover = st.requireSecondApprover;
    }
  }
  if (f.unpublish !== undefined && f.unpublish !== null) {
    const u = mapping(f.unpublish, 'unpublish');
    for (const key of Object.keys(u)) if (key !== 'reserveFor') fail(`unpublish.${key}`, 'unknown key');
    if (u.reserveFor !== undefined) {
      c.unpublish.reserveForMs = u.reserveFor === 0 ? 0 : duration(u.reserveFor, 'unpublish.reserveFor');
    }
  }
  applyOps(c, f);
  applyBlobs(c, f);
  if (f.auth !== undefined && f.auth !== null) c.auth = parseAuth(f.auth, dir);
  if (f.cache !== undefined && f.cache !== null) {
    const k = mapping(f.cache, 'cache');
    for (const key of Object.keys(k)) {
      if (key !== 'documentBytes' && key !== 'tarballBytes') fail(`cache.${key}`, 'unknown key');
      const n = k[key];
      if (!Number.isInteger(n) || (n as number) < 0) fail(`cache.${key}`, 'must be a whole number of bytes ≥ 0');
      c.cache = { ...c.cache, [key]: n as number };
    }
  }
  if (f.logLevel !== undefined)
    c.logLevel = oneOf(f.logLevel, 'logLevel', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const);
  return c;
}

export type ConfigFlags = { config?: string; data?: string; listen?: string };

/** Flags beat the file, the file beats defaults. */
export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Config {
  let c = structuredClone(defaults);
  const file = flags.config ?? env.TESSERA_CONFIG;
  if (file) c = applyFile(c, readFile(file), resolve(file, '..'), file);
  const data = flags.data ?? env.TESSERA_DATA;
  if (data) c.data = data;
  if (env.TESSERA_DATABASE_URL) c.database = databaseUrl(env.TESSERA_DATABASE_URL, 'TESSERA_DATABASE_URL');
  applyBlobsEnv(c, env);
  c.data = resolve(c.data);
  if (flags.listen) c.listen = parseListen(flags.listen);
  return c;
}
