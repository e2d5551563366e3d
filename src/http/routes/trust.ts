// npm trust (GET/POST/DELETE /-/package/<pkg>/trust) and the OIDC exchange, always at the host root.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { TrustBody } from '../../domain/commands.ts';
import { who } from '../app-state.ts';
import { addTrust, listTrust, revokeTrust } from '../../services/trust.ts';
import { exchange, type Exchanged } from '../../services/oidc.ts';
import { Refusal } from '../../domain/reasons.ts';
import { refusalText, sendRefusal } from '../errors.ts';

export async function trustRoutes(plain: FastifyInstance): Promise<void> {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx } = app.tessera;

  app.get<{ Params: { pkg: string } }>('/-/package/:pkg/trust', async (req, reply) =>
    reply.header('cache-control', 'no-store').send(await listTrust(ctx, await who(req), req.params.pkg)),
  );
  app.post(
    '/-/package/:pkg/trust',
    { schema: { params: Type.Object({ pkg: Type.String() }), body: TrustBody } },
    async (req, reply) =>
      reply
        .code(201)
        .header('cache-control', 'no-store')
        .send(await addTrust(ctx, await who(req), req.params.pkg, req.body)),
  );
  app.delete<{ Params: { pkg: string; id: string } }>('/-/package/:pkg/trust/:id', async (req, reply) => {
    await revokeTrust(ctx, await who(req), req.params.pkg, req.params.id);
    return reply.code(204).header('cache-control', 'no-store').send();
  });

  app.post<{ Params: { pkg: string } }>('/-/npm/v1/oidc/token/exchange/package/:pkg', async (req, reply) => {
    const auth = req.headers.authorization;
    const bearer = auth?.toLowerCase().startsWith('bearer ') ? auth.slice(7).trim() : undefined;
    let r: Exchanged;
    try {
      r = await exchange(ctx, req.params.pkg, bearer);
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      // pnpm 11 prints `body.message` of the JSON in its "Skipped OIDC" warning (npm's error object's path):
      // the same words go there too, or pnpm users read "Unknown error".
      return sendRefusal(req, reply, e, { body: { message: refusalText(req, e) } });
    }
    return reply
      .code(201)
      .header('cache-control', 'no-store')
      .send({
        token_type: 'oidc',
        token: r.token,
        created: new Date(r.created).toISOString(),
        expires: new Date(r.expires).toISOString(),
      });
  });
}
