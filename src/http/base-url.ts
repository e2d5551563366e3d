// The registry's public URL, as clients must see it in dist.tarball and login URLs.
import type { FastifyRequest } from 'fastify';

/** The public base URL without a trailing slash: from config, else from the request's own Host. */
export function baseUrl(req: FastifyRequest): string {
  const configured = req.server.tessera.ctx.config.publicUrl;
  if (configured) return configured.replace(/\/+$/, '');
  return `${req.protocol}://${req.host}`;
}
