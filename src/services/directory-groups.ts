// Company directory groups → organization roles and teams, and deprovisioning: shared by every company
// sign-in (OpenID Connect, LDAP). The config maps a group to "org:owner", "org:admin" or "org:<team>"
// ("org:developers" is plain membership). An organization named in the mapping is the directory's: its
// members and mapped teams follow the groups at each sign-in and refresh; unmapped orgs and teams are
// left to their owners. Changes go through orgs.ts's service functions, as a registry administrator
// named after the directory, so the rules, audit events and cache invalidation are the ones `npm org`
// and `npm team` get. Policy reads memberships per request, so a user's tokens lose what the user lost.
import { Refusal } from '../domain/reasons.ts';
import type { DirectoryRemoval, OrgRole } from '../domain/policy.ts';
import type { Principal } from '../domain/principal.ts';
import { createOrg, createTeam, DEVELOPERS, removeMember, setMember, teamMember } from './orgs.ts';
import { disableUser, userByName } from './accounts.ts';
import { audit, type Ctx } from './context.ts';
import { clearRemoval, latestRemoval, recordRemoval } from '../store/directory-removals.ts';
import { isTeamMember, orgExists, orgRoleOf, teamExists } from '../store/orgs.ts';

/** The config's `auth.groups`: directory group name → "org:role" or "org:team". */
export type GroupMapping = Record<string, string>;

export type GroupTarget = { org: string; role: OrgRole | null; team: string | null };

const ROLE_RANK: Record<OrgRole, number> = { developer: 0, admin: 1, owner: 2 };

/** "acme:owner" | "acme:admin" → a role; "acme:developers" → membership; "acme:<team>" → that team. */
export function parseGroupTarget(text: string): GroupTarget {
  const m = /^([a-z0-9][a-z0-9._-]*):([a-z0-9][a-z0-9._-]*)$/.exec(text);
  if (!m) throw new Error(`"${text}" must be "org:owner", "org:admin" or "org:<team>"`);
  const [, org, what] = m;
  if (what === 'owner' || what === 'admin') return { org, role: what, team: null };
  if (what === DEVELOPERS || what === 'developer') return { org, role: 'developer', team: null };
  return { org, role: 'developer', team: what };
}

export type Desired = Map<string, { role: OrgRole; teams: Set<string> }>;

/** What the user's groups entitle them to, in the orgs the mapping manages (pure). */
export function desiredMemberships(mapping: GroupMapping, groups: readonly string[]): Desired {
  const out: Desired = new Map();
  for (const g of groups) {
    const target = mapping[g];
    if (!target) continue;
    const t = parseGroupTarget(target);
    const cur = out.get(t.org) ?? { role: 'developer' as OrgRole, teams: new Set<string>() };
    if (t.role && ROLE_RANK[t.role] > ROLE_RANK[cur.role]) cur.role = t.role;
    if (t.team) cur.teams.add(t.team);
    out.set(t.org, cur);
  }
  return out;
}

/** Every org the mapping manages, with the teams it names. */
export function managedOrgs(mapping: GroupMapping): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const target of Object.values(mapping)) {
    const t = parseGroupTarget(target);
    const teams = out.get(t.org) ?? new Set<string>();
    if (t.team) teams.add(t.team);
    out.set(t.org, teams);
  }
  return out;
}

/** The directory acting through orgs.ts: a registry administrator that is no account (id 0 matches no row). */
function directoryPrincipal(source: string): Principal {
  return {
    user: { id: 0, name: `directory:${source}`, email: '', admin: true, emailVerified: true, tfa: null },
    credential: { type: 'password' },
    otpVerified: true,
  };
}

export type GroupChange = { org: string; team?: string; change: string };

/**
 * Makes the user's memberships in the managed orgs follow `groups`. Returns what changed (also in the audit
 * log, as the org events plus one `directory-groups-applied`). A change the data cannot take (demoting an
 * org's last owner) is skipped and reported, never half-done.
 */
