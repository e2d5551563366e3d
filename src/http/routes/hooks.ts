// npm's hooks API (libnpmhook): POST /-/npm/v1/hooks/hook, GET /-/npm/v1/hooks, GET|PUT|DELETE
// /-/npm/v1/hooks/hook/<id>. Each caller sees and changes only their own hooks.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { HookCreateBody, HookListQuery, HookParams, HookUpdateBody } from '../../domain/commands.ts';
import { who } from '../app-state.ts';
import { baseUrl } from '../base-url.ts';
import { changeHook, createHook, getHook, listOwnHooks, removeHook } from '../../services/user-hooks.ts';

const NO_STORE = 'no-store';
const MAX_LIMIT = 1000;

export async function hookRoutes(plain: FastifyInstance): Promise<void> {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx } = app.tessera;

  app.post('/-/npm/v1/hooks/hook', { schema: { body: HookCreateBody } }, async (req, reply) => {
    return reply
      .code(201)
      .header('cache-control', NO_STORE)
      .send(await createHook(ctx, await who(req), req.body));
  });

  app.get('/-/npm/v1/hooks', { schema: { querystring: HookListQuery } }, async (req, reply) => {
    const q = req.query;
    const limit = Math.min(Math.max(Number(q.limit ?? MAX_LIMIT) || MAX_LIMIT, 1), MAX_LIMIT);
    const offset = Number(q.offset ?? 0);
    const r = await listOwnHooks(ctx, await who(req), { package: q.package, limit, offset });
    let next: string | null = null;
    if (offset + limit < r.total) {
      const u = new URL(`${baseUrl(req)}/-/npm/v1/hooks`);
      if (q.package !== undefined) u.searchParams.set('package', q.package);
      u.searchParams.set('limit', String(limit));
      u.searchParams.set('offset', String(offset + limit));
      next = u.href;
    }
    return reply.header('cache-control', NO_STORE).send({ objects: r.objects, total: r.total, urls: { next } });
  });

  app.get('/-/npm/v1/hooks/hook/:id', { schema: { params: HookParams } }, async (req, reply) => {
    return reply.header('cache-control', NO_STORE).send(await getHook(ctx, await who(req), req.params.id));
  });

  app.put('/-/npm/v1/hooks/hook/:id', { schema: { params: HookParams, body: HookUpdateBody } }, async (req, reply) => {
    const hook = await changeHook(ctx, await who(req), req.params.id, req.body);
    return reply.header('cache-control', NO_STORE).send(hook);
  });

  app.delete('/-/npm/v1/hooks/hook/:id', { schema: { params: HookParams } }, async (req, reply) => {
    return reply.header('cache-control', NO_STORE).send(await removeHook(ctx, await who(req), req.params.id));
  });
}
