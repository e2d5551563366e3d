// npm profile (GET/POST /-/npm/v1/user) and npm access (POST /-/package/<pkg>/access).
import type { FastifyInstance } from 'fastify';
import { Refusal } from '../../domain/reasons.ts';
import { who } from '../app-state.ts';
import { getProfile, updateProfile } from '../../services/profile.ts';
import { setPackageAccess } from '../../services/package-access.ts';
import { verifyNewAddress } from './accounts.ts';

export async function profileRoutes(app: FastifyInstance): Promise<void> {
  const { ctx, auth } = app.tessera;

  app.get('/-/npm/v1/user', async (req, reply) => {
    return reply.header('cache-control', 'no-store').send(await getProfile(ctx, await who(req)));
  });

  app.post('/-/npm/v1/user', async (req, reply) => {
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Refusal('bad-json', { detail: 'expected a JSON object' });
    const p = await who(req);
    const before = p.user?.email;
    const result = await updateProfile(ctx, auth, p, body as Record<string, unknown>);
    // A changed address is unverified until its new link is followed; setting an unverified address again sends a new link.
    const asked = typeof (body as Record<string, unknown>).email === 'string';
    if (p.user && typeof result.email === 'string' && (result.email !== before || (asked && result.email_verified === false))) {
      await verifyNewAddress(req, { ...p.user, email: result.email });
    }
    return reply.header('cache-control', 'no-store').send(result);
  });

  app.post<{ Params: { pkg: string } }>('/-/package/:pkg/access', async (req, reply) => {
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Refusal('bad-json', { detail: 'expected a JSON object' });
    await setPackageAccess(ctx, await who(req), req.params.pkg, body as Record<string, unknown>);
    return reply.header('cache-control', 'no-store').send({ ok: true });
  });
}
