// The company sign-in's routes (auth.oidc): leave for the provider from the web pages' sign-in or from npm
// login's page, come back to the callback, give the registry's one-time password when the account has 2FA
// and the provider's MFA is not trusted, then a web session or npm's token. The state, nonce and PKCE
// verifier travel in a sealed, HttpOnly cookie, which also binds the answer to the browser that asked; one
// cookie per sign-in (named by its state), so two at once in one browser (two `npm login`s) both finish.
// Registered only when auth.oidc is configured; it also runs the periodic refresh that follows the directory.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../../domain/principal.ts';
import { Refusal } from '../../domain/reasons.ts';
import { completeWebLoginAs, webLoginKind } from '../../services/accounts.ts';
import { toUser } from '../../services/authenticate.ts';
import { userById } from '../../services/accounts.ts';
import {
  finishOidc,
  openPending,
  refreshIdentities,
  sealPending,
  startOidc,
  type Pending,
} from '../../services/signin-oidc.ts';
import { verifyOtpFor } from '../../services/two-factor.ts';
import { openWebSession } from '../../services/web-sessions.ts';
import { baseUrl } from '../base-url.ts';
import { donePage } from '../ui/login-page.ts';
import { ssoOtpPage } from '../ui/signin-oidc-page.ts';
import { formContext, pageContext, safeNext, sendPage, webPlugin } from '../web/common.ts';
import { addCookie, cookie, cookies, startSession } from '../web/session.ts';
import { whileLeased } from '../../services/leases.ts';

/** Company sign-ins one browser may have under way at once (two terminals' `npm login`, a web page…). */
const PENDING_KEPT = 5;

export async function signinOidcRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app.tessera;
  const o = ctx.config.auth.oidc;
  if (!o) return;
  webPlugin(app);
  const ttl = Math.floor(ctx.config.webLoginTtlMs / 1000);
  const pendingName = (req: FastifyRequest, state: string) =>
    `${baseUrl(req).startsWith('https:') ? '__Host-tessera-sso' : 'tessera-sso'}-${state}`;
  const keep = (req: FastifyRequest, reply: FastifyReply, state: string, sealed: string, maxAge = ttl) =>
    addCookie(reply, cookie(req, pendingName(req, state), sealed, maxAge));
  /** The sign-in a request continues: the state the provider sent back, or the OTP form's (never cookie syntax). */
  const stateOf = (v: unknown) => (typeof v === 'string' && /^[\w-]{1,128}$/.test(v) ? v : '');

  const leave = async (
    req: FastifyRequest,
    reply: FastifyReply,
    purpose: Pending['purpose'],
    target: string,
    fresh = false,
  ) => {
    const callback = `${baseUrl(req)}/-/signin/oidc/callback`;
    const { url, state, pending } = await startOidc(ctx, callback, purpose, target, fresh);
    // Sign-ins left unfinished are forgotten past a few, so a browser's cookies stay small.
    const prefix = pendingName(req, '');
    const open = [...cookies(req).keys()].filter((n) => n.startsWith(prefix));
    for (const name of open.slice(0, Math.max(0, open.length - (PENDING_KEPT - 1)))) {
      addCookie(reply, cookie(req, name, '', 0));
    }
    keep(req, reply, state, pending);
    return reply.header('cache-control', 'no-store').redirect(url, 303);
  };

  app.get('/-/web/signin/oidc', async (req, reply) =>
    leave(req, reply, 'web', safeNext((req.query as Record<string, string>).next)),
  );

  app.get<{ Params: { id: string } }>('/-/v1/login/cli/:id/oidc', async (req, reply) => {
    // An OTP challenge (npm's authUrl) asks the provider for a fresh sign-in: it stands for a code typed now.
    const kind = await webLoginKind(ctx, req.params.id);
    return leave(req, reply, 'cli', req.params.id, kind === 'otp');
  });

  /** The person is known (and their second factor proven when `secondFactor`): a web session or npm's token. */
  const complete = async (req: FastifyRequest, reply: FastifyReply, p: Pending, user: User, secondFactor: boolean) => {
    keep(req, reply, p.state, '', 0);
    if (p.purpose === 'web') {
      const s = await openWebSession(ctx, user, String(req.headers['user-agent'] ?? ''), 'oidc');
      startSession(req, reply, s.secret, s.expiresAt - ctx.clock.now());
      return reply.header('cache-control', 'no-store').redirect(safeNext(p.target), 303);
    }
    await completeWebLoginAs(ctx, p.target, user, secondFactor);
    return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(donePage(user.name));
  };

  app.get('/-/signin/oidc/callback', async (req, reply) => {
    const state = stateOf((req.query as Record<string, unknown>).state);
    const p = openPending(ctx, state ? cookies(req).get(pendingName(req, state)) : undefined);
    // Used once, whatever happens next: a replayed answer finds no state to match.
    keep(req, reply, state, '', 0);
    const at = req.url.indexOf('?');
    const { user, mfa } = await finishOidc(ctx, at < 0 ? '' : req.url.slice(at), p);
    if (user.tfa && !mfa) {
      // 2FA still applies: the provider's sign-in is the first factor, the registry's code the second.
      keep(req, reply, p.state, sealPending(ctx, { ...p, userId: user.id }));
      const { view } = await pageContext(req, reply);
      return sendPage(reply, 200, ssoOtpPage(view, user.name, p.state));
    }
    return complete(req, reply, p, user, mfa);
  });

  app.post('/-/signin/oidc/otp', async (req, reply) => {
    const { view, form } = await formContext(req, reply);
    const state = stateOf(form.state);
    const p = openPending(ctx, state ? cookies(req).get(pendingName(req, state)) : undefined);
    if (p.userId === undefined) {
      throw new Refusal('sso-response-invalid', { provider: o.name, detail: 'no sign-in to confirm' });
    }
    const row = await userById(ctx, p.userId);
    if (!row) throw new Refusal('sso-response-invalid', { provider: o.name, detail: 'the account is gone' });
    const user = toUser(row);
    try {
      await verifyOtpFor(ctx, user, typeof form.otp === 'string' && form.otp.trim() ? form.otp.trim() : undefined);
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      reply.header('x-tessera-reason', e.reason);
      return sendPage(reply, e.status, ssoOtpPage(view, user.name, p.state, e.message));
    }
    return complete(req, reply, p, user, true);
  });

  // Following the directory: groups re-applied, refused users deprovisioned (services/signin-oidc.ts).
  // One node per interval refreshes (services/leases.ts); the others skip the round.
  const timer = setInterval(() => {
    whileLeased(ctx, 'oidc-refresh', o.refreshIntervalMs, () => refreshIdentities(ctx)).catch((err: unknown) =>
      app.log.error({ err }, 'company sign-in: refresh failed'),
    );
  }, o.refreshIntervalMs);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}
