// The registry's public URL, as clients must see it in dist.tarball and login URLs.
import type { FastifyRequest } from 'fastify';

/** The public base URL without a trailing slash: from config, else from the request's own Host. */
export function baseUrl(req: FastifyRequest): string {
  const config = req.server.tessera.ctx.config;
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '');
  // Without trusted proxies no forwarded header counts: the socket and Host say it all (and cheaply).
  if (config.trustedProxies.length === 0) {
    return `${(req.raw.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`;
  }
  return `${req.protocol}://${req.host}`;
}
