// Organizations, teams and team grants: `npm org`, `npm team`, `npm access grant|revoke|list`.
// Every action asks authorizeOrg(); membership changes go to the audit log. Every change of who belongs
// where, or of what a team may reach, moves the `packages` counter: it changes who may read which
// packages, and the read path remembers its decisions until that counter moves (read-cache.ts).
import { Refusal } from '../domain/reasons.ts';
import {
  authorizeCollaborators,
  authorizeOrg,
  authorizeOrgMember,
  type Decision,
  type OrgAction,
  type OrgFacts,
  type OrgRole,
} from '../domain/policy.ts';
import type { Principal } from '../domain/principal.ts';
import type { OrgMember, TeamCreate, TeamGrant } from '../domain/commands.ts';
import { scopeOf } from '../domain/names.ts';
import type { Db } from '../store/store.ts';
import { bumpCounter } from '../store/counters.ts';
import { audit, type Ctx } from './context.ts';
import { deny } from './deny.ts';
import { requireSecondFactor } from './two-factor.ts';
import { userByName, validateUserName } from './accounts.ts';
import { factsFor, readableNames } from './read.ts';

const ROLES: OrgRole[] = ['owner', 'admin', 'developer'];
export const DEVELOPERS = 'developers';

async function orgRole(db: Db, org: string, userId: number | undefined): Promise<OrgRole | null> {
  if (userId === undefined) return null;
  const m = await db
    .selectFrom('org_members')
    .select('role')
    .where('org', '=', org)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return (m?.role ?? null) as OrgRole | null;
}

async function orgFacts(ctx: Ctx, p: Principal, org: string): Promise<OrgFacts> {
  const exists = await ctx.store.db.selectFrom('orgs').select('name').where('name', '=', org).executeTakeFirst();
  return { name: org, exists: exists !== undefined, role: await orgRole(ctx.store.db, org, p.user?.id) };
}

/** Authorizes an org action for the caller and asks for the second factor when the decision needs it. */
async function allowOrg(ctx: Ctx, p: Principal, action: OrgAction, org: string): Promise<void> {
  const d = authorizeOrg(p, action, await orgFacts(ctx, p, org));
  if (!d.allowed) throw await deny(ctx, p, d, `@${org}`);
  await requireSecondFactor(ctx, p, d);
}

async function refuseUnless(ctx: Ctx, p: Principal, d: Decision, org: string): Promise<void> {
  if (!d.allowed) throw await deny(ctx, p, d, `@${org}`);
}

async function mustUser(ctx: Ctx, name: unknown) {
  if (typeof name !== 'string' || !name) throw new Refusal('invalid-request', { detail: '"user" is required' });
  const u = await userByName(ctx, name);
  if (!u) throw new Refusal('unknown-user', { name });
  return u;
}

export async function createOrg(ctx: Ctx, name: string, ownerName: string): Promise<void> {
  validateUserName(name);
  const owner = await userByName(ctx, ownerName);
  if (!owner) throw new Refusal('unknown-user', { name: ownerName });
  // The user's scope becomes the organization's only when that user owns it.
  if (name !== owner.name && (await userByName(ctx, name))) throw new Refusal('name-taken', { name, by: 'user' });
  if (await ctx.store.db.selectFrom('orgs').select('name').where('name', '=', name).executeTakeFirst()) {
    throw new Refusal('invalid-request', { detail: `The organization ${name} already exists` });
  }
  const now = ctx.clock.now();
  await ctx.store.db.transaction().execute(async (trx) => {
    await trx.insertInto('orgs').values({ name, created_at: now }).execute();
    await trx.insertInto('org_members').values({ org: name, user_id: owner.id, role: 'owner' }).execute();
    await trx
      .insertInto('teams')
      .values({ org: name, name: DEVELOPERS, description: 'Every member of the organization', created_at: now })
      .execute();
    await trx.insertInto('team_members').values({ org: name, team: DEVELOPERS, user_id: owner.id }).execute();
    await bumpCounter(trx, 'packages');
  });
  await audit(ctx, { event: 'org-created', user: ownerName, detail: { org: name } });
}

export async function listMembers(ctx: Ctx, p: Principal, org: string): Promise<Record<string, string>> {
  await allowOrg(ctx, p, 'org-read', org);
  const rows = await ctx.store.db
    .selectFrom('org_members')
    .innerJoin('users', 'users.id', 'org_members.user_id')
    .select(['users.name', 'org_members.role'])
    .where('org', '=', org)
    .orderBy('users.name')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.name, r.role]));
}

