// The organization part of the authorization matrix (docs/authorization.md, "Organizations"): the org
// fixture, built once, and the organization actions a row can perform. The package actions of org
// members are performed like every other package row, by the matrix test itself.
import { createOrg } from '../../src/services/orgs.ts';
import { createUser } from '../../src/services/accounts.ts';
import type { TestServer } from './server.ts';

export const ORG = 'acme';
/** A second organization, also owned by alice, that only the "granular org-only globex" token lists. */
export const OTHER_ORG = 'globex';

export const ORG_ACTIONS = [
  'org ls',
  'org set member',
  'org set owner',
  'org rm member',
  'team create',
  'team add member',
  'access grant',
] as const;
export type OrgActionName = (typeof ORG_ACTIONS)[number];
export const isOrgAction = (a: string): a is OrgActionName => (ORG_ACTIONS as readonly string[]).includes(a);

/**
 * The members of acme besides alice, who owns it too (createOrg makes her its first owner), so that the
 * rows of her tokens test the tokens' limits and not her role. None of them maintains a package.
 */
export const MEMBERS = {
  olivia: 'owner',
  adam: 'admin',
  walter: 'developer',
  rita: 'developer',
  dan: 'developer',
} as const;
/** The user the owner add rows make a maintainer: a developer of acme, who never acts himself. */
export const OWNER_ADDED = 'dave';
/** A user who is not a member of acme (bob, of the package rows, is not one either). */
export const NON_MEMBER = 'nora';
/** The teams besides `developers` (every member, no grant) and what they may do with the org's packages. */
export const TEAMS = {
  writers: { members: ['walter'], permission: 'read-write' },
  readers: { members: ['rita'], permission: 'read-only' },
} as const;
/** The member a "team add member" row adds to a team created for that row. */
const TEAM_ADDITION = 'dan';
/** The package an "access grant" row grants to a team created for that row (which has no members). */
const GRANTED = '@acme/secret';

/** Rows that act on a user of their own: a user created for the row, not yet a member (org rm makes them one first). */
export const needsNewcomer = (action: string) =>
  action === 'org set member' || action === 'org set owner' || action === 'org rm member';

export type OrgHttp = {
  /** The row's request, with the row's credential. */
  send(method: string, path: string, body?: unknown): Promise<Response>;
  /** A step as alice, an owner of acme, that must succeed (setting a row up, or looking at what it changed). */
  setup(method: string, path: string, body?: unknown): Promise<Response>;
};

/**
 * Builds the org fixture on a server whose packages are already published: the users, acme and globex,
 * the roles (through `PUT /-/org/acme/user`, as npm org set does), the teams and their grants on
 * `packages` (the org's restricted and public package). Returns the `newcomers` spare users.
 */
export async function buildOrgFixture(
  server: TestServer,
  setup: OrgHttp['setup'],
  packages: string[],
  newcomers: number,
): Promise<string[]> {
  // No passwords: these users only ever act through session tokens, and hashing would cost time.
  const user = (name: string) => createUser(server.ctx, { name, email: `${name}@example.com`, password: null });
  const spare = Array.from({ length: newcomers }, (_, i) => `newcomer-${i + 1}`);
  await Promise.all([...Object.keys(MEMBERS), NON_MEMBER, ...spare].map(user));
  await createOrg(server.ctx, ORG, 'alice');
  await createOrg(server.ctx, OTHER_ORG, 'alice');
  for (const [name, role] of Object.entries(MEMBERS)) await setup('PUT', `-/org/${ORG}/user`, { user: name, role });
  // dave (created by the caller), whom the owner add rows make a maintainer: an org package takes only members.
  await setup('PUT', `-/org/${ORG}/user`, { user: OWNER_ADDED, role: 'developer' });
  for (const [team, { members, permission }] of Object.entries(TEAMS)) {
    await setup('PUT', `-/org/${ORG}/team`, { name: team });
    for (const m of members) await setup('PUT', `-/team/${ORG}/${team}/user`, { user: m });
    for (const p of packages)
      await setup('PUT', `-/team/${ORG}/${team}/package`, { package: p, permissions: permission });
  }
  return spare;
}

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Performs one org action; `done` tells whether it took effect (undefined for org ls, whose 200 is the effect). */
export async function performOrg(
  http: OrgHttp,
  action: OrgActionName,
  id: number,
  newcomer: () => string,
): Promise<{ res: Response; done?: () => Promise<boolean> }> {
  const members = async () => json<Record<string, string>>(await http.setup('GET', `-/org/${ORG}/user`));
  const team = `row-${id}`;
  switch (action) {
    case 'org ls':
      return { res: await http.send('GET', `-/org/${ORG}/user`) };
    case 'org set member':
    case 'org set owner': {
      const u = newcomer();
      const role = action === 'org set owner' ? 'owner' : 'developer';
      return {
        res: await http.send('PUT', `-/org/${ORG}/user`, { user: u, role }),
        done: async () => (await members())[u] === role,
      };
    }
    case 'org rm member': {
      const u = newcomer();
      await http.setup('PUT', `-/org/${ORG}/user`, { user: u, role: 'developer' });
      return {
        res: await http.send('DELETE', `-/org/${ORG}/user`, { user: u }),
        done: async () => !(u in (await members())),
      };
    }
    case 'team create':
      return {
        res: await http.send('PUT', `-/org/${ORG}/team`, { name: team }),
        done: async () =>
          (await json<string[]>(await http.setup('GET', `-/org/${ORG}/team`))).includes(`${ORG}:${team}`),
      };
    case 'team add member':
      await http.setup('PUT', `-/org/${ORG}/team`, { name: team });
      return {
        res: await http.send('PUT', `-/team/${ORG}/${team}/user`, { user: TEAM_ADDITION }),
        done: async () =>
          (await json<string[]>(await http.setup('GET', `-/team/${ORG}/${team}/user`))).includes(TEAM_ADDITION),
      };
    case 'access grant':
      await http.setup('PUT', `-/org/${ORG}/team`, { name: team });
      return {
        res: await http.send('PUT', `-/team/${ORG}/${team}/package`, { package: GRANTED, permissions: 'read-write' }),
        done: async () =>
          (await json<Record<string, string>>(await http.setup('GET', `-/team/${ORG}/${team}/package`)))[GRANTED] ===
          'write',
      };
  }
}
