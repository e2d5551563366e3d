// npm stage: POST /-/stage/package/<pkg> (stage publish), GET /-/stage (list), GET /-/stage/<id> (view),
// POST /-/stage/<id>/approve, DELETE /-/stage/<id> (reject), GET /-/stage/<id>/tarball (download).
// npm reads JSON from every 2xx here except reject's, so those always carry a body.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { anonymousWrite } from '../../services/deny.ts';
import { StageDoc } from '../../domain/commands.ts';
import { who } from '../app-state.ts';
import {
  approveStaged,
  listStaged,
  rejectStaged,
  stagedTarball,
  stagePublish,
  viewStaged,
  type ListQuery,
} from '../../services/stage.ts';

const NO_STORE = 'no-store';

export async function stageRoutes(plain: FastifyInstance): Promise<void> {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx } = app.tessera;

  // A stage body is a publish body: an anonymous one is refused before it is parsed.
  const preParsing = async (req: FastifyRequest, _reply: unknown, payload: unknown) => {
    if ((await who(req)).user !== null) return payload;
    const name = (req.params as { pkg?: string }).pkg ?? '';
    throw await anonymousWrite(ctx, name, 'stage versions of packages');
  };
  app.post(
    '/-/stage/package/:pkg',
    { preParsing, schema: { params: Type.Object({ pkg: Type.String() }), body: StageDoc } },
    async (req, reply) => {
      const principal = await who(req);
      const r = await stagePublish(ctx, principal, req.params.pkg, req.body);
      req.log.info({ package: req.params.pkg, stageId: r.stageId, user: principal.user?.name }, 'staged');
      return reply.code(201).header('cache-control', NO_STORE).send(r);
    },
  );

  app.get<{ Querystring: ListQuery }>('/-/stage', async (req, reply) =>
    reply.header('cache-control', NO_STORE).send(await listStaged(ctx, await who(req), req.query)),
  );

  app.get<{ Params: { id: string } }>('/-/stage/:id', async (req, reply) =>
    reply.header('cache-control', NO_STORE).send(await viewStaged(ctx, await who(req), req.params.id)),
  );

  app.get<{ Params: { id: string } }>('/-/stage/:id/tarball', async (req, reply) =>
    reply
      .type('application/octet-stream')
      .header('cache-control', NO_STORE)
      .send(await stagedTarball(ctx, await who(req), req.params.id)),
  );

  app.post<{ Params: { id: string } }>('/-/stage/:id/approve', async (req, reply) =>
    reply
      .code(201)
      .header('cache-control', NO_STORE)
      .send(await approveStaged(ctx, await who(req), req.params.id)),
  );

  app.delete<{ Params: { id: string } }>('/-/stage/:id', async (req, reply) => {
    await rejectStaged(ctx, await who(req), req.params.id);
    return reply.code(204).header('cache-control', NO_STORE).send();
  });
}
