// Small endpoints: ping, search, the audit bulk endpoint, help articles, visibility and dist-tags.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Refusal } from '../../domain/reasons.ts';
import { DistTagBody, SearchQuery } from '../../domain/commands.ts';
import { who } from '../app-state.ts';
import { baseUrl } from '../base-url.ts';
import { search } from '../../services/search.ts';
import { attestationsOf, myStars, starredBy, visibility } from '../../services/package-extras.ts';
import { changeOwner, getDistTags, removeDistTag, setDistTag, starPackage } from '../../services/package-writes.ts';
import { forwardAudit, upstreamKeys } from '../../services/audit-forward.ts';
import { VERSION } from '../../config/version.ts';

const KB_DIR = fileURLToPath(new URL('../../../kb/', import.meta.url));

export async function miscRoutes(plain: FastifyInstance): Promise<void> {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx } = app.tessera;

  // The doctor recognises a Tessera registry by this header on its first probe.
  app.get('/-/ping', async (req, reply) => {
    await who(req);
    return reply.header('cache-control', 'no-store').header('x-tessera-version', VERSION).send({});
  });

  app.get('/-/v1/search', { schema: { querystring: SearchQuery } }, async (req, reply) => {
    const q = req.query;
    if (typeof q.text !== 'string' || !q.text.trim()) {
      throw new Refusal('invalid-request', { detail: 'a search needs words to look for: /-/v1/search?text=<words>' });
    }
    const size = Math.min(Math.max(Number.parseInt(q.size ?? '20', 10) || 20, 1), 250);
    const from = Math.max(Number.parseInt(q.from ?? '0', 10) || 0, 0);
    const p = await who(req);
    return reply.header('cache-control', 'no-store').send(await search(ctx, p, String(q.text ?? ''), size, from));
  });

  // `npm stars [user]`: the CouchDB view npm still asks for. Only packages the caller may see are listed.
  app.get('/-/_view/starredByUser', async (req, reply) => {
    const p = await who(req);
    const key = String((req.query as Record<string, string>).key ?? '').replace(/^"|"$/g, '');
    const rows = (await starredBy(ctx, p, key)).map((value) => ({ key, value }));
    return reply.header('cache-control', 'no-store').send({ rows });
  });

  // pnpm's forms: star and unstar with the package in the body, the caller's own stars, and a user's stars.
  const starBody = (b: unknown) => {
    const o = (b && typeof b === 'object' ? b : {}) as Record<string, unknown>;
    return o.package ?? o.name;
  };
  app.put('/-/user/v1/star', async (req, reply) => {
    await starPackage(ctx, await who(req), starBody(req.body), true);
    return reply.code(200).header('cache-control', 'no-store').send({ ok: true });
  });
  app.delete('/-/user/v1/star', async (req, reply) => {
    await starPackage(ctx, await who(req), starBody(req.body), false);
    return reply.code(200).header('cache-control', 'no-store').send({ ok: true });
  });
  for (const method of ['PUT', 'DELETE'] as const) {
    app.route<{ Params: { pkg: string } }>({
      method,
      url: '/-/user/package/:pkg/star',
      handler: async (req, reply) => {
        await starPackage(ctx, await who(req), req.params.pkg, method === 'PUT');
        return reply.code(200).header('cache-control', 'no-store').send({ ok: true });
      },
    });
  }
  app.get('/-/user/v1/star', async (req, reply) => {
    return reply.header('cache-control', 'no-store').send(await myStars(ctx, await who(req)));
  });
  for (const url of ['/-/user/:user/stars', '/-/util/user/:user/stars']) {
    app.get<{ Params: { user: string } }>(url, async (req, reply) => {
      const names = await starredBy(ctx, await who(req), req.params.user);
      return reply.header('cache-control', 'no-store').send(Object.fromEntries(names.map((n) => [n, true])));
    });
  }

  // `pnpm owner add|rm`: the same rules as npm's form (a document update of `maintainers`).
  app.put<{ Params: { pkg: string } }>('/-/package/:pkg/owners', async (req, reply) => {
    const user = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>).user : undefined;
    await changeOwner(ctx, await who(req), req.params.pkg, user, true);
    return reply.code(200).header('cache-control', 'no-store').send({ ok: true });
  });
  app.delete<{ Params: { pkg: string; user: string } }>('/-/package/:pkg/owners/:user', async (req, reply) => {
    await changeOwner(ctx, await who(req), req.params.pkg, req.params.user, false);
    return reply.code(200).header('cache-control', 'no-store').send({ ok: true });
  });

  // No advisory database yet: an empty answer keeps `npm audit` and `npm install` working.

  // No advisory database here: audits go to the upstream, without private names (services/audit-forward.ts).
  app.post('/-/npm/v1/security/advisories/bulk', async (req, reply) => {
    await who(req);
    return reply.header('cache-control', 'no-store').send(await forwardAudit(ctx, 'bulk', req.body));
  });
  app.post('/-/npm/v1/security/audits/quick', async (req, reply) => {
    await who(req);
    return reply.header('cache-control', 'no-store').send(await forwardAudit(ctx, 'quick', req.body));
  });

  // `npm audit signatures`: the upstream's keys verify the signatures its cached packuments carry.
  app.get('/-/npm/v1/keys', async (req, reply) => {
    await who(req);
    return reply.header('cache-control', 'public, max-age=300').send(await upstreamKeys(ctx));
  });

  app.get<{ Params: { slug: string } }>('/-/help/:slug', async (req, reply) => {
    const slug = req.params.slug;
    if (!/^[a-z0-9][a-z0-9-]*$/.test(slug)) throw new Refusal('not-found');
    const text = await readFile(`${KB_DIR}${slug}.md`, 'utf8').catch(() => undefined);
    if (text === undefined) throw new Refusal('not-found');
    return reply.type('text/markdown; charset=utf-8').send(text);
  });

  app.get<{ Params: { pkg: string } }>('/-/package/:pkg/visibility', async (req, reply) => {
    return reply.header('cache-control', 'no-store').send(await visibility(ctx, await who(req), req.params.pkg));
  });

  // Provenance bundles uploaded with `npm publish --provenance`, as pacote asks for them. A restricted
  // package's are `private`: a shared cache in front of the registry would hand a `public` answer to anyone.
  const sendAttestations = (reply: FastifyReply, r: { attestations: unknown[]; access: string }) =>
    reply
      .header('cache-control', `${r.access === 'public' ? 'public' : 'private'}, max-age=300`)
      .send({ attestations: r.attestations });
  app.get<{ Params: { spec: string } }>('/-/npm/v1/attestations/:spec', async (req, reply) => {
    return sendAttestations(reply, await attestationsOf(ctx, await who(req), req.params.spec));
  });
  // A scoped name unescaped (`@scope/name@1.0.0`), as local packages' documents write it.
  app.get<{ Params: { scope: string; spec: string } }>('/-/npm/v1/attestations/:scope/:spec', async (req, reply) => {
    const { scope, spec } = req.params;
    if (!scope.startsWith('@')) throw new Refusal('not-found');
    return sendAttestations(reply, await attestationsOf(ctx, await who(req), `${scope}/${spec}`));
  });

  app.get<{ Params: { pkg: string } }>('/-/package/:pkg/dist-tags', async (req, reply) => {
    const tags = await getDistTags(ctx, await who(req), req.params.pkg, baseUrl(req));
    return reply.header('cache-control', 'no-store').send(tags);
  });
  const tagParams = Type.Object({ pkg: Type.String(), tag: Type.String() });
  app.put(
    '/-/package/:pkg/dist-tags/:tag',
    { schema: { params: tagParams, body: DistTagBody } },
    async (req, reply) => {
      await setDistTag(ctx, await who(req), req.params.pkg, req.params.tag, req.body);
      return reply.code(201).header('cache-control', 'no-store').send({ ok: true });
    },
  );
  app.delete<{ Params: { pkg: string; tag: string } }>('/-/package/:pkg/dist-tags/:tag', async (req, reply) => {
    await removeDistTag(ctx, await who(req), req.params.pkg, req.params.tag);
    return reply.code(200).header('cache-control', 'no-store').send({ ok: true });
  });
}
