// Packuments, versions and tarballs (GET), publish and document updates (PUT), unpublish (DELETE).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import semver from 'semver';
import { Refusal } from '../../domain/reasons.ts';
import { PublishDoc } from '../../domain/commands.ts';
import { assertReadableName, decodeNameSegment } from '../../domain/names.ts';
import { parsePackagePath, type PackagePath } from '../package-path.ts';
import { who } from '../app-state.ts';
import { baseUrl } from '../base-url.ts';
import { readPackument, readTarball } from '../../services/read.ts';
import { publish } from '../../services/publish.ts';
import { packumentHeaders, tarballHeaders, wantsCorgi, writeBytes } from '../install-reads.ts';
import { anonymousWrite } from '../../services/deny.ts';
import { deleteTarball, unpublishPackage, updateDocument } from '../../services/package-writes.ts';

function pathOf(req: FastifyRequest, forPublish = false): PackagePath {
  const p = parsePackagePath(req.url);
  if (!p) {
    // `/%40x`: a scope with no name after it can never be a package.
    const only = /^\/([^/?]+)\/?(\?|$)/.exec(req.url);
    const scopeOnly = only ? decodeNameSegment(only[1]) : '';
    if (/^@[^/]*$/.test(scopeOnly)) assertReadableName(scopeOnly);
    throw new Refusal('route-not-found');
  }
  // A publish validates the name itself, to say what is wrong with it. A name no package can ever have is
  // refused with npm's reason; one that could exist is not found alike, whether hidden or missing.
  if (!forPublish) assertReadableName(p.name);
  return p;
}

/** Prepared bytes go straight to the socket, past Fastify's reply pipeline (serialisation, onSend hooks).
 *  The access log, when on, is written when the answer is sent (server.ts AccessLogController). */
function sendBytes(reply: FastifyReply, status: number, headers: Record<string, string>, body?: Buffer): void {
  reply.hijack();
  writeBytes(reply.raw, status, headers, body);
}

/** The full route for reads; install-reads.ts answers the common case before it, from memory, with the same bytes. */
async function getPackage(req: FastifyRequest, reply: FastifyReply) {
  const { tessera } = req.server;
  const path = pathOf(req);
  const principal = await who(req);
  if (path.kind === 'tarball') {
    const { data, access } = await readTarball(tessera.ctx, principal, path.name, path.file);
    if (Buffer.isBuffer(data)) return sendBytes(reply, 200, tarballHeaders(access), data);
    // The URL is presigned and expires soon: nobody may keep the redirect.
    if ('redirect' in data) return sendBytes(reply, 302, { location: data.redirect, 'cache-control': 'no-store' });
    // Streamed from the store or the upstream: a failure midway (a failed integrity check) cuts the
    // connection, short of the length promised.
    reply.hijack();
    const length = data.size === undefined ? {} : { 'content-length': String(data.size) };
    reply.raw.writeHead(200, { ...tarballHeaders(access), ...length });
    data.stream.on('error', () => reply.raw.destroy());
    data.stream.pipe(reply.raw);
    // A download cut short never finishes: the access log says so here, as Fastify writes no line for it.
    if (tessera.ctx.config.accessLog) {
      const line = () => ({ req, res: { statusCode: 200 }, responseTime: reply.elapsedTime });
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) reply.log.warn(line(), 'request cut short');
      });
    }
    return;
  }
  const write = (req.query as Record<string, string>).write === 'true';
  const corgi = path.kind === 'document' && !write && wantsCorgi(req.headers.accept);
  const base = baseUrl(req);
  const doc = await readPackument(tessera.ctx, principal, path.name, corgi ? 'abbrev' : 'full', base);
  const visibility = doc.access === 'public' ? 'public' : 'private';
  if (path.kind === 'version') {
    reply.header('vary', 'Accept, Authorization');
    // GET /<name>/<version|tag>: one manifest, for tools that ask for it directly.
    const full = JSON.parse(doc.body.toString('utf8')) as {
      versions: Record<string, unknown>;
      'dist-tags': Record<string, string>;
    };
    const v =
      full['dist-tags'][path.spec] ??
      (semver.valid(path.spec) ? path.spec : semver.maxSatisfying(Object.keys(full.versions), path.spec));
    if (!v || !full.versions[v]) throw new Refusal('version-missing', { version: path.spec, package: path.name });
    return reply.header('cache-control', `${visibility}, max-age=0, must-revalidate`).send(full.versions[v]);
  }
  const headers = packumentHeaders(doc.etag, corgi, doc.access, write, base);
  if (!write && req.headers['if-none-match'] === headers.etag) return sendBytes(reply, 304, headers);
  return sendBytes(reply, 200, headers, doc.body);
}

/** Every PUT here writes, and a publish body may be maxBodyBytes of JSON: an anonymous one is refused unparsed. */
async function refuseAnonymous(req: FastifyRequest): Promise<void> {
  if ((await who(req)).user !== null) return;
  const name = parsePackagePath(req.url)?.name ?? '';
  throw await anonymousWrite(req.server.tessera.ctx, name, 'publish or change packages');
}

/** Only a document takes a PUT: what else is PUT to is refused as a method before its body is looked at. */
function documentPath(req: FastifyRequest): Extract<PackagePath, { kind: 'document' }> {
  const path = pathOf(req, true);
  if (path.kind !== 'document') throw new Refusal('method-not-allowed', { method: 'PUT' });
  return path;
}

async function putPackage(req: FastifyRequest<{ Body: PublishDoc }>, reply: FastifyReply) {
  const { ctx } = req.server.tessera;
  const path = documentPath(req);
  const principal = await who(req);
  const doc = req.body;
  const attachments = doc._attachments;
  if (path.rev === undefined && attachments && Object.keys(attachments).length > 0) {
    const r = await publish(ctx, principal, path.name, doc);
    req.log.info({ package: r.name, version: r.version, user: principal.user?.name }, 'published');
    return reply.code(201).header('cache-control', 'no-store').send({ ok: true, id: r.name, success: true });
  }
  await updateDocument(ctx, principal, path.name, doc, path.rev);
  return reply.code(201).header('cache-control', 'no-store').send({ ok: true, id: path.name });
}

async function deletePackage(req: FastifyRequest, reply: FastifyReply) {
  const { ctx } = req.server.tessera;
  const path = pathOf(req);
  const principal = await who(req);
  if (path.kind === 'document') {
    if (path.rev === undefined)
      throw new Refusal('invalid-request', {
        detail: 'Unpublishing a package needs its revision: DELETE /<name>/-rev/<rev>',
      });
    await unpublishPackage(ctx, principal, path.name, path.rev);
  } else if (path.kind === 'tarball') {
    await deleteTarball(ctx, principal, path.name);
  } else {
    throw new Refusal('method-not-allowed', { method: 'DELETE' });
  }
  return reply.code(200).header('cache-control', 'no-store').send({ ok: true });
}

export async function packageRoutes(app: FastifyInstance): Promise<void> {
  app.get('/*', getPackage);
  app.put(
    '/*',
    {
      preParsing: async (req, _reply, payload) => {
        await refuseAnonymous(req);
        return payload;
      },
      preValidation: async (req) => {
        documentPath(req);
      },
      schema: { body: PublishDoc },
    },
    putPackage,
  );
  app.delete('/*', deletePackage);
}
