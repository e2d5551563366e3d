// What a package's settings page shows, and to whom. No rule of its own: each section is there when the
// policy allows its action (decideFor, as the API asks it), and says whether a one-time password is needed.
// A caller the policy allows none of them (a hidden or missing package among others) gets not-found.
import { distTagsOf, packageHead } from '../store/packages.ts';
import { maintainerNamesOf } from '../store/maintainers.ts';
import { liveDeprecations, liveVersionCount } from '../store/versions.ts';
import type { Decision } from '../domain/policy.ts';
import type { Principal } from '../domain/principal.ts';
import { Refusal } from '../domain/reasons.ts';
import type { Ctx } from './context.ts';
import { decideFor, type PackageAction } from './decide.ts';
import { factsFor } from './read.ts';
import { listStaged, type StageItem } from './stage.ts';
import { listTrust } from './trust.ts';

export const SETTINGS_ACTIONS = [
  'access',
  'owner',
  'dist-tag',
  'deprecate',
  'trust-list',
  'trust',
  'stage-view',
  'stage-review',
] as const;
export type SettingsAction = (typeof SETTINGS_ACTIONS)[number];
/** Actions that make the settings page visible (reviewing needs stage-view first). */
const OPENS: readonly SettingsAction[] = ['access', 'owner', 'dist-tag', 'deprecate', 'trust-list', 'stage-view'];

export type Decisions = Record<SettingsAction, Decision>;

/** The policy's decision for every settings action, without a one-time password (none is sent to look). */
async function decisions(ctx: Ctx, p: Principal, name: string) {
  const facts = await factsFor(ctx, p, name);
  const out = {} as Decisions;
  for (const a of SETTINGS_ACTIONS) out[a] = decideFor(ctx, p, a as PackageAction, facts);
  return { facts, decisions: out };
}

/** Whether the package page links to the settings: the same test the settings page itself makes. */
export async function mayManage(ctx: Ctx, p: Principal, name: string): Promise<boolean> {
  if (p.user === null) return false;
  const { decisions: d } = await decisions(ctx, p, name);
  return OPENS.some((a) => d[a].allowed);
}

export type TrustRow = Awaited<ReturnType<typeof listTrust>>[number];

export type Settings = {
  name: string;
  access: 'public' | 'restricted';
  mfa: 'none' | 'publish' | 'automation';
  scoped: boolean;
  maintainers: string[];
  distTags: Record<string, string>;
  versionCount: number;
  trust: TrustRow[] | null;
  staged: StageItem[] | null;
  decisions: Decisions;
  /** Generic OIDC issuers configured on this registry, by name (trusted publishers can name them). */
  genericIssuers: string[];
};

export async function packageSettings(ctx: Ctx, p: Principal, name: string): Promise<Settings> {
  if (p.user === null) throw new Refusal('not-found');
  const { facts, decisions: d } = await decisions(ctx, p, name);
  if (!facts.exists || !facts.head || !OPENS.some((a) => d[a].allowed)) throw new Refusal('not-found');
  const db = ctx.store.db;
  const maintainers = await maintainerNamesOf(db, name);
  const distTags = await distTagsOf(db, name);
  // A count, not rows: for a package of thousands of versions, one look at an index (versions_published).
  const versionCount = await liveVersionCount(db, name);
  return {
    name,
    access: facts.access,
    mfa: facts.mfa ?? 'none',
    scoped: name.startsWith('@'),
    maintainers,
    distTags,
    versionCount,
    trust: d['trust-list'].allowed ? await listTrust(ctx, p, name) : null,
    staged: d['stage-view'].allowed ? (await listStaged(ctx, p, { package: name, perPage: 1000 })).items : null,
    decisions: d,
    genericIssuers: ctx.config.oidc.issuers.filter((i) => i.type === 'generic').map((i) => i.name),
  };
}

/** The versions as `npm deprecate` sends them back: every live version with its current message. */
export async function deprecationDocument(ctx: Ctx, name: string, version: string, message: string) {
  const rows = await liveDeprecations(ctx.store.db, name);
  const head = await packageHead(ctx.store.db, name);
  const versions = Object.fromEntries(rows.map((r) => [r.version, { deprecated: r.deprecated ?? undefined }]));
  // An unknown version is sent as such: the service refuses it as it refuses npm's.
  versions[version] = { deprecated: message || undefined };
  return { _rev: head ? String(head.rev) : undefined, versions };
}