export async function applyGroups(
  ctx: Ctx,
  userName: string,
  groups: readonly string[],
  source: string,
  mapping: GroupMapping,
): Promise<GroupChange[]> {
  const user = await userByName(ctx, userName);
  if (!user) throw new Refusal('unknown-user', { name: userName });
  const p = directoryPrincipal(source);
  const want = desiredMemberships(mapping, groups);
  const changes: GroupChange[] = [];
  for (const [org, teams] of managedOrgs(mapping)) {
    const d = want.get(org);
    if (!(await orgExists(ctx.store.db, org))) {
      // An org needs an owner: the first owner the directory names creates it.
      if (d?.role !== 'owner') continue;
      await createOrg(ctx, org, user.name);
      changes.push({ org, change: 'created with this user as owner' });
    }
    const current = (await orgRoleOf(ctx.store.db, org, user.id)) as OrgRole | null;
    try {
      if (!d && current) {
        await removeMember(ctx, p, org, user.name);
        await recordRemoval(ctx.store.db, { user_id: user.id, org, team: '', source, at: ctx.clock.now() });
        changes.push({ org, change: `removed (was ${current})` });
        continue;
      }
      if (!d) continue;
      if (current !== d.role) {
        await setMember(ctx, p, org, user.name, d.role);
        if (!current) await clearRemoval(ctx.store.db, user.id, org, null);
        changes.push({ org, change: current ? `role ${current} → ${d.role}` : `added as ${d.role}` });
      }
    } catch (e) {
      if (!(e instanceof Refusal) || e.reason !== 'last-org-owner') throw e;
      changes.push({ org, change: 'kept: the last owner of the organization' });
      const detail = { org, member: user.name, why: e.reason };
      await audit(ctx, { event: 'directory-change-skipped', user: p.user?.name, detail });
      continue;
    }
    if (!d) continue;
    for (const team of teams) {
      const inTeam = await isTeamMember(ctx.store.db, org, team, user.id);
      const should = d.teams.has(team);
      if (should === inTeam) continue;
      if (should) {
        const description = `Managed by the company directory (${source})`;
        if (!(await teamExists(ctx.store.db, org, team))) await createTeam(ctx, p, org, { name: team, description });
      }
      await teamMember(ctx, p, org, team, user.name, should);
      if (should) await clearRemoval(ctx.store.db, user.id, org, team);
      else await recordRemoval(ctx.store.db, { user_id: user.id, org, team, source, at: ctx.clock.now() });
      changes.push({ org, team, change: should ? 'added' : 'removed' });
    }
  }
  await audit(ctx, { event: 'directory-groups-applied', user: user.name, detail: { source, groups, changes } });
  return changes;
}

/** The latest membership in `org` the directory took from the user, with the groups that would give it back. */
export async function removalFor(ctx: Ctx, userId: number, org: string): Promise<DirectoryRemoval | undefined> {
  const r = await latestRemoval(ctx.store.db, userId, org);
  if (!r) return undefined;
  const target = r.team ? `${org}:${r.team}` : org;
  const groups = Object.entries(ctx.config.auth.groups)
    .filter(([, t]) => {
      const g = parseGroupTarget(t);
      return g.org === org && (r.team ? g.team === r.team : true);
    })
    .map(([group]) => group);
  return { target, groups, at: r.at, source: r.source };
}

/**
 * A user the directory no longer knows or the provider refuses: the account is disabled and every token
 * revoked (accounts.ts's disable), with the reason in the audit log and on the revoked tokens.
 */
export async function deprovision(ctx: Ctx, userName: string, source: string, why: string): Promise<void> {
  const user = await userByName(ctx, userName);
  if (!user || user.disabled) return;
  await disableUser(ctx, userName, `deprovisioned by ${source}: ${why}`);
  await audit(ctx, { event: 'user-deprovisioned', user: userName, detail: { source, why } });
}