async function ownerCount(db: Db, org: string): Promise<number> {
  const r = await db
    .selectFrom('org_members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('org', '=', org)
    .where('role', '=', 'owner')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function setMember(ctx: Ctx, p: Principal, org: string, userName: string, roleIn?: OrgMember['role']) {
  // The org decision first, so a stranger learns nothing about the target; then the owner-only rule.
  const facts = await orgFacts(ctx, p, org);
  await refuseUnless(ctx, p, authorizeOrg(p, 'org-members', facts), org);
  const role = (roleIn ?? 'developer') as OrgRole;
  if (!ROLES.includes(role)) throw new Refusal('invalid-request', { detail: 'role must be owner, admin or developer' });
  const user = await mustUser(ctx, userName);
  const current = await orgRole(ctx.store.db, org, user.id);
  const d = authorizeOrgMember(p, facts, { current, role });
  await refuseUnless(ctx, p, d, org);
  await requireSecondFactor(ctx, p, d);
  // The last-owner rule keeps the data whole: it is not a permission.
  if (current === 'owner' && role !== 'owner' && (await ownerCount(ctx.store.db, org)) <= 1)
    throw new Refusal('last-org-owner', { org });
  await ctx.store.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('org_members')
      .values({ org, user_id: user.id, role })
      .onConflict((oc) => oc.columns(['org', 'user_id']).doUpdateSet({ role }))
      .execute();
    await trx
      .insertInto('team_members')
      .values({ org, team: DEVELOPERS, user_id: user.id })
      .onConflict((oc) => oc.doNothing())
      .execute();
    await bumpCounter(trx, 'packages');
  });
  await audit(ctx, {
    event: current ? 'org-role-changed' : 'org-member-added',
    user: p.user?.name,
    detail: { org, member: user.name, role, from: current },
  });
  const size = Object.keys(await listMembers(ctx, { ...p, otpVerified: true } as Principal, org)).length;
  return { org: { name: org, size }, user: user.name, role };
}

export async function removeMember(ctx: Ctx, p: Principal, org: string, userName: string): Promise<void> {
  const facts = await orgFacts(ctx, p, org);
  await refuseUnless(ctx, p, authorizeOrg(p, 'org-members', facts), org);
  const user = await mustUser(ctx, userName);
  const current = await orgRole(ctx.store.db, org, user.id);
  if (!current) throw new Refusal('invalid-request', { detail: `${user.name} is not a member of ${org}` });
  const d = authorizeOrgMember(p, facts, { current, role: null });
  await refuseUnless(ctx, p, d, org);
  await requireSecondFactor(ctx, p, d);
  // The last-owner rule keeps the data whole: it is not a permission.
  if (current === 'owner' && (await ownerCount(ctx.store.db, org)) <= 1) throw new Refusal('last-org-owner', { org });
  await ctx.store.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('team_members').where('org', '=', org).where('user_id', '=', user.id).execute();
    await trx.deleteFrom('org_members').where('org', '=', org).where('user_id', '=', user.id).execute();
    await bumpCounter(trx, 'packages');
  });
  await audit(ctx, {
    event: 'org-member-removed',
    user: p.user?.name,
    detail: { org, member: user.name, role: current },
  });
}

// --- teams

function teamName(v: unknown): string {
  if (typeof v !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,99}$/.test(v)) {
    throw new Refusal('invalid-request', { detail: 'Team names are lowercase letters, digits, ".", "_" and "-"' });
  }
  return v;
}

async function mustTeam(ctx: Ctx, org: string, team: string): Promise<void> {
  const t = await ctx.store.db
    .selectFrom('teams')
    .select('name')
    .where('org', '=', org)
    .where('name', '=', team)
    .executeTakeFirst();
  if (!t) throw new Refusal('invalid-request', { detail: `There is no team ${org}:${team}` });
}

export async function createTeam(ctx: Ctx, p: Principal, org: string, body: TeamCreate): Promise<void> {
  await allowOrg(ctx, p, 'team-manage', org);
  const name = teamName(body.name);
  const r = await ctx.store.db
    .insertInto('teams')
    .values({
      org,
      name,
      description: typeof body.description === 'string' ? body.description : null,
      created_at: ctx.clock.now(),
    })
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  if (Number(r.numInsertedOrUpdatedRows ?? 0) === 0)
    throw new Refusal('invalid-request', { detail: `The team ${org}:${name} already exists` });
  await audit(ctx, { event: 'team-created', user: p.user?.name, detail: { org, team: name } });
}

