// npm token list/create/revoke, and Tessera's own introspection: who am I as this token, and may I …?
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ExplainQuery, TokenCreateBody, TokenListQuery } from '../../domain/commands.ts';
import { who } from '../app-state.ts';
import { baseUrl } from '../base-url.ts';
import { createForCaller, describeCredential, listForCaller, revokeForCaller } from '../../services/npm-tokens.ts';
import { explain } from '../../services/explain.ts';

const NO_STORE = 'no-store';

export async function tokenRoutes(plain: FastifyInstance): Promise<void> {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx, auth } = app.tessera;

  app.get('/-/npm/v1/tokens', { schema: { querystring: TokenListQuery } }, async (req, reply) => {
    const q = req.query;
    const page = Math.max(Number.parseInt(q.page ?? '0', 10) || 0, 0);
    const perPage = Math.min(Math.max(Number.parseInt(q.perPage ?? '100', 10) || 100, 1), 9999);
    const r = await listForCaller(ctx, await who(req), page, perPage);
    const next = r.hasNext ? `${baseUrl(req)}/-/npm/v1/tokens?page=${page + 1}&perPage=${perPage}` : null;
    return reply.header('cache-control', NO_STORE).send({ objects: r.objects, total: r.total, urls: { next } });
  });

  app.post('/-/npm/v1/tokens', { schema: { body: TokenCreateBody } }, async (req, reply) => {
    const created = await createForCaller(ctx, auth, await who(req), req.body);
    return reply.code(201).header('cache-control', NO_STORE).send(created);
  });

  app.delete<{ Params: { key: string } }>('/-/npm/v1/tokens/token/:key', async (req, reply) => {
    await revokeForCaller(ctx, auth, await who(req), req.params.key);
    return reply.code(204).header('cache-control', NO_STORE).send();
  });

  /** The caller's own credential: what it is and what limits it carries. */
  app.get('/-/tessera/v1/token', async (req, reply) => {
    return reply.header('cache-control', NO_STORE).send(await describeCredential(ctx, await who(req)));
  });

  /** Would this credential be allowed to do `action` on `package`, and which checks decide it? */
  app.get('/-/tessera/v1/auth/explain', { schema: { querystring: ExplainQuery } }, async (req, reply) => {
    const q = req.query;
    return reply.header('cache-control', NO_STORE).send(await explain(ctx, await who(req), q.action, q.package));
  });
}
