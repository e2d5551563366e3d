// Operations settings: who may scrape /-/metrics, the webhooks (`hooks:`) and how they are delivered,
// and the grace period of a shutdown. Parsed here to keep config.ts about the registry itself.
import { BlockList, isIPv6 } from 'node:net';
import { parseDuration } from './duration.ts';
import { ConfigError } from './config-error.ts';

/** `metrics.allow`: CIDR ranges and bearer secrets; any one entry admits a scraper. Empty: not served. */
export type MetricsConfig = { allowCidrs: string[]; allowBearers: string[] };

/** What a hook can hear about, in npm's hook event names. */
export const HOOK_EVENTS = [
  'package:publish',
  'package:unpublish',
  'package:dist-tag',
  'package:dist-tag-rm',
  'package:deprecated',
  'package:undeprecated',
  'package:owner',
  'package:owner-rm',
  'package:star',
  'package:unstar',
  'package:stage',
  'package:stage-approve',
  'package:stage-reject',
] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

/** Names earlier releases used for npm's `package:deprecated` and `package:undeprecated`: still accepted. */
const EVENT_ALIASES: Record<string, HookEvent> = {
  'package:deprecate': 'package:deprecated',
  'package:undeprecate': 'package:undeprecated',
};

export type HookConfig = {
  name: string;
  url: string;
  secret: string;
  events: HookEvent[];
  /** Only this package (exact name), or only this scope (`@acme`); null: every package. */
  package: string | null;
  scope: string | null;
  /** The user whose read rights the hook has; null: an anonymous reader (public packages only). */
  owner: string | null;
};

export type HookDeliveryConfig = { timeoutMs: number; attempts: number; backoffMs: number };

/** Hooks users make over npm's hooks API (/-/npm/v1/hooks). */
export type HookApiConfig = { maxPerUser: number };

export type OpsConfig = {
  metrics: MetricsConfig;
  hooks: HookConfig[];
  hookDelivery: HookDeliveryConfig;
  hookApi: HookApiConfig;
  /** After SIGTERM, /-/readyz answers 503 this long before the server stops taking requests. */
  shutdownDelayMs: number;
};

export const opsDefaults: OpsConfig = {
  metrics: { allowCidrs: [], allowBearers: [] },
  hooks: [],
  hookDelivery: { timeoutMs: 10_000, attempts: 12, backoffMs: 1_000 },
  hookApi: { maxPerUser: 100 },
  shutdownDelayMs: 0,
};

export const opsKeys = ['metrics', 'hooks', 'hookDelivery', 'hookApi', 'shutdownDelay'];

function fail(key: string, why: string): never {
  throw new ConfigError(key, why);
}

function mapping(v: unknown, key: string, allowed: string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(key, 'must be a mapping');
  for (const k of Object.keys(v)) if (!allowed.includes(k)) fail(`${key}.${k}`, 'unknown key');
  return v as Record<string, unknown>;
}

function text(v: unknown, key: string): string {
  if (typeof v !== 'string' || !v) fail(key, 'must be a non-empty string');
  return v;
}

function duration(v: unknown, key: string): number {
  try {
    return parseDuration(v as string);
  } catch (e) {
    fail(key, (e as Error).message);
  }
}

function cidr(v: string, key: string): string {
  const [addr, bits, extra] = v.split('/');
  const type = isIPv6(addr) ? 'ipv6' : 'ipv4';
  const n = Number(bits ?? (type === 'ipv6' ? 128 : 32));
  try {
    if (extra !== undefined || !Number.isInteger(n)) throw new Error();
    new BlockList().addSubnet(addr, n, type);
  } catch {
    fail(key, `"${v}" is not an address or CIDR range`);
  }
  return v;
}

function parseMetrics(v: unknown): MetricsConfig {
  const m = mapping(v, 'metrics', ['allow']);
  const out: MetricsConfig = { allowCidrs: [], allowBearers: [] };
  if (m.allow === undefined || m.allow === null) return out;
  if (!Array.isArray(m.allow)) fail('metrics.allow', 'must be a list of CIDR ranges and {bearer: SECRET}');
  m.allow.forEach((item, i) => {
    const key = `metrics.allow[${i}]`;
    if (typeof item === 'string') out.allowCidrs.push(cidr(item, key));
    else {
      const secret = text(mapping(item, key, ['bearer']).bearer, `${key}.bearer`);
      if (secret.length < 16) fail(`${key}.bearer`, 'must be at least 16 characters');
      out.allowBearers.push(secret);
    }
  });
  return out;
}

