// `npm audit` behind Tessera: the bulk and quick advisory endpoints are forwarded to the upstream, with
// every name that is private here taken out first (a private name is never sent out). Without an
// upstream that answers, the audit fails with a reason npm prints, never an empty "0 vulnerabilities".
// `npm audit signatures` gets the upstream's signing keys.
import { Refusal } from '../domain/reasons.ts';
import { escapeName, scopeOf } from '../domain/names.ts';
import type { Ctx } from './context.ts';
import { readCache } from './read-cache.ts';
import { isPrivateName, scopeIsLocal } from './proxy.ts';
import { upstreamRequest } from './upstream.ts';

export type AuditKind = 'bulk' | 'quick';
const PATHS: Record<AuditKind, string> = {
  bulk: '-/npm/v1/security/advisories/bulk',
  quick: '-/npm/v1/security/audits/quick',
};

/** Decides per name, once per request: private by config, a local package, or in a local scope. */
function publicNames(ctx: Ctx): (name: string) => Promise<boolean> {
  const scopes = new Map<string, boolean>();
  return async (name) => {
    if (isPrivateName(ctx, name)) return false;
    const head = await readCache(ctx.store).head(name);
    if (head && head.origin === 'local') return false;
    const scope = scopeOf(name);
    if (!scope) return true;
    let local = scopes.get(scope);
    if (local === undefined) {
      local = await scopeIsLocal(ctx, name);
      scopes.set(scope, local);
    }
    return !local;
  };
}

type Tree = { requires?: Record<string, unknown>; dependencies?: Record<string, Tree> };

/** The quick endpoint's lockfile-shaped tree without private names, at every depth. */
async function filterTree(tree: Tree, isPublic: (name: string) => Promise<boolean>): Promise<Tree> {
  const out: Tree = { ...tree };
  if (tree.requires && typeof tree.requires === 'object') {
    out.requires = {};
    for (const [name, range] of Object.entries(tree.requires)) if (await isPublic(name)) out.requires[name] = range;
  }
  if (tree.dependencies && typeof tree.dependencies === 'object') {
    out.dependencies = {};
    for (const [name, dep] of Object.entries(tree.dependencies)) {
      if (await isPublic(name)) out.dependencies[name] = await filterTree(dep ?? {}, isPublic);
    }
  }
  return out;
}

export async function forwardAudit(ctx: Ctx, kind: AuditKind, body: unknown): Promise<unknown> {
  const upstream = ctx.config.upstream.url;
  if (!upstream) throw new Refusal('audit-unavailable', { detail: 'this registry has none and no upstream to ask' });
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new Refusal('bad-json', { detail: 'expected a JSON object' });
  }
  const isPublic = publicNames(ctx);
  let outgoing: Record<string, unknown>;
  if (kind === 'bulk') {
    outgoing = {};
    for (const [name, versions] of Object.entries(body)) if (await isPublic(name)) outgoing[name] = versions;
    // Asked even with nothing left to ask about, as the quick endpoint is: answering `{}` here at once would
    // tell a caller that a name the upstream would have been asked about is a package here, hidden or not.
  } else {
    outgoing = await filterTree(body as Tree, isPublic);
    // The project's own name and the names an install adds or removes are names too (npm 6's quick body).
    if (typeof outgoing.name === 'string' && !(await isPublic(outgoing.name))) delete outgoing.name;
    for (const field of ['install', 'remove']) {
      const names = outgoing[field];
      if (!Array.isArray(names)) continue;
      const kept = [];
      for (const n of names) if (typeof n === 'string' && (await isPublic(n))) kept.push(n);
      outgoing[field] = kept;
    }
  }
  const init = { accept: 'application/json', method: 'POST', body: JSON.stringify(outgoing) } as const;
  return upstreamRequest(ctx, `${upstream}${PATHS[kind]}`, init, async (res) => {
    if (!res.ok) {
      await res.discard();
      throw new Refusal('audit-unavailable', { detail: `the upstream registry answered ${res.status}` });
    }
    return res.json();
  });
}

/**
 * The upstream's registry signing keys (`npm audit signatures` asks for them when Sigstore's TUF repository
 * has none for this registry). Cached upstream packuments keep the upstream's signatures, which cover only
 * name, version and integrity, so they verify with these keys here too; a local package has no signature,
 * and npm says so.
 */
export async function upstreamKeys(ctx: Ctx): Promise<unknown> {
  const upstream = ctx.config.upstream.url;
  if (!upstream) throw new Refusal('not-found');
  return upstreamRequest(ctx, `${upstream}-/npm/v1/keys`, { accept: 'application/json' }, async (res) => {
    if (res.status === 404) {
      await res.discard();
      throw new Refusal('not-found');
    }
    if (!res.ok) throw new Refusal('upstream-unavailable', { detail: `upstream answered ${res.status}` });
    return res.json(1024 * 1024);
  });
}

/**
 * Provenance of an upstream package (`dist.attestations.url` of a proxied version points here): the
 * upstream's answer, passed on. The caller has checked that `name` may be asked of the upstream.
 */
export async function upstreamAttestations(ctx: Ctx, name: string, version: string): Promise<unknown> {
  const upstream = ctx.config.upstream.url;
  if (!upstream) throw new Refusal('not-found');
  const url = `${upstream}-/npm/v1/attestations/${escapeName(name)}@${encodeURIComponent(version)}`;
  return upstreamRequest(ctx, url, { accept: 'application/json' }, async (res) => {
    if (res.status === 404) {
      await res.discard();
      throw new Refusal('not-found');
    }
    if (!res.ok) {
      await res.discard();
      throw new Refusal('upstream-unavailable', { detail: `upstream answered ${res.status}` });
    }
    const body = (await res.json(16 * 1024 * 1024)) as { attestations?: unknown };
    if (!Array.isArray(body?.attestations)) {
      throw new Refusal('upstream-unavailable', { detail: 'the upstream sent no attestations list' });
    }
    return body.attestations;
  });
}
