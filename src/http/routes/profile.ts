// npm profile (GET/POST /-/npm/v1/user) and npm access (POST /-/package/<pkg>/access).
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AccessSet, ProfileUpdate } from '../../domain/commands.ts';
import { who } from '../app-state.ts';
import { getProfile, updateProfile } from '../../services/profile.ts';
import { setPackageAccess } from '../../services/package-access.ts';
import { verifyNewAddress } from './accounts.ts';

export async function profileRoutes(plain: FastifyInstance): Promise<void> {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx, auth } = app.tessera;

  app.get('/-/npm/v1/user', async (req, reply) => {
    return reply.header('cache-control', 'no-store').send(await getProfile(ctx, await who(req)));
  });

  app.post('/-/npm/v1/user', { schema: { body: ProfileUpdate } }, async (req, reply) => {
    const body = req.body;
    const p = await who(req);
    const before = p.user?.email;
    const result = await updateProfile(ctx, auth, p, body);
    // A changed address is unverified until its new link is followed; setting an unverified address again sends a new link.
    const asked = typeof body.email === 'string';
    if (
      p.user &&
      typeof result.email === 'string' &&
      (result.email !== before || (asked && result.email_verified === false))
    ) {
      await verifyNewAddress(req, { ...p.user, email: result.email });
    }
    return reply.header('cache-control', 'no-store').send(result);
  });

  app.post(
    '/-/package/:pkg/access',
    { schema: { params: Type.Object({ pkg: Type.String() }), body: AccessSet } },
    async (req, reply) => {
      await setPackageAccess(ctx, await who(req), req.params.pkg, req.body);
      return reply.header('cache-control', 'no-store').send({ ok: true });
    },
  );
}
