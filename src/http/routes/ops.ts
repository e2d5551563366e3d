// For the people who run the registry: Prometheus metrics (only for the scrapers `metrics.allow` admits;
// everyone else gets the plain 404 of an unknown URL), liveness and readiness.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Refusal } from '../../domain/reasons.ts';
import { blockList, ipAllowed } from '../../services/authenticate.ts';
import { readiness } from '../../services/health.ts';
import { metricsOf } from '../../services/metrics.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** A 503 naming what is not ready; written raw, since it is also sent while Fastify is closing. */
export function notReadyBody(failing: string[]): string {
  return JSON.stringify({ status: 'unavailable', failing });
}

export async function opsRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app.tessera;
  const { allowCidrs, allowBearers } = ctx.config.metrics;
  const cidrs = allowCidrs.length ? blockList(allowCidrs) : null;
  // Compared as digests: equal lengths, so timingSafeEqual's time says nothing about the secret.
  const bearers = allowBearers.map(digest);

  function mayScrape(req: FastifyRequest): boolean {
    if (cidrs && ipAllowed(cidrs, req.ip)) return true;
    const h = req.headers.authorization;
    if (!h || !/^bearer /i.test(h) || bearers.length === 0) return false;
    const sent = digest(h.slice(7).trim());
    let ok = false;
    for (const b of bearers) ok = timingSafeEqual(sent, b) || ok;
    return ok;
  }

  app.get('/-/metrics', async (req, reply) => {
    const metrics = metricsOf(ctx.store);
    if (!metrics || !mayScrape(req)) throw new Refusal('route-not-found');
    const text = await metrics.registry.metrics();
    return reply.header('cache-control', 'no-store').type(metrics.registry.contentType).send(text);
  });

  app.get('/-/healthz', async (_req, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));

  app.get('/-/readyz', async (req: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store').type('application/json');
    if (app.tessera.health.shuttingDown) return reply.code(503).send(notReadyBody(['shutting-down']));
    const r = await readiness(ctx);
    if (r.failing.length === 0) return reply.send({ status: 'ok' });
    req.log.warn({ failing: r.failing, errors: r.errors }, 'not ready');
    return reply.code(503).send(notReadyBody(r.failing));
  });
}
