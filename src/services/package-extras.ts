// Small reads about packages that npm asks for besides the packument: `npm stars`, `npm access get
// status`, and provenance attestations (an upstream package's are forwarded). Each shows only packages the
// caller may read.
import { Refusal } from '../domain/reasons.ts';
import type { Principal } from '../domain/principal.ts';
import type { Ctx } from './context.ts';
import { visibleHead } from './read.ts';
import { starredPackagesOf } from '../store/stars.ts';
import { attachmentsOf } from '../store/versions.ts';
import semver from 'semver';
import { isReadableName } from '../domain/names.ts';
import { readCache } from './read-cache.ts';
import { mayServeProxied } from './proxy.ts';
import { upstreamAttestations } from './audit-forward.ts';

/** `npm stars <user>`: the packages the user starred that the caller may see. */
export async function starredBy(ctx: Ctx, p: Principal, userName: string): Promise<string[]> {
  const starred = await starredPackagesOf(ctx.store.db, userName);
  const visible: string[] = [];
  for (const name of starred) if (await visibleHead(ctx, p, name)) visible.push(name);
  return visible;
}

/** `pnpm stars`: the caller's own starred packages (GET /-/user/v1/star). */
export async function myStars(ctx: Ctx, p: Principal): Promise<string[]> {
  if (!p.user) throw new Refusal('auth-required', { action: 'list your stars' });
  return starredBy(ctx, p, p.user.name);
}

/** `npm access get status`: public or not, for callers who may read the package (others get a 404). */
export async function visibility(ctx: Ctx, p: Principal, name: string): Promise<{ public: boolean }> {
  const head = await visibleHead(ctx, p, name);
  if (!head) throw new Refusal('not-found');
  return { public: head.access === 'public' };
}

export type Attestation = { predicateType: string; bundle: unknown };

/** Provenance bundles uploaded with `npm publish --provenance`, as pacote asks for them (`<name>@<version>`),
 *  and the package's access, which says who may keep a copy (an upstream package's are public). */
export async function attestationsOf(
  ctx: Ctx,
  p: Principal,
  spec: string,
): Promise<{ attestations: Attestation[]; access: string }> {
  const at = spec.lastIndexOf('@');
  if (at <= 0) throw new Refusal('not-found');
  const name = spec.slice(0, at);
  const version = spec.slice(at + 1);
  const head = await visibleHead(ctx, p, name);
  if (head?.origin !== 'local') {
    return { attestations: await proxiedAttestations(ctx, name, version), access: 'public' };
  }
  const rows = await attachmentsOf(ctx.store.db, name, version);
  if (rows.length === 0) throw new Refusal('not-found');
  const attestations = rows.map((r) => {
    const bundle = JSON.parse(r.data) as { dsseEnvelope?: { payload?: string } };
    let predicateType = 'https://slsa.dev/provenance/v1';
    try {
      const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope?.payload ?? '', 'base64').toString('utf8')) as {
        predicateType?: string;
      };
      predicateType = statement.predicateType ?? predicateType;
    } catch {
      /* not an in-toto statement: keep the default */
    }
    return { predicateType, bundle };
  });
  return { attestations, access: head.access };
}

/** An upstream package's provenance, asked of the upstream only for a name that may go out: never one that
 *  is private, local (hidden from this caller or not) or in a local scope; those are absent, like any. */
async function proxiedAttestations(ctx: Ctx, name: string, version: string): Promise<Attestation[]> {
  if (!isReadableName(name) || semver.valid(version) !== version) throw new Refusal('not-found');
  const head = await readCache(ctx.store).head(name);
  if (head?.origin === 'local' || !(await mayServeProxied(ctx, name))) throw new Refusal('not-found');
  return (await upstreamAttestations(ctx, name, version)) as Attestation[];
}
