// Builds the Fastify application: body parsing, who-is-calling, the route families, one error mapper.
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createGunzip, createInflate } from 'node:zlib';
import { Refusal } from '../domain/reasons.ts';
import type { Ctx } from '../services/context.ts';
import { Authenticator } from '../services/authenticate.ts';
import { readCache } from '../services/read-cache.ts';
import { giveBackCodes } from '../services/two-factor.ts';
import { clientErrorRefusal, MAX_PARAM_LENGTH, refusalOf, schemaDetail, sendRefusal } from './errors.ts';
import { webOtpChallenge } from './web-otp.ts';
import { answerFromMemory, type AccessLog } from './install-reads.ts';
import { packageRoutes } from './routes/packages.ts';
import { accountRoutes } from './routes/accounts.ts';
import { miscRoutes } from './routes/misc.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { profileRoutes } from './routes/profile.ts';
import { orgRoutes } from './routes/orgs.ts';
import { trustRoutes } from './routes/trust.ts';
import { stageRoutes } from './routes/stage.ts';
import { webBrowseRoutes } from './routes/web-browse.ts';
import { webAccountRoutes } from './routes/web-account.ts';
import { hookRoutes } from './routes/hooks.ts';
import { webHookRoutes } from './routes/web-hooks.ts';
import { notReadyBody, opsRoutes } from './routes/ops.ts';
import { routeFamily } from './route-family.ts';
import { enableMetrics, type Metrics } from '../services/metrics.ts';
import { HookDelivery } from '../services/hook-delivery.ts';
import { webTfaRoutes } from './routes/web-2fa.ts';
import { webOrgRoutes } from './routes/web-orgs.ts';
import { webHelpRoutes } from './routes/web-help.ts';
import { webAdminRoutes } from './routes/web-admin.ts';
import { webSettingsRoutes } from './routes/web-settings.ts';
import { webStagingRoutes } from './routes/web-staging.ts';
import { signinOidcRoutes } from './routes/signin-oidc.ts';
import './app-state.ts';