function parseHook(v: unknown, i: number): HookConfig {
  const key = `hooks[${i}]`;
  const h = mapping(v, key, ['name', 'url', 'secret', 'events', 'package', 'scope', 'owner']);
  const url = text(h.url, `${key}.url`);
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    /* refused below */
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) fail(`${key}.url`, 'must be an absolute http(s) URL');
  // As for hooks made over the API: fetch refuses such a URL, and its error, URL and all, would be logged.
  if (u.username || u.password) {
    fail(`${key}.url`, 'must not carry a user name or password (the receiver checks the signature instead)');
  }
  const secret = text(h.secret, `${key}.secret`);
  if (secret.length < 16) fail(`${key}.secret`, 'must be at least 16 characters');
  let events: HookEvent[] = [...HOOK_EVENTS];
  if (h.events !== undefined) {
    if (!Array.isArray(h.events) || h.events.length === 0) fail(`${key}.events`, 'must be a non-empty list');
    events = h.events.map((e, j) => {
      const event = EVENT_ALIASES[e as string] ?? e;
      if (!HOOK_EVENTS.includes(event as HookEvent))
        fail(`${key}.events[${j}]`, `must be one of ${HOOK_EVENTS.join(', ')}`);
      return event as HookEvent;
    });
  }
  const scope = h.scope === undefined || h.scope === null ? null : text(h.scope, `${key}.scope`);
  if (scope !== null && !/^@[^/@\s]+$/.test(scope)) fail(`${key}.scope`, 'must be a scope such as @acme');
  const pkg = h.package === undefined || h.package === null ? null : text(h.package, `${key}.package`);
  if (pkg !== null && scope !== null) fail(key, 'give package or scope, not both');
  const name = text(h.name, `${key}.name`);
  // The delivery queue names hooks made over the API `user-hook:<id>` (store/user-hooks.ts).
  if (name.startsWith('user-hook:')) fail(`${key}.name`, 'must not start with "user-hook:"');
  return {
    name,
    url,
    secret,
    events,
    package: pkg,
    scope,
    owner: h.owner === undefined || h.owner === null ? null : text(h.owner, `${key}.owner`),
  };
}

/** Applies the operations keys of a config file onto `c` (already a copy of the defaults or the previous layer). */
export function applyOps(c: OpsConfig, f: Record<string, unknown>): void {
  if (f.metrics !== undefined && f.metrics !== null) c.metrics = parseMetrics(f.metrics);
  if (f.hooks !== undefined && f.hooks !== null) {
    if (!Array.isArray(f.hooks)) fail('hooks', 'must be a list');
    c.hooks = f.hooks.map(parseHook);
    const names = c.hooks.map((h) => h.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) fail('hooks', `two hooks are named "${twice}"`);
  }
  if (f.hookDelivery !== undefined && f.hookDelivery !== null) {
    const d = mapping(f.hookDelivery, 'hookDelivery', ['timeout', 'attempts', 'backoff']);
    if (d.timeout !== undefined) c.hookDelivery.timeoutMs = duration(d.timeout, 'hookDelivery.timeout');
    if (d.backoff !== undefined) c.hookDelivery.backoffMs = duration(d.backoff, 'hookDelivery.backoff');
    if (d.attempts !== undefined) {
      if (!Number.isInteger(d.attempts) || (d.attempts as number) < 1)
        fail('hookDelivery.attempts', 'must be a whole number ≥ 1');
      c.hookDelivery.attempts = d.attempts as number;
    }
  }
  if (f.hookApi !== undefined && f.hookApi !== null) {
    const a = mapping(f.hookApi, 'hookApi', ['maxPerUser']);
    if (a.maxPerUser !== undefined) {
      if (!Number.isInteger(a.maxPerUser) || (a.maxPerUser as number) < 0)
        fail('hookApi.maxPerUser', 'must be a whole number ≥ 0');
      c.hookApi.maxPerUser = a.maxPerUser as number;
    }
  }
  if (f.shutdownDelay !== undefined)
    c.shutdownDelayMs = f.shutdownDelay === 0 ? 0 : duration(f.shutdownDelay, 'shutdownDelay');
}
