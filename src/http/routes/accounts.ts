// Login (legacy CouchDB and web), logout, whoami, and the user lookup `npm owner add` makes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CouchUser, EmailVerifyParams, WebLoginForm, WebLoginStart } from '../../domain/commands.ts';
import { sendVerification, verifyEmail } from '../../services/email.ts';
import { Refusal } from '../../domain/reasons.ts';
import { who, whoLenient } from '../app-state.ts';
import { baseUrl } from '../base-url.ts';
import {
  completeWebLogin,
  couchLogin,
  logout,
  pollWebLogin,
  startWebLogin,
  webLoginKind,
} from '../../services/accounts.ts';
import { donePage, LOGIN_PAGE_CSP, loginPage } from '../ui/login-page.ts';
import { requestVerification, userDocument, whoami } from '../../services/profile.ts';

const NO_STORE = 'no-store';

function couchName(param: string): string {
  // "org.couchdb.user:<name>" with the name URI-encoded by npm.
  const prefix = 'org.couchdb.user:';
  if (!param.startsWith(prefix)) throw new Refusal('route-not-found');
  return param.slice(prefix.length);
}

/** When the registry requires verified addresses, a new address gets its link at once. */
export async function verifyNewAddress(
  req: FastifyRequest,
  user: { id: number; name: string; email: string },
): Promise<void> {
  const { ctx } = req.server.tessera;
  if (!ctx.config.email.requireVerified) return;
  let sent: Awaited<ReturnType<typeof sendVerification>>;
  try {
    sent = await sendVerification(ctx, user);
  } catch (e) {
    // The account change stands; the administrator has to set publicUrl before any link can go out.
    if (!(e instanceof Refusal) || e.reason !== 'email-link-unavailable') throw e;
    const why = 'verification e-mail NOT sent: set publicUrl in the configuration';
    req.log.error({ user: user.name, reason: e.reason }, why);
    return;
  }
  req.log.info(
    { user: user.name, via: sent.via, path: sent.path },
    sent.path ? `verification e-mail written to ${sent.path}` : 'verification e-mail sent',
  );
}

/** A POST that may come without a body (npm-profile's web login sends `{}`, scripts send nothing). */
async function noBodyIsEmpty(req: FastifyRequest): Promise<void> {
  req.body ??= {};
}