/** URLs can carry secrets (logout carries the token, web login its session): never log those parts. */
export function redactUrl(url: string): string {
  const out = url
    .replace(/(\/-\/user\/token\/)[^/?]+/, '$1[redacted]')
    .replace(/(\/-\/v1\/(?:done|login\/cli)\/)[^/?]+/, '$1[redacted]')
    .replace(/(\/-\/npm\/v1\/tokens\/token\/)[^/?]+/, '$1[redacted]')
    .replace(/(\/-\/tessera\/v1\/email\/verify\/)[^/?]+/, '$1[redacted]')
    .replace(/([?&]token=)[^&#]*/g, '$1[redacted]');
  // An OpenID Provider's authorization code (a one-time credential) and the state that binds it.
  return out.startsWith('/-/signin/oidc/callback?') ? out.replace(/([?&](?:code|state)=)[^&#]*/g, '$1[redacted]') : out;
}

/** A package PUT that carries a tarball is a publish; one without is another document update. */
function isPublish(body: unknown): boolean {
  const a = (body as { _attachments?: unknown } | null | undefined)?._attachments;
  return typeof a === 'object' && a !== null && Object.keys(a).length > 0;
}

export type AppOptions = { logger?: boolean | object };

/** The access log writes one line per request, when it is answered (Fastify's own writes two: when it comes,
 *  and when it is answered without its URL). Replies sent past Fastify (hijacked) are written here too. */
class AccessLogController extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const line = { req: request, res: { statusCode: reply.raw.statusCode }, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

export async function buildApp(ctx: Ctx, opts: AppOptions = {}): Promise<FastifyInstance> {
  readCache(ctx.store).setBudgets(ctx.config.cache);
  const logger =
    opts.logger === false
      ? false
      : {
          level: ctx.config.logLevel,
          redact: {
            paths: [
              'req.headers.authorization',
              'req.headers["npm-otp"]',
              'headers.authorization',
              'password',
              'token',
            ],
            censor: '[redacted]',
          },
          serializers: {
            req: (req: { method: string; url: string; ip?: string }) => ({
              method: req.method,
              url: redactUrl(req.url),
              ip: req.ip,
            }),
          },
          ...(typeof opts.logger === 'object' ? opts.logger : {}),
        };
  // Metrics are kept only when someone may read them: otherwise they would cost the install path for nothing.
  const { metrics: m } = ctx.config;
  const metrics = m.allowCidrs.length || m.allowBearers.length ? enableMetrics(ctx.store) : undefined;
  const auth = new Authenticator(ctx);
  const health = { shuttingDown: false };
  let closing = false;
  // Reads answered from memory log the line the full route's sendBytes() writes, with ids of their own.
  let memoryReads = 0;
  const accessLog: AccessLog | undefined = ctx.config.accessLog
    ? (req, status, startedAt) => {
        app.log.info(
          {
            reqId: `mem-${(++memoryReads).toString(36)}`,
            req: { method: req.method, url: req.url, ip: req.socket.remoteAddress },
            res: { statusCode: status },
            responseTime: performance.now() - startedAt,
          },
          'request completed',
        );
      }
    : undefined;
  const app = Fastify({
    // Install reads whose answer is already in memory are served before Fastify builds its request and
    // reply (install-reads.ts); everything else, and anything once closing, goes through Fastify.
    serverFactory: (handler, options) => {
      // Fastify's own server settings (its defaults, as it would apply them to a server it made).
      const o = options as { keepAliveTimeout?: number; connectionTimeout?: number };
      // A request has requestTimeout to arrive whole, and at most a minute of that for its headers; Node
      // checks every connection only every few seconds, so the interval shrinks with a short timeout.
      const timeout = ctx.config.requestTimeoutMs;
      const server = createServer(
        {
          requestTimeout: timeout,
          headersTimeout: Math.min(timeout, 60_000),
          connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(timeout / 4))),
        },
        metrics
          ? measured(metrics)
          : (req: IncomingMessage, res: ServerResponse) => {
              if (closing) return whileClosing(req, res);
              if (!answerFromMemory(ctx, auth, req, res, accessLog)) handler(req, res);
            },
      );
      // Fastify answers every request with a bare 503 once closing; readiness says why.
      const whileClosing = (req: IncomingMessage, res: ServerResponse) => {
        if (req.url !== '/-/readyz') return handler(req, res);
        res.writeHead(503, { 'content-type': 'application/json', 'cache-control': 'no-store', connection: 'close' });
        res.end(notReadyBody(['shutting-down']));
      };
      // The same, timed: answers from memory are counted here, the rest when Fastify finishes them.
      // Two clock reads (about 50 ns each) are most of what metrics cost a read from memory.
      function measured(metrics: Metrics) {
        return (req: IncomingMessage, res: ServerResponse) => {
          if (closing) return whileClosing(req, res);
          const started = performance.now();
          const kind = answerFromMemory(ctx, auth, req, res, accessLog);
          if (!kind) return handler(req, res);
          metrics.fromMemory(kind, res.statusCode, performance.now() - started);
        };
      }
      server.keepAliveTimeout = o.keepAliveTimeout ?? 72_000;
      server.setTimeout(o.connectionTimeout ?? 0);
      return server;
    },
    logger,
    bodyLimit: ctx.config.maxBodyBytes,
    trustProxy: ctx.config.trustedProxies.length ? ctx.config.trustedProxies : false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH, ignoreTrailingSlash: true },
    // Fastify's answers to a malformed URL, a too long parameter and a broken request carry a reason too.
    frameworkErrors: (err, req, reply) => {
      const refusal =
        refusalOf(err, ctx.config.maxBodyBytes) ?? new Refusal('invalid-request', { detail: err.message });
      sendRefusal(req, reply, refusal);
    },
    clientErrorHandler: (err, socket) => {
      const reason = clientErrorRefusal(err, socket, ctx.config.requestTimeoutMs, ctx.config.publicUrl);
      if (reason) metrics?.refusals.inc({ reason });
    },
    return503OnClosing: true,
    logController: new AccessLogController({ disableRequestLogging: !ctx.config.accessLog }),
    // A child logger per request costs more than the rest of a cached read; only the access log needs one.
    childLoggerFactory: (logger, bindings, opts) => (ctx.config.accessLog ? logger.child(bindings, opts) : logger),
    // Route schemas check what npm sends as it is: no coercion ("true" stays a string, 1 never becomes "1"),
    // no defaults filled in, and no property removed (a publish needs every field it carries).
    ajv: { customOptions: { coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false } },
    schemaErrorFormatter: schemaDetail,
  });
  app.decorate('tessera', { ctx, auth, health });
  ctx.log ??= app.log;
  // Always running: users may make hooks over the API at any time (routes/hooks.ts).
  const hooks = new HookDelivery(ctx, app.log);
  app.addHook('onReady', async () => {
    hooks.start();
  });
  app.addHook('onListen', async () => {
    hooks.listening(app.server.address());
  });
  app.addHook('preClose', (done) => {
    closing = true;
    health.shuttingDown = true;
    done();
  });
  // A stopping node ends each keep-alive connection (a balancer's) with the answer in flight on it: else Node
  // keeps it open, and the close waits, for keepAliveTimeout (72 s).
  app.addHook('onSend', (req, reply, payload, done) => {
    if (health.shuttingDown) reply.header('connection', 'close');
    // A request refused (4xx) changed nothing: a one-time password it took works again, before the client retries.
    if (req.otpTaken?.length && reply.statusCode >= 400 && reply.statusCode < 500) {
      giveBackCodes(req.otpTaken)
        .catch((err: unknown) => req.log.error({ err }, 'could not give back a one-time password'))
        .then(() => done(null, payload));
      return;
    }
    done(null, payload);
  });
  app.addHook('onClose', async () => {
    await hooks.stop();
    await auth.close();
  });
  if (metrics) {
    app.addHook('onResponse', (req, reply, done) => {
      const method = req.method;
      const status = reply.raw.statusCode;
      const family = routeFamily(req.routeOptions.url, method, req.url, isPublish(req.body));
      const installRead = (family === 'packument' || family === 'tarball') && method === 'GET';
      if (installRead && status < 400) metrics.readCache.miss++;
      metrics.series(family, method, status).observe(reply.elapsedTime);
      done();
    });
  }

  // npm gzips the audit body; inflate any encoded request body before parsing.
  // (A callback hook, not an async one: it runs on every request, and most have nothing to inflate.)
  // Only bodies that will be parsed are inflated, and a broken stream is the parser's 400, never an
  // unhandled error (Fastify reads no body for GET or HEAD, so nobody else would listen).
  app.addHook('preParsing', (req, _reply, payload, done) => {
    const enc = req.headers['content-encoding'];
    if ((enc !== 'gzip' && enc !== 'deflate') || req.method === 'GET' || req.method === 'HEAD')
      return done(null, payload);
    delete req.headers['content-length'];
    const inflate = enc === 'gzip' ? createGunzip() : createInflate();
    inflate.on('error', () => {
      /* Fastify's body reader reports it */
    });
    done(null, payload.pipe(inflate));
  });
  await app.register(formbody);
  // npm always sends JSON, sometimes without a content type; treat unknown types as JSON too. An empty
  // body is no body, whatever the content type says (a DELETE from a script often carries one).
  // Bodies are parsed by Fastify's own parser, which refuses __proto__ and constructor.prototype keys.
  const secureJson = app.getDefaultJsonParser('error', 'error');
  const parseJson: Parameters<typeof app.addContentTypeParser>[2] = (req, body, done) => {
    if (body === '') return done(null, undefined);
    secureJson(req, body as string, (err: Error | null, value?: unknown) => {
      if (err) done(new Refusal('bad-json', { detail: err.message }), undefined);
      else done(null, value);
    });
  };
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson);
  app.addContentTypeParser('*', { parseAs: 'string' }, parseJson);

  app.setErrorHandler(async (err, req, reply) => {
    const refusal = refusalOf(err, ctx.config.maxBodyBytes);
    if (refusal) {
      // The cause of a store outage (which host, which error) goes to the log, not to the caller.
      if (refusal.status >= 500)
        req.log.warn({ reason: refusal.reason, err: refusal === err ? undefined : err }, refusal.message);
      return sendRefusal(req, reply, refusal, await webOtpChallenge(ctx, req, refusal));
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return sendRefusal(req, reply, new Refusal('invalid-request', { detail: (err as Error).message }));
    }
    req.log.error({ err }, 'unexpected error');
    return reply
      .code(500)
      .header('cache-control', 'no-store')
      .send({ error: 'Internal error; the registry log has the details' });
  });
  app.setNotFoundHandler((req, reply) => sendRefusal(req, reply, new Refusal('route-not-found')));

  await app.register(accountRoutes);
  await app.register(miscRoutes);
  await app.register(tokenRoutes);
  await app.register(hookRoutes);
  await app.register(profileRoutes);
  await app.register(orgRoutes);
  await app.register(trustRoutes);
  await app.register(stageRoutes);
  await app.register(webBrowseRoutes);
  await app.register(webAccountRoutes);
  await app.register(webHookRoutes);
  await app.register(opsRoutes);
  await app.register(webTfaRoutes);
  await app.register(webOrgRoutes);
  await app.register(webHelpRoutes);
  await app.register(webAdminRoutes);
  await app.register(webSettingsRoutes);
  await app.register(webStagingRoutes);
  await app.register(signinOidcRoutes);
  await app.register(packageRoutes);
  return app;
}
