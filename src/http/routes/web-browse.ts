// The web pages for browsing: home (also `/` for browsers), search, a package, its README images, and
// the stylesheet and script, all served by the registry itself (no CDN; works with no internet).
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { Refusal } from '../../domain/reasons.ts';
import { search } from '../../services/search.ts';
import { packageImage, packagePage, packageReadme, recentPackages } from '../../services/web-browse.ts';
import { sendRefusal } from '../errors.ts';
import { homePage, packagePageHtml, searchPage } from '../ui/pages-browse.ts';
import { settingsUrl } from '../ui/pages-settings.ts';
import { mayManage } from '../../services/web-settings.ts';
import { isBrowser, pageContext, sendPage, webPlugin } from '../web/common.ts';

const STATIC: Record<string, { type: string; body: Buffer }> = {
  'web.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('../ui/static/web.css', import.meta.url)) },
  'web.js': {
    type: 'text/javascript; charset=utf-8',
    body: readFileSync(new URL('../ui/static/web.js', import.meta.url)),
  },
};

/** `@scope/name[/v/<version>]` or `name[/v/<version>]`, as the package page's URL carries it. */
function packageParams(wild: string): { name: string; version?: string } {
  const segs = wild.split('/').map((s) => decodeURIComponent(s));
  const n = segs[0]?.startsWith('@') ? 2 : 1;
  const name = segs.slice(0, n).join('/');
  const rest = segs.slice(n);
  if (!name || (rest.length && (rest[0] !== 'v' || rest.length !== 2 || !rest[1]))) throw new Refusal('not-found');
  return { name, version: rest[1] };
}

/** Versions a package page lists unless all are asked for. */
const SHOWN_VERSIONS = 30;

export async function webBrowseRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app.tessera;
  webPlugin(app);

  app.get<{ Params: { file: string } }>('/-/web/static/:file', async (req, reply) => {
    const f = STATIC[req.params.file];
    if (!f) throw new Refusal('not-found');
    return reply.header('cache-control', 'public, max-age=300').type(f.type).send(f.body);
  });

  const home = async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    const { caller, view } = await pageContext(req, reply);
    return sendPage(reply, 200, homePage(view, await recentPackages(ctx, caller.principal)));
  };
  app.get('/-/web/', home);
  // The registry's root is npm's API; only a browser gets the home page there.
  app.get('/', async (req, reply) =>
    isBrowser(req) ? home(req, reply) : sendRefusal(req, reply, new Refusal('route-not-found')),
  );

  app.get('/-/web/search', async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    const query = req.query as Record<string, string>;
    const q = String(query.q ?? '').slice(0, 200);
    const page = Math.min(Math.max(Number.parseInt(query.page ?? '0', 10) || 0, 0), 500);
    const r = q.trim() ? await search(ctx, caller.principal, q, 20, page * 20) : { objects: [], total: 0 };
    const results = r.objects.map((o) => ({
      name: o.package.name,
      version: o.package.version,
      description: o.package.description,
      date: o.package.date,
    }));
    return sendPage(reply, 200, searchPage(view, q, r.total, results, page));
  });

  app.get<{ Params: { '*': string } }>('/-/web/package/*', async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    const { name, version } = packageParams(req.params['*']);
    const all = (req.query as Record<string, string>).versions === 'all';
    const p = await packagePage(ctx, caller.principal, name, version, all ? undefined : SHOWN_VERSIONS);
    const settings = (await mayManage(ctx, caller.principal, name)) ? settingsUrl(name) : undefined;
    return sendPage(reply, 200, packagePageHtml(view, p, all, settings));
  });

  // The whole README of a version whose page shows only its start: text, never HTML, run nothing.
  app.get<{ Params: { name: string; version: string } }>('/-/web/readme/:name/:version', async (req, reply) => {
    const { caller } = await pageContext(req, reply);
    const text = await packageReadme(ctx, caller.principal, req.params.name, req.params.version);
    return reply
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('cache-control', 'private, max-age=300')
      .type('text/plain; charset=utf-8')
      .send(text);
  });

  // Images a README names by a relative path, from the version's tarball. Sandboxed: an SVG runs nothing.
  type FileParams = { name: string; version: string; '*': string };
  app.get<{ Params: FileParams }>('/-/web/file/:name/:version/*', async (req, reply) => {
    const { caller } = await pageContext(req, reply);
    const img = await packageImage(ctx, caller.principal, req.params.name, req.params.version, req.params['*']);
    return reply
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox")
      .header('cache-control', 'private, max-age=300')
      .type(img.type)
      .send(img.data);
  });
}
