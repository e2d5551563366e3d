// How npm connects to a registry, as npm 11 decides it: the proxy (@npmcli/agent's rules), the CA list (npm's
// layers flattened in order) and the client certificate of the credential's key.
import { readFileSync } from 'node:fs';
import type { DoctorContext, Target } from './context.ts';
import { noProxyList } from './npm-config.ts';

/** The proxy npm would use for `url` (reference §4.3 "Proxy errors"; @npmcli/agent's getProxy). */
export function proxyFor(ctx: DoctorContext, url: string): string | undefined {
  const u = new URL(url);
  // @npmcli/agent reads proxy variables in any letter case, the last one set winning.
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(ctx.cfg.env)) {
    const key = k.toLowerCase();
    if (key === 'https_proxy' || key === 'http_proxy' || key === 'proxy') env[key] = v;
  }
  // Host name suffixes, compared segment by segment (`.corp.example` and `corp.example` alike).
  const hostSegments = u.hostname.split('.').reverse();
  const bypass = noProxyList(ctx.cfg)
    .list.map((s) => s.split('.').filter(Boolean).reverse())
    .some((no) => no.length > 0 && no.every((seg, i) => hostSegments[i] === seg));
  if (bypass) return undefined;
  const proxy = ctx.cfg.getString('https-proxy') || ctx.cfg.getString('proxy');
  if (proxy) return proxy;
  return (u.protocol === 'https:' ? env.https_proxy : env.https_proxy || env.http_proxy || env.proxy) || undefined;
}

/**
 * The CA list npm passes to TLS. npm flattens its layers from the lowest (builtin) to the highest (cli), key
 * by key in file order, and `ca` and a readable `cafile` each replace it: a project `cafile` beats a user
 * `ca`. A missing cafile changes nothing (cafile-problem reports it).
 */
export function caFor(ctx: DoctorContext): string[] | undefined {
  let ca: string[] | undefined;
  for (const where of ['builtin', 'global', 'user', 'project', 'env', 'cli'] as const) {
    for (const key of ctx.cfg.keysIn(where)) {
      const value = ctx.cfg.raw.get(key, where);
      if (key === 'ca') ca = value ? (Array.isArray(value) ? value : [value]).map(String) : undefined;
      if (key !== 'cafile' || typeof value !== 'string' || !value) continue;
      try {
        const text = readFileSync(value, 'utf8');
        if (text) ca = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      } catch {
        /* npm skips it */
      }
    }
  }
  return ca;
}

/**
 * The client certificate npm presents to this registry: `certfile` and `keyfile` under the key lookup A
 * matched (beside a token or alone), read the way npm reads them (a missing file: none).
 */
export function clientCertificate(ctx: DoctorContext, t: Target): { cert?: string; key?: string } {
  const regKey = t.credential.regKey;
  if (!regKey) return {};
  const certfile = ctx.cfg.getString(`${regKey}:certfile`);
  const keyfile = ctx.cfg.getString(`${regKey}:keyfile`);
  if (!certfile || !keyfile) return {};
  try {
    return { cert: readFileSync(certfile, 'utf8'), key: readFileSync(keyfile, 'utf8') };
  } catch {
    return {};
  }
}
