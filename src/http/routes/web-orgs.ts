// Organization and team pages. Each form calls the function `npm org | team | access` reaches through the
// API (services/orgs.ts), which asks the policy, so who may do what is decided in one place.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Refusal } from '../../domain/reasons.ts';
import type { Principal } from '../../domain/principal.ts';
import {
  createTeam,
  destroyTeam,
  grant,
  listMembers,
  listTeamMembers,
  listTeams,
  removeMember,
  revoke,
  setMember,
  teamMember,
  teamPackages,
} from '../../services/orgs.ts';
import { myOrgs } from '../../services/web-self.ts';
import type { View } from '../ui/layout.ts';
import { orgPage, orgsPage, type Msg, type OrgView } from '../ui/pages-orgs.ts';
import { done, formContext, pageContext, sendPage, toSignIn, webPlugin } from '../web/common.ts';
import { kept } from '../ui/refused.ts';

type Form = Record<string, string>;
type Act = (p: Principal, org: string, f: Form) => Promise<string>;

export async function webOrgRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app.tessera;
  webPlugin(app);

  /** Everything the org page shows, each part read through its own `npm org|team|access ls` rule. */
  async function load(p: Principal, org: string): Promise<OrgView> {
    const members = await listMembers(ctx, p, org);
    const teams = [];
    for (const full of await listTeams(ctx, p, org)) {
      const name = full.slice(org.length + 1);
      const members = await listTeamMembers(ctx, p, org, name);
      teams.push({ name, members, packages: await teamPackages(ctx, p, org, name) });
    }
    return { org, members, teams };
  }

  // Reads after a change were already allowed once: the second factor is not asked again for them.
  const reader = (p: Principal): Principal => (p.user ? { ...p, otpVerified: true } : p);

  const show = async (reply: FastifyReply, view: View, p: Principal, org: string, msg: Msg, status = 200) =>
    sendPage(reply, status, orgPage(view, await load(reader(p), org), msg));

  app.get('/-/web/orgs', async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    if (!caller.principal.user) return toSignIn(req, reply);
    return sendPage(reply, 200, orgsPage(view, await myOrgs(ctx, caller.principal)));
  });

  app.get<{ Params: { org: string } }>('/-/web/org/:org', async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    if (!caller.principal.user) return toSignIn(req, reply);
    return show(reply, view, caller.principal, req.params.org.replace(/^@/, ''), {});
  });

  /** One form of the org page: the action, then the page again with what happened or why it was refused. */
  const post = (path: string, act: Act) =>
    app.post<{ Params: { org: string } }>(
      `/-/web/org/:org/${path}`,
      async (req: FastifyRequest<{ Params: { org: string } }>, reply) => {
        const { caller, principal, view, form } = await formContext(req, reply);
        if (!principal.user) return toSignIn(req, reply);
        const org = req.params.org.replace(/^@/, '');
        let notice: string;
        try {
          notice = await act(principal, org, form);
        } catch (e) {
          if (!(e instanceof Refusal) || e.reason === 'not-org-member') throw e;
          // A package the caller cannot see is one that does not exist, said in the form; an org the caller
          // cannot see stays the plain not-found page (loading the page refuses it the same way).
          const page = await load(reader(principal), org);
          reply.header('x-tessera-reason', e.reason);
          const hidden = e.reason === 'not-found' && form.package;
          const error = hidden ? `There is no package ${form.package} that you can see.` : e.message;
          // Shown again next to the form that was posted, with what was typed (never the one-time password).
          const values = kept(form);
          return sendPage(reply, e.status, orgPage(view, page, { error, form: { path, values } }));
        }
        return done(req, reply, caller, `/-/web/org/${encodeURIComponent(org)}`, notice);
      },
    );

  post('members', async (p, org, f) => {
    const r = await setMember(ctx, p, org, f.user ?? '', f.role as 'developer');
    return `${r.user} is now ${r.role} of ${org}.`;
  });
  post('members/remove', async (p, org, f) => {
    await removeMember(ctx, p, org, f.user ?? '');
    return `${f.user} is no longer a member of ${org}.`;
  });
  post('teams', async (p, org, f) => {
    await createTeam(ctx, p, org, { name: f.name ?? '', description: f.description || undefined });
    return `The team ${org}:${f.name} is created.`;
  });
  post('teams/destroy', async (p, org, f) => {
    await destroyTeam(ctx, p, org, f.team ?? '');
    return `The team ${org}:${f.team} is removed.`;
  });
  post('teams/members', async (p, org, f) => {
    const add = f.op !== 'rm';
    await teamMember(ctx, p, org, f.team ?? '', f.user ?? '', add);
    return add ? `${f.user} is added to ${org}:${f.team}.` : `${f.user} is removed from ${org}:${f.team}.`;
  });
  post('grants', async (p, org, f) => {
    await grant(ctx, p, org, f.team ?? '', { package: f.package ?? '', permissions: f.permissions });
    return `${org}:${f.team} may now ${f.permissions === 'read-write' ? 'read and publish' : 'read'} ${f.package}.`;
  });
  post('grants/revoke', async (p, org, f) => {
    await revoke(ctx, p, org, f.team ?? '', { package: f.package ?? '' });
    return `${org}:${f.team} no longer has access to ${f.package}.`;
  });
}
