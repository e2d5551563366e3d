// Organizations, their members, teams and team grants on packages. Every write that changes who belongs
// where, or what a team may reach, moves the `packages` counter in the same transaction: it changes who
// may read which packages, and read caches keep their decisions until that counter moves.
import type { Db } from './store.ts';
import type { OrgRow, TeamPackageRow } from './schema.ts';
import { bumpCounter } from './counters.ts';
import { lockOrg, lockTeam } from './locks.ts';

/** The team every member of an organization is in. */
export const DEVELOPERS = 'developers';

export async function orgExists(db: Db, org: string): Promise<boolean> {
  return (await db.selectFrom('orgs').select('name').where('name', '=', org).executeTakeFirst()) !== undefined;
}

/** The user's role in the org as stored (owner, admin, developer), or null for a non-member. */
export async function orgRoleOf(db: Db, org: string, userId: number): Promise<string | null> {
  const m = await db
    .selectFrom('org_members')
    .select('role')
    .where('org', '=', org)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return m?.role ?? null;
}

export async function orgOwnerCount(db: Db, org: string): Promise<number> {
  const r = await db
    .selectFrom('org_members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('org', '=', org)
    .where('role', '=', 'owner')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** A new organization: its owner, and the developers team holding every member. */
export async function insertOrg(db: Db, org: { name: string; ownerId: number; now: number }): Promise<void> {
  const { name, ownerId, now } = org;
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('orgs').values({ name, created_at: now }).execute();
    await trx.insertInto('org_members').values({ org: name, user_id: ownerId, role: 'owner' }).execute();
    await trx
      .insertInto('teams')
      .values({ org: name, name: DEVELOPERS, description: 'Every member of the organization', created_at: now })
      .execute();
    await trx.insertInto('team_members').values({ org: name, team: DEVELOPERS, user_id: ownerId }).execute();
    await bumpCounter(trx, 'packages');
  });
}

/** Every organization, by name. */
export async function allOrgs(db: Db): Promise<OrgRow[]> {
  return db.selectFrom('orgs').select(['name', 'created_at']).orderBy('name').execute();
}

export type OrgMembership = { org: string; name: string; role: string };

/** The members of one org, or of every org when `org` is undefined, by org then user name. */
export async function orgMembers(db: Db, org?: string): Promise<OrgMembership[]> {
  let q = db
    .selectFrom('org_members')
    .innerJoin('users', 'users.id', 'org_members.user_id')
    .select(['org_members.org', 'users.name', 'org_members.role']);
  if (org !== undefined) q = q.where('org_members.org', '=', org);
  return q.orderBy('org_members.org').orderBy('users.name').execute();
}

/** Whether taking `userId` out of the owners (by a new role or removal) would leave the org none; read in the
 *  writer's transaction, after lockOrg, so two owners stepping down at once cannot both pass. */
async function lastOwner(trx: Db, org: string, userId: number, role: string | null): Promise<boolean> {
  if (role === 'owner' || (await orgRoleOf(trx, org, userId)) !== 'owner') return false;
  return (await orgOwnerCount(trx, org)) <= 1;
}

/** Adds the user to the org with `role` (or changes their role), and to its developers team. Returns false,
 *  changing nothing, when that would leave the org without an owner. */
export async function setOrgMember(db: Db, org: string, userId: number, role: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    await lockOrg(trx, org);
    if (await lastOwner(trx, org, userId, role)) return false;
    await trx
      .insertInto('org_members')
      .values({ org, user_id: userId, role })
      .onConflict((oc) => oc.columns(['org', 'user_id']).doUpdateSet({ role }))
      .execute();
    await trx
      .insertInto('team_members')
      .values({ org, team: DEVELOPERS, user_id: userId })
      .onConflict((oc) => oc.doNothing())
      .execute();
    await bumpCounter(trx, 'packages');
    return true;
  });
}

/** Takes the user out of the org and every team of it. Returns false, changing nothing, when they are its last
 *  owner. */
export async function removeOrgMember(db: Db, org: string, userId: number): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    await lockOrg(trx, org);
    if (await lastOwner(trx, org, userId, null)) return false;
    await trx.deleteFrom('team_members').where('org', '=', org).where('user_id', '=', userId).execute();
    await trx.deleteFrom('org_members').where('org', '=', org).where('user_id', '=', userId).execute();
    await bumpCounter(trx, 'packages');
    return true;
  });
}

// --- teams

export async function teamExists(db: Db, org: string, team: string): Promise<boolean> {
  const t = await db
    .selectFrom('teams')
    .select('name')
    .where('org', '=', org)
    .where('name', '=', team)
    .executeTakeFirst();
  return t !== undefined;
}

/** False when the org already has a team of that name. */
export async function insertTeam(
  db: Db,
  team: { org: string; name: string; description: string | null; now: number },
): Promise<boolean> {
  const r = await db
    .insertInto('teams')
    .values({ org: team.org, name: team.name, description: team.description, created_at: team.now })
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** The team, its members and its grants. */
export async function deleteTeam(db: Db, org: string, team: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    // First: a grant or member being written for the team is committed before its rows are deleted.
    await lockTeam(trx, org, team);
    await trx.deleteFrom('team_packages').where('org', '=', org).where('team', '=', team).execute();
    await trx.deleteFrom('team_members').where('org', '=', org).where('team', '=', team).execute();
    await trx.deleteFrom('teams').where('org', '=', org).where('name', '=', team).execute();
    await bumpCounter(trx, 'packages');
  });
}

