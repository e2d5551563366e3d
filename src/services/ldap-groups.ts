// Directory groups → organization roles and teams (`auth.groups`), applied at each directory sign-in and
// periodic check. Kept minimal and in one function, applyDirectoryGroups(), so the shared mapping of
// issue 16 (services/directory-groups.ts, for OIDC too) can replace it whole.
//
// An organization named in the mapping is managed by the directory: a user's role in it is the highest
// role their groups give (a mapped team alone gives `developer`); without any, they leave it. A team named
// in the mapping has exactly the users its groups give; teams the mapping does not name are left alone.
import { bumpCounter } from '../store/counters.ts';
import { DEVELOPERS } from './orgs.ts';
import { audit, type Ctx } from './context.ts';

const RANK = { developer: 1, admin: 2, owner: 3 } as const;
type Role = keyof typeof RANK;
const isRole = (x: string): x is Role => Object.hasOwn(RANK, x);

type Wanted = { role: Role | null; teams: Set<string>; mappedTeams: Set<string> };

/** What the mapping asks of each organization it names, for a user in `groups`. */
export function wantedMemberships(mapping: Record<string, string>, groups: string[]): Map<string, Wanted> {
  const inGroup = new Set(groups);
  const out = new Map<string, Wanted>();
  for (const [group, target] of Object.entries(mapping)) {
    const [org, what] = target.split(':');
    let w = out.get(org);
    if (!w) out.set(org, (w = { role: null, teams: new Set(), mappedTeams: new Set() }));
    if (!isRole(what)) w.mappedTeams.add(what);
    if (!inGroup.has(group)) continue;
    const role: Role = isRole(what) ? what : 'developer';
    if (!w.role || RANK[role] > RANK[w.role]) w.role = role;
    if (!isRole(what)) w.teams.add(what);
  }
  return out;
}

/** Brings the user's memberships of the mapped organizations to what their directory groups say. */
export async function applyDirectoryGroups(
  ctx: Ctx, user: { id: number; name: string }, groups: string[],
): Promise<void> {
  const db = ctx.store.db;
  for (const [org, want] of wantedMemberships(ctx.config.auth.groups, groups)) {
    if (!(await db.selectFrom('orgs').select('name').where('name', '=', org).executeTakeFirst())) {
      ctx.log?.warn({ org }, 'auth.groups names an organization that does not exist (tessera org create)');
      continue;
    }
    const member = await db.selectFrom('org_members').select('role').where('org', '=', org)
      .where('user_id', '=', user.id).executeTakeFirst();
    const current = (member?.role ?? null) as Role | null;
    const teamRows = await db.selectFrom('team_members').select('team').where('org', '=', org)
      .where('user_id', '=', user.id).execute();
    const inTeams = new Set(teamRows.map((r) => r.team));
    const changes: Record<string, unknown>[] = [];
    if (current === 'owner' && want.role !== 'owner') {
      const owners = await db.selectFrom('org_members').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('org', '=', org).where('role', '=', 'owner').executeTakeFirstOrThrow();
      // The last-owner rule keeps the data whole: the directory cannot leave an organization ownerless.
      if (Number(owners.n) <= 1) {
        ctx.log?.warn({ org, user: user.name }, 'directory groups would remove the last owner: left unchanged');
        continue;
      }
    }
    await db.transaction().execute(async (trx) => {
      if (want.role === null) {
        if (current === null) return;
        await trx.deleteFrom('team_members').where('org', '=', org).where('user_id', '=', user.id).execute();
        await trx.deleteFrom('org_members').where('org', '=', org).where('user_id', '=', user.id).execute();
        changes.push({ event: 'org-member-removed', org, role: current });
      } else {
        if (current !== want.role) {
          await trx.insertInto('org_members').values({ org, user_id: user.id, role: want.role })
            .onConflict((oc) => oc.columns(['org', 'user_id']).doUpdateSet({ role: want.role as Role })).execute();
          const event = current ? 'org-role-changed' : 'org-member-added';
          changes.push({ event, org, role: want.role, from: current });
        }
        const teams = new Set([DEVELOPERS, ...want.teams]);
        for (const team of teams) {
          if (inTeams.has(team)) continue;
          await trx.insertInto('teams').values({ org, name: team, description: null, created_at: ctx.clock.now() })
            .onConflict((oc) => oc.doNothing()).execute();
          await trx.insertInto('team_members').values({ org, team, user_id: user.id }).execute();
          if (team !== DEVELOPERS) changes.push({ event: 'team-member-added', org, team });
        }
        for (const team of want.mappedTeams) {
          if (teams.has(team) || !inTeams.has(team)) continue;
          await trx.deleteFrom('team_members').where('org', '=', org).where('team', '=', team)
            .where('user_id', '=', user.id).execute();
          changes.push({ event: 'team-member-removed', org, team });
        }
      }
      // Who belongs where decides who may read and write which packages (read-cache.ts watches this).
      if (changes.length) await bumpCounter(trx, 'packages');
    });
    for (const { event, ...detail } of changes) {
      const about = { ...detail, member: user.name, via: 'ldap' };
      await audit(ctx, { event: event as string, user: user.name, detail: about });
    }
  }
}
