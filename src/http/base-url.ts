// The registry's public URL, as clients must see it in dist.tarball and login URLs.
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/config.ts';

/** The public base URL without a trailing slash: from config, else from the request's own Host. */
export function baseUrl(req: FastifyRequest): string {
  const config = req.server.tessera.ctx.config;
  if (config.publicUrl || config.trustedProxies.length === 0) return baseUrlOf(config, req.raw);
  return `${req.protocol}://${req.host}`;
}

/** The same without trusted proxies, from the raw request: no forwarded header counts, the socket and Host say it all (and cheaply). */
export function baseUrlOf(config: Config, raw: IncomingMessage): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '');
  return `${(raw.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'}://${raw.headers.host ?? 'localhost'}`;
}