/** The org's team names, sorted. */
export async function teamNames(db: Db, org: string): Promise<string[]> {
  const rows = await db.selectFrom('teams').select('name').where('org', '=', org).orderBy('name').execute();
  return rows.map((r) => r.name);
}

/** False, writing nothing, when the team is gone (destroyed since the caller looked). */
async function teamHeld(trx: Db, org: string, team: string): Promise<boolean> {
  await lockTeam(trx, org, team);
  return teamExists(trx, org, team);
}

/** Adds a member of the org to the team: 'no-team' when the team does not exist, 'not-member' when the user is not
 *  in the org (both looked at in the transaction, under the org's lock that removeOrgMember takes, then the
 *  team's), so a removal from the org and a team add at once never leave a team member outside the org. */
export async function addTeamMember(
  db: Db,
  org: string,
  team: string,
  userId: number,
): Promise<'added' | 'no-team' | 'not-member'> {
  return db.transaction().execute(async (trx) => {
    await lockOrg(trx, org);
    if (!(await teamHeld(trx, org, team))) return 'no-team';
    if ((await orgRoleOf(trx, org, userId)) === null) return 'not-member';
    await trx
      .insertInto('team_members')
      .values({ org, team, user_id: userId })
      .onConflict((oc) => oc.doNothing())
      .execute();
    await bumpCounter(trx, 'packages');
    return 'added';
  });
}

/** Takes the user out of the team; false when they were not in it. */
export async function removeTeamMember(db: Db, org: string, team: string, userId: number): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const r = await trx
      .deleteFrom('team_members')
      .where('org', '=', org)
      .where('team', '=', team)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) return false;
    await bumpCounter(trx, 'packages');
    return true;
  });
}

export async function isTeamMember(db: Db, org: string, team: string, userId: number): Promise<boolean> {
  const r = await db
    .selectFrom('team_members')
    .select('team')
    .where('org', '=', org)
    .where('team', '=', team)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return r !== undefined;
}

/** The team's members' user names, sorted. */
export async function teamMemberNames(db: Db, org: string, team: string): Promise<string[]> {
  const rows = await db
    .selectFrom('team_members')
    .innerJoin('users', 'users.id', 'team_members.user_id')
    .select('users.name')
    .where('org', '=', org)
    .where('team', '=', team)
    .orderBy('users.name')
    .execute();
  return rows.map((r) => r.name);
}

// --- team grants on packages

export type TeamGrantRow = Pick<TeamPackageRow, 'package' | 'permission'>;

/** Grants the team `permission` (read-only, read-write) on the package, replacing what it had; false when the
 *  team does not exist. */
export async function grantTeamPackage(db: Db, grant: TeamPackageRow): Promise<boolean> {
  const { permission } = grant;
  return db.transaction().execute(async (trx) => {
    if (!(await teamHeld(trx, grant.org, grant.team))) return false;
    await trx
      .insertInto('team_packages')
      .values(grant)
      .onConflict((oc) => oc.columns(['org', 'team', 'package']).doUpdateSet({ permission }))
      .execute();
    await bumpCounter(trx, 'packages');
    return true;
  });
}

export async function revokeTeamPackage(db: Db, org: string, team: string, pkg: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('team_packages')
      .where('org', '=', org)
      .where('team', '=', team)
      .where('package', '=', pkg)
      .execute();
    await bumpCounter(trx, 'packages');
  });
}

/** The grants of one team, or of every team of the org when `team` is undefined, by package. */
export async function teamGrants(db: Db, org: string, team?: string): Promise<TeamGrantRow[]> {
  let q = db.selectFrom('team_packages').select(['package', 'permission']).where('org', '=', org);
  if (team !== undefined) q = q.where('team', '=', team);
  return q.orderBy('package').execute();
}

/** The packages a user's teams were granted, by name (the permission is in the package's facts for that user). */
export async function packagesGrantedTo(db: Db, userId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('team_packages')
    .innerJoin('team_members', (j) =>
      j.onRef('team_members.org', '=', 'team_packages.org').onRef('team_members.team', '=', 'team_packages.team'),
    )
    .select('team_packages.package')
    .distinct()
    .where('team_members.user_id', '=', userId)
    .orderBy('team_packages.package')
    .execute();
  return rows.map((r) => r.package);
}

/** Every member of a team granted the package, with that team's permission (a user may appear once per team). */
export async function packageTeamMembers(db: Db, pkg: string): Promise<{ name: string; permission: string }[]> {
  return db
    .selectFrom('team_packages')
    .innerJoin('team_members', (j) =>
      j.onRef('team_members.org', '=', 'team_packages.org').onRef('team_members.team', '=', 'team_packages.team'),
    )
    .innerJoin('users', 'users.id', 'team_members.user_id')
    .select(['users.name', 'team_packages.permission'])
    .where('team_packages.package', '=', pkg)
    .orderBy('users.name')
    .execute();
}
