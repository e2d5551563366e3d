// Organizations, teams and team grants: `npm org`, `npm team`, `npm access grant|revoke|list`.
// Every action asks authorizeOrg(); membership changes go to the audit log. Every change of who belongs
// where, or of what a team may reach, moves the `packages` counter: it changes who may read which
// packages, and the read path remembers its decisions until that counter moves (read-cache.ts).
import { Refusal } from '../domain/reasons.ts';
import {
  accessLevel,
  authorizeCollaborators,
  authorizeOrg,
  authorizeOrgMember,
  type Decision,
  heldAccess,
  maintains,
  type OrgAction,
  type OrgFacts,
  type OrgRole,
  seesTeamGrants,
} from '../domain/policy.ts';
import type { Principal } from '../domain/principal.ts';
import type { OrgMember, TeamCreate, TeamGrant } from '../domain/commands.ts';
import { scopeOf } from '../domain/names.ts';
import type { Db } from '../store/store.ts';
import { auditEntries } from '../store/audit.ts';
import { packageFacts } from '../store/packages.ts';
import {
  addTeamMember,
  deleteTeam,
  DEVELOPERS,
  grantTeamPackage,
  insertOrg,
  insertTeam,
  orgExists,
  orgMembers,
  orgRoleOf,
  packagesGrantedTo,
  packageTeamMembers,
  removeOrgMember,
  removeTeamMember,
  revokeTeamPackage,
  setOrgMember,
  teamExists,
  teamGrants,
  teamMemberNames,
  teamNames,
} from '../store/orgs.ts';
import { localPackageExists, maintainerNames, packagesInScope, packagesMaintainedBy } from '../store/package-reads.ts';
import { audit, type Ctx } from './context.ts';
import { deny } from './deny.ts';
import { requireSecondFactor } from './two-factor.ts';
import { userByName, validateUserName } from './accounts.ts';
import { factsFor, readableNames } from './read.ts';

const ROLES: OrgRole[] = ['owner', 'admin', 'developer'];
export { DEVELOPERS };

async function orgRole(db: Db, org: string, userId: number | undefined): Promise<OrgRole | null> {
  if (userId === undefined) return null;
  return (await orgRoleOf(db, org, userId)) as OrgRole | null;
}

async function orgFacts(ctx: Ctx, p: Principal, org: string): Promise<OrgFacts> {
  const exists = await orgExists(ctx.store.db, org);
  const role = await orgRole(ctx.store.db, org, p.user?.id);
  const left = exists && role === null && p.user ? await leftMomentsAgo(ctx, org, p.user.name) : false;
  return { name: org, exists, role, left };
}

/** How long after leaving an organization its roster stays readable: npm org rm reads it at once. */
const LEFT_GRACE_MS = 60_000;

/** Whether `user` removed themselves from `org` within LEFT_GRACE_MS (the audit log records who removed whom). */
async function leftMomentsAgo(ctx: Ctx, org: string, user: string): Promise<boolean> {
  const since = ctx.clock.now() - LEFT_GRACE_MS;
  const rows = await auditEntries(ctx.store.db, {
    user,
    event: 'org-member-removed',
    since,
    order: 'newest-first',
    limit: 20,
  });
  return rows.some((r) => {
    const d = JSON.parse(r.detail ?? '{}') as { org?: string; member?: string };
    return d.org === org && d.member === user;
  });
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
  if (await orgExists(ctx.store.db, name)) {
    throw new Refusal('invalid-request', { detail: `The organization ${name} already exists` });
  }
  await insertOrg(ctx.store.db, { name, ownerId: owner.id, now: ctx.clock.now() });
  await audit(ctx, { event: 'org-created', user: ownerName, detail: { org: name } });
}

export async function listMembers(ctx: Ctx, p: Principal, org: string): Promise<Record<string, string>> {
  await allowOrg(ctx, p, 'org-read', org);
  const rows = await orgMembers(ctx.store.db, org);
  return Object.fromEntries(rows.map((r) => [r.name, r.role]));
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
  // The last-owner rule keeps the data whole: it is not a permission. The store decides it in the write's
  // transaction, so two owners stepping down at once cannot both pass.
  if (!(await setOrgMember(ctx.store.db, org, user.id, role))) throw new Refusal('last-org-owner', { org });
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
  const leaving = !!p.user && userName === p.user.name;
  await refuseUnless(ctx, p, authorizeOrg(p, leaving ? 'org-leave' : 'org-members', facts), org);
  const user = await mustUser(ctx, userName);
  const current = await orgRole(ctx.store.db, org, user.id);
  if (!current) throw new Refusal('invalid-request', { detail: `${user.name} is not a member of ${org}` });
  const d = authorizeOrgMember(p, facts, { current, role: null, self: user.id === p.user?.id });
  await refuseUnless(ctx, p, d, org);
  await requireSecondFactor(ctx, p, d);
  // The last-owner rule keeps the data whole: it is not a permission (decided in the store's transaction).
  if (!(await removeOrgMember(ctx.store.db, org, user.id))) throw new Refusal('last-org-owner', { org });
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

const noTeam = (org: string, team: string) =>
  new Refusal('invalid-request', { detail: `There is no team ${org}:${team}` });

async function mustTeam(ctx: Ctx, org: string, team: string): Promise<void> {
  if (!(await teamExists(ctx.store.db, org, team))) throw noTeam(org, team);
}

export async function createTeam(ctx: Ctx, p: Principal, org: string, body: TeamCreate): Promise<void> {
  await allowOrg(ctx, p, 'team-manage', org);
  const name = teamName(body.name);
  const description = typeof body.description === 'string' ? body.description : null;
  if (!(await insertTeam(ctx.store.db, { org, name, description, now: ctx.clock.now() })))
    throw new Refusal('invalid-request', { detail: `The team ${org}:${name} already exists` });
  await audit(ctx, { event: 'team-created', user: p.user?.name, detail: { org, team: name } });
}

export async function destroyTeam(ctx: Ctx, p: Principal, org: string, team: string): Promise<void> {
  await allowOrg(ctx, p, 'team-manage', org);
  if (team === DEVELOPERS)
    throw new Refusal('invalid-request', { detail: `The ${DEVELOPERS} team holds every member and cannot be removed` });
  await mustTeam(ctx, org, team);
  await deleteTeam(ctx.store.db, org, team);
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
    // The store decides in its transaction: the team may be destroyed, the user taken out of the org, meanwhile.
    const added = await addTeamMember(ctx.store.db, org, team, user.id);
    if (added === 'no-team') throw noTeam(org, team);
    if (added === 'not-member')
      throw new Refusal('invalid-request', {
        detail: `${user.name} must be a member of ${org} first (npm org set ${org} ${user.name})`,
      });
  } else {
    if (team === DEVELOPERS)
      throw new Refusal('invalid-request', {
        detail: `Remove ${user.name} from the organization instead (npm org rm ${org} ${user.name})`,
      });
    // Said like npm org rm of a non-member: no removal is reported (nor audited) that did not happen.
    if (!(await removeTeamMember(ctx.store.db, org, team, user.id)))
      throw new Refusal('invalid-request', { detail: `${user.name} is not a member of the team ${org}:${team}` });
  }
  await audit(ctx, {
    event: add ? 'team-member-added' : 'team-member-removed',
    user: p.user?.name,
    detail: { org, team, member: user.name },
  });
}