export async function destroyTeam(ctx: Ctx, p: Principal, org: string, team: string): Promise<void> {
  await allowOrg(ctx, p, 'team-manage', org);
  if (team === DEVELOPERS)
    throw new Refusal('invalid-request', { detail: `The ${DEVELOPERS} team holds every member and cannot be removed` });
  await mustTeam(ctx, org, team);
  await ctx.store.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('team_packages').where('org', '=', org).where('team', '=', team).execute();
    await trx.deleteFrom('team_members').where('org', '=', org).where('team', '=', team).execute();
    await trx.deleteFrom('teams').where('org', '=', org).where('name', '=', team).execute();
    await bumpCounter(trx, 'packages');
  });
  await audit(ctx, { event: 'team-destroyed', user: p.user?.name, detail: { org, team } });
}

export async function teamMember(
  ctx: Ctx,
  p: Principal,
  org: string,
  team: string,
  userName: string,
  add: boolean,
): Promise<void> {
  await allowOrg(ctx, p, 'team-manage', org);
  await mustTeam(ctx, org, team);
  const user = await mustUser(ctx, userName);
  if (add) {
    if (!(await orgRole(ctx.store.db, org, user.id)))
      throw new Refusal('invalid-request', {
        detail: `${user.name} must be a member of ${org} first (npm org set ${org} ${user.name})`,
      });
    await ctx.store.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('team_members')
        .values({ org, team, user_id: user.id })
        .onConflict((oc) => oc.doNothing())
        .execute();
      await bumpCounter(trx, 'packages');
    });
  } else {
    if (team === DEVELOPERS)
      throw new Refusal('invalid-request', {
        detail: `Remove ${user.name} from the organization instead (npm org rm ${org} ${user.name})`,
      });
    await ctx.store.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('team_members')
        .where('org', '=', org)
        .where('team', '=', team)
        .where('user_id', '=', user.id)
        .execute();
      await bumpCounter(trx, 'packages');
    });
  }
  await audit(ctx, {
    event: add ? 'team-member-added' : 'team-member-removed',
    user: p.user?.name,
    detail: { org, team, member: user.name },
  });
}

export async function listTeams(ctx: Ctx, p: Principal, org: string): Promise<string[]> {
  await allowOrg(ctx, p, 'org-read', org);
  const rows = await ctx.store.db.selectFrom('teams').select('name').where('org', '=', org).orderBy('name').execute();
  return rows.map((r) => `${org}:${r.name}`);
}

export async function listTeamMembers(ctx: Ctx, p: Principal, org: string, team: string): Promise<string[]> {
  await allowOrg(ctx, p, 'org-read', org);
  await mustTeam(ctx, org, team);
  const rows = await ctx.store.db
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

function orgPackage(org: string, pkg: unknown): string {
  if (typeof pkg !== 'string' || scopeOf(pkg) !== `@${org}`) {
    throw new Refusal('invalid-request', {
      detail: `Only packages in the @${org} scope can be granted to teams of ${org}`,
    });
  }
  return pkg;
}

export async function grant(ctx: Ctx, p: Principal, org: string, team: string, body: TeamGrant): Promise<void> {
  await allowOrg(ctx, p, 'access-grant', org);
  await mustTeam(ctx, org, team);
  const pkg = orgPackage(org, body.package);
  const permission = body.permissions;
  if (permission !== 'read-only' && permission !== 'read-write')
    throw new Refusal('invalid-request', { detail: 'permissions must be read-only or read-write' });
  const exists = await ctx.store.db
    .selectFrom('packages')
    .select('name')
    .where('name', '=', pkg)
    .where('deleted_at', 'is', null)
    .where('origin', '=', 'local')
    .executeTakeFirst();
  if (!exists) throw new Refusal('not-found');
  await ctx.store.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('team_packages')
      .values({ org, team, package: pkg, permission })
      .onConflict((oc) => oc.columns(['org', 'team', 'package']).doUpdateSet({ permission }))
      .execute();
    await bumpCounter(trx, 'packages');
  });
  await audit(ctx, {
    event: 'team-access-granted',
    user: p.user?.name,
    detail: { org, team, package: pkg, permission },
  });
}

