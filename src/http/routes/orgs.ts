// npm org, npm team, npm access grant/revoke/list: the paths the npm CLI really sends.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Refusal } from '../../domain/reasons.ts';
import { who } from '../app-state.ts';
import * as orgs from '../../services/orgs.ts';
import { OrgMember, TeamCreate, TeamGrant, TeamMember } from '../../domain/commands.ts';

const OrgParams = Type.Object({ org: Type.String() });
const TeamParams = Type.Object({ scope: Type.String(), team: Type.String() });
const strip = (s: string) => s.replace(/^@/, '');

export async function orgRoutes(plain: FastifyInstance): Promise<void> {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx } = app.tessera;
  const send = (reply: import('fastify').FastifyReply, data: unknown, code = 200) =>
    reply.code(code).header('cache-control', 'no-store').send(data);

  app.get<{ Params: { org: string } }>('/-/org/:org/user', async (req, reply) =>
    send(reply, await orgs.listMembers(ctx, await who(req), strip(req.params.org))),
  );
  app.put('/-/org/:org/user', { schema: { params: OrgParams, body: OrgMember } }, async (req, reply) =>
    send(reply, await orgs.setMember(ctx, await who(req), strip(req.params.org), req.body.user, req.body.role)),
  );
  app.delete('/-/org/:org/user', { schema: { params: OrgParams, body: OrgMember } }, async (req, reply) => {
    await orgs.removeMember(ctx, await who(req), strip(req.params.org), req.body.user);
    return send(reply, {});
  });

  app.get<{ Params: { org: string } }>('/-/org/:org/team', async (req, reply) =>
    send(reply, await orgs.listTeams(ctx, await who(req), strip(req.params.org))),
  );
  app.put('/-/org/:org/team', { schema: { params: OrgParams, body: TeamCreate } }, async (req, reply) => {
    await orgs.createTeam(ctx, await who(req), strip(req.params.org), req.body);
    return send(reply, {}, 201);
  });
  app.delete<{ Params: { scope: string; team: string } }>('/-/team/:scope/:team', async (req, reply) => {
    await orgs.destroyTeam(ctx, await who(req), strip(req.params.scope), req.params.team);
    return send(reply, {});
  });
  app.get<{ Params: { scope: string; team: string } }>('/-/team/:scope/:team/user', async (req, reply) =>
    send(reply, await orgs.listTeamMembers(ctx, await who(req), strip(req.params.scope), req.params.team)),
  );
  app.put('/-/team/:scope/:team/user', { schema: { params: TeamParams, body: TeamMember } }, async (req, reply) => {
    await orgs.teamMember(ctx, await who(req), strip(req.params.scope), req.params.team, req.body.user, true);
    return send(reply, {}, 201);
  });
  app.delete('/-/team/:scope/:team/user', { schema: { params: TeamParams, body: TeamMember } }, async (req, reply) => {
    await orgs.teamMember(ctx, await who(req), strip(req.params.scope), req.params.team, req.body.user, false);
    return send(reply, {});
  });

  app.get<{ Params: { scope: string; team: string } }>('/-/team/:scope/:team/package', async (req, reply) =>
    send(reply, await orgs.teamPackages(ctx, await who(req), strip(req.params.scope), req.params.team)),
  );
  app.put('/-/team/:scope/:team/package', { schema: { params: TeamParams, body: TeamGrant } }, async (req, reply) => {
    await orgs.grant(ctx, await who(req), strip(req.params.scope), req.params.team, req.body);
    return send(reply, {}, 201);
  });
  app.delete(
    '/-/team/:scope/:team/package',
    { schema: { params: TeamParams, body: TeamGrant } },
    async (req, reply) => {
      await orgs.revoke(ctx, await who(req), strip(req.params.scope), req.params.team, req.body);
      return send(reply, {});
    },
  );

  // npm access list packages <name>: an org first; npm falls back to the user path on a 404.
  app.get<{ Params: { org: string } }>('/-/org/:org/package', async (req, reply) => {
    const r = await orgs.orgPackages(ctx, await who(req), strip(req.params.org));
    if (!r) throw new Refusal('not-found');
    return send(reply, r);
  });
  app.get<{ Params: { user: string } }>('/-/user/:user/package', async (req, reply) =>
    send(reply, await orgs.userPackages(ctx, await who(req), req.params.user)),
  );

  app.get<{ Params: { pkg: string } }>('/-/package/:pkg/collaborators', async (req, reply) =>
    send(reply, await orgs.collaborators(ctx, await who(req), req.params.pkg)),
  );
}