export async function accountRoutes(plain: FastifyInstance): Promise<void> {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx, auth } = app.tessera;

  const putUser = async (req: FastifyRequest<{ Params: { user: string }; Body: CouchUser }>, reply: FastifyReply) => {
    const name = couchName(req.params.user);
    const body = req.body;
    const caller = await whoLenient(req);
    const otp = req.headers['npm-otp'];
    const r = await couchLogin(ctx, auth, caller, name, body, typeof otp === 'string' && otp ? otp : undefined, req.ip);
    if (r.created) await verifyNewAddress(req, r.created);
    return reply
      .code(r.status)
      .header('cache-control', NO_STORE)
      .send({ ok: true, id: `org.couchdb.user:${r.name}`, rev: '1-0', token: r.token });
  };
  app.put('/-/user/:user', { schema: { body: CouchUser } }, putUser);
  app.put('/-/user/:user/-rev/:rev', { schema: { body: CouchUser } }, putUser);

  app.get<{ Params: { user: string } }>('/-/user/:user', async (req, reply) => {
    const name = couchName(req.params.user);
    return reply.header('cache-control', NO_STORE).send(await userDocument(ctx, await who(req), name));
  });

  app.delete<{ Params: { token: string } }>('/-/user/token/:token', async (req, reply) => {
    await logout(ctx, auth, req.params.token);
    return reply.header('cache-control', NO_STORE).send({ ok: true });
  });

  app.get('/-/whoami', async (req, reply) => {
    const username = await whoami(ctx, await who(req));
    return reply.header('cache-control', NO_STORE).header('x-tessera-version', 'tessera').send({ username });
  });

  // --- e-mail verification
  app.get('/-/tessera/v1/email/verify/:token', { schema: { params: EmailVerifyParams } }, async (req, reply) => {
    reply
      .header('cache-control', NO_STORE)
      .header('content-security-policy', LOGIN_PAGE_CSP)
      .type('text/html; charset=utf-8');
    try {
      const name = await verifyEmail(ctx, req.params.token);
      return reply.send(
        `<!doctype html><title>Verified</title><h1>E-mail verified</h1><p>Thank you, ${name}. You can publish now.</p>`,
      );
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      return reply
        .code(e.status)
        .header('x-tessera-reason', e.reason)
        .send(`<!doctype html><title>Not verified</title><h1>Not verified</h1><p>${e.message}.</p>`);
    }
  });
  app.post('/-/tessera/v1/email/verify', async (req, reply) => {
    const sent = await requestVerification(ctx, await who(req));
    return reply.header('cache-control', NO_STORE).send({ sent: true, via: sent.via });
  });

  // The company sign-in on npm's page; for an OTP challenge only where the provider's MFA is trusted.
  const ssoFor = (kind: string, href: string) => {
    const o = ctx.config.auth.oidc;
    return o && (kind !== 'otp' || o.trustMfa) ? { name: o.name, href } : undefined;
  };

  // --- web login
  app.post('/-/v1/login', { preValidation: noBodyIsEmpty, schema: { body: WebLoginStart } }, async (req, reply) => {
    const create = req.body.create === true;
    const secret = await startWebLogin(ctx, create ? 'adduser' : 'login');
    const base = baseUrl(req);
    return reply
      .header('cache-control', NO_STORE)
      .send({ loginUrl: `${base}/-/v1/login/cli/${secret}`, doneUrl: `${base}/-/v1/done/${secret}` });
  });

  /** The kind of npm login pending at `id`, with the login page's headers; none once it expired (the page sent). */
  const pendingLogin = async (id: string, reply: FastifyReply) => {
    const kind = await webLoginKind(ctx, id).catch(() => undefined);
    reply
      .header('cache-control', NO_STORE)
      .header('content-security-policy', LOGIN_PAGE_CSP)
      .type('text/html; charset=utf-8');
    if (!kind)
      reply
        .code(404)
        .header('x-tessera-reason', 'web-login-expired')
        .send('<!doctype html><p>This login link has expired. Run <code>npm login</code> again.</p>');
    return kind;
  };

  app.get<{ Params: { id: string } }>('/-/v1/login/cli/:id', async (req, reply) => {
    const kind = await pendingLogin(req.params.id, reply);
    if (!kind) return reply;
    return reply.send(
      loginPage({
        action: `${baseUrl(req)}/-/v1/login/cli/${req.params.id}`,
        create: kind === 'adduser',
        otpOnly: kind === 'otp',
        sso: ssoFor(kind, `${baseUrl(req)}/-/v1/login/cli/${req.params.id}/oidc`),
      }),
    );
  });

  const formSchema = { params: Type.Object({ id: Type.String() }), body: WebLoginForm };
  app.post('/-/v1/login/cli/:id', { preValidation: noBodyIsEmpty, schema: formSchema }, async (req, reply) => {
    const form = req.body;
    const kind = await pendingLogin(req.params.id, reply);
    if (!kind) return reply;
    try {
      const user = await completeWebLogin(ctx, auth, req.params.id, { ...form, create: kind === 'adduser' }, req.ip);
      if (kind === 'adduser') await verifyNewAddress(req, user);
      return reply.send(donePage(user.name));
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      return reply
        .code(e.status)
        .header('x-tessera-reason', e.reason)
        .send(
          loginPage({
            action: `${baseUrl(req)}/-/v1/login/cli/${req.params.id}`,
            create: kind === 'adduser',
            otpOnly: kind === 'otp',
            error: e.message,
            name: form.name,
            email: form.email,
            sso: ssoFor(kind, `${baseUrl(req)}/-/v1/login/cli/${req.params.id}/oidc`),
          }),
        );
    }
  });

  // npm polls doneUrl with GET after a login, but with the command's own method (PUT, DELETE…) after a
  // web OTP challenge, so every method gets the same answer.
  app.route<{ Params: { id: string } }>({
    method: ['GET', 'POST', 'PUT', 'DELETE'],
    url: '/-/v1/done/:id',
    handler: async (req, reply) => {
      const token = await pollWebLogin(ctx, req.params.id);
      reply.header('cache-control', NO_STORE);
      if (token === null) return reply.code(202).header('retry-after', '1').send({});
      return reply.send({ token });
    },
  });
}