export async function revoke(ctx: Ctx, p: Principal, org: string, team: string, body: TeamGrant): Promise<void> {
  await allowOrg(ctx, p, 'access-grant', org);
  const pkg = orgPackage(org, body.package);
  await ctx.store.db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('team_packages')
      .where('org', '=', org)
      .where('team', '=', team)
      .where('package', '=', pkg)
      .execute();
    await bumpCounter(trx, 'packages');
  });
  await audit(ctx, { event: 'team-access-revoked', user: p.user?.name, detail: { org, team, package: pkg } });
}

const short = (perm: string) => (perm === 'read-write' ? 'write' : 'read');

export async function teamPackages(ctx: Ctx, p: Principal, org: string, team: string): Promise<Record<string, string>> {
  await allowOrg(ctx, p, 'org-read', org);
  const rows = await ctx.store.db
    .selectFrom('team_packages')
    .select(['package', 'permission'])
    .where('org', '=', org)
    .where('team', '=', team)
    .execute();
  const readable = new Set(
    await readableNames(
      ctx,
      p,
      rows.map((r) => r.package),
    ),
  );
  return Object.fromEntries(rows.filter((r) => readable.has(r.package)).map((r) => [r.package, short(r.permission)]));
}

/** `npm access list packages <org>`: the packages of the org's teams that the caller may read, with the best grant. */
export async function orgPackages(ctx: Ctx, p: Principal, org: string): Promise<Record<string, string> | undefined> {
  const exists = await ctx.store.db.selectFrom('orgs').select('name').where('name', '=', org).executeTakeFirst();
  if (!exists) return undefined;
  await allowOrg(ctx, p, 'org-read', org);
  const rows = await ctx.store.db
    .selectFrom('team_packages')
    .select(['package', 'permission'])
    .where('org', '=', org)
    .execute();
  const readable = new Set(
    await readableNames(
      ctx,
      p,
      rows.map((r) => r.package),
    ),
  );
  const out: Record<string, string> = {};
  for (const r of rows) if (readable.has(r.package) && out[r.package] !== 'write') out[r.package] = short(r.permission);
  return out;
}

/** `npm access list packages <user>`: what the user maintains, as far as the caller may read it. */
export async function userPackages(ctx: Ctx, p: Principal, name: string): Promise<Record<string, string>> {
  const user = await userByName(ctx, name);
  if (!user) throw new Refusal('not-found');
  const rows = await ctx.store.db
    .selectFrom('maintainers')
    .innerJoin('packages', 'packages.name', 'maintainers.package')
    .select('packages.name')
    .where('maintainers.user_id', '=', user.id)
    .where('packages.deleted_at', 'is', null)
    .where('packages.origin', '=', 'local')
    .orderBy('packages.name')
    .execute();
  const readable = await readableNames(
    ctx,
    p,
    rows.map((r) => r.name),
  );
  return Object.fromEntries(readable.map((n) => [n, 'write']));
}

/**
 * `npm access list collaborators <pkg>`: maintainers (write) and team members with their grant. Who may not
 * read the package gets the 404 of a missing name; team entries are shown to the organization's members only.
 */
export async function collaborators(ctx: Ctx, p: Principal, name: string): Promise<Record<string, string>> {
  const d = authorizeCollaborators(p, await factsFor(ctx, p, name));
  if (!d.allowed) throw await deny(ctx, p, d, name);
  const out: Record<string, string> = {};
  if (d.teams) {
    const teamRows = await ctx.store.db
      .selectFrom('team_packages')
      .innerJoin('team_members', (j) =>
        j.onRef('team_members.org', '=', 'team_packages.org').onRef('team_members.team', '=', 'team_packages.team'),
      )
      .innerJoin('users', 'users.id', 'team_members.user_id')
      .select(['users.name', 'team_packages.permission'])
      .where('team_packages.package', '=', name)
      .execute();
    for (const r of teamRows) if (out[r.name] !== 'write') out[r.name] = short(r.permission);
  }
  const maint = await ctx.store.db
    .selectFrom('maintainers')
    .innerJoin('users', 'users.id', 'maintainers.user_id')
    .select('users.name')
    .where('maintainers.package', '=', name)
    .execute();
  for (const m of maint) out[m.name] = 'write';
  return out;
}