export async function listTeams(ctx: Ctx, p: Principal, org: string): Promise<string[]> {
  await allowOrg(ctx, p, 'org-read', org);
  return (await teamNames(ctx.store.db, org)).map((name) => `${org}:${name}`);
}

export async function listTeamMembers(ctx: Ctx, p: Principal, org: string, team: string): Promise<string[]> {
  await allowOrg(ctx, p, 'org-read', org);
  await mustTeam(ctx, org, team);
  return teamMemberNames(ctx.store.db, org, team);
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
  if (!(await localPackageExists(ctx.store.db, pkg))) throw new Refusal('not-found');
  if (!(await grantTeamPackage(ctx.store.db, { org, team, package: pkg, permission }))) throw noTeam(org, team);
  await audit(ctx, {
    event: 'team-access-granted',
    user: p.user?.name,
    detail: { org, team, package: pkg, permission },
  });
}

export async function revoke(ctx: Ctx, p: Principal, org: string, team: string, body: TeamGrant): Promise<void> {
  await allowOrg(ctx, p, 'access-grant', org);
  await mustTeam(ctx, org, team);
  const pkg = orgPackage(org, body.package);
  await revokeTeamPackage(ctx.store.db, org, team, pkg);
  await audit(ctx, { event: 'team-access-revoked', user: p.user?.name, detail: { org, team, package: pkg } });
}

const short = (perm: string) => (perm === 'read-write' ? 'write' : 'read');

export async function teamPackages(ctx: Ctx, p: Principal, org: string, team: string): Promise<Record<string, string>> {
  await allowOrg(ctx, p, 'org-read', org);
  await mustTeam(ctx, org, team);
  const rows = await teamGrants(ctx.store.db, org, team);
  const readable = new Set(
    await readableNames(
      ctx,
      p,
      rows.map((r) => r.package),
    ),
  );
  return Object.fromEntries(rows.filter((r) => readable.has(r.package)).map((r) => [r.package, short(r.permission)]));
}

/** `npm access list packages <org>`: the packages of the org's scope that the caller may read, with the caller's
 *  access to each (policy.ts accessLevel), whether or not a team was granted them. */
export async function orgPackages(ctx: Ctx, p: Principal, org: string): Promise<Record<string, string> | undefined> {
  if (!(await orgExists(ctx.store.db, org))) return undefined;
  await allowOrg(ctx, p, 'org-read', org);
  const out: Record<string, string> = {};
  for (const name of await packagesInScope(ctx.store.db, `@${org}`)) {
    const level = accessLevel(p, await factsFor(ctx, p, name));
    if (level) out[name] = level;
  }
  return out;
}

/** `npm access list packages <user>`: what the user maintains or their teams were granted (policy.ts heldAccess),
 *  as far as the caller may read it. */
export async function userPackages(ctx: Ctx, p: Principal, name: string): Promise<Record<string, string>> {
  const user = await userByName(ctx, name);
  if (!user) throw new Refusal('not-found');
  const db = ctx.store.db;
  const names = new Set([...(await packagesMaintainedBy(db, user.id)), ...(await packagesGrantedTo(db, user.id))]);
  const out: Record<string, string> = {};
  for (const n of await readableNames(ctx, p, [...names].sort())) {
    const theirs = await packageFacts(db, n, user.id);
    const mine = p.user?.id === user.id ? theirs : await factsFor(ctx, p, n);
    const level = heldAccess(user.id, theirs, seesTeamGrants(p, user.id, mine.org));
    if (level) out[n] = level;
  }
  return out;
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
    const teamRows = await packageTeamMembers(ctx.store.db, name);
    for (const r of teamRows) if (out[r.name] !== 'write') out[r.name] = short(r.permission);
  }
  for (const m of await maintainerNames(ctx.store.db, name)) {
    const u = await userByName(ctx, m);
    // A maintainer taken out of the package's organization holds nothing (policy.ts maintains).
    if (u && maintains(u.id, await packageFacts(ctx.store.db, name, u.id))) out[m] = 'write';
  }
  return out;
}
