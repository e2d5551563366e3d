// The web pages for one's own account: sign in and out, profile, password, sessions, access tokens.
// Each action calls the same service as the API (npm login, npm profile, npm token), so the rules,
// limits and refusals are the API's.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Refusal } from '../../domain/reasons.ts';
import { createForCaller, listForCaller, revokeForCaller } from '../../services/npm-tokens.ts';
import { getProfile, updateProfile } from '../../services/profile.ts';
import { myPasswordCounts } from '../../services/web-self.ts';
import { listSessions, revokeSession, signIn, signOut, signOutEverywhere } from '../../services/web-sessions.ts';
import type { View } from '../ui/layout.ts';
import { refusal, type Refused } from '../ui/refused.ts';
import {
  accountPage,
  createdTokenPage,
  newTokenPage,
  signInPage,
  tokensPage,
  type Profile,
  type SsoLink,
} from '../ui/pages-account.ts';
import type { Ctx } from '../../services/context.ts';
import { endSession, startSession } from '../web/session.ts';
import { showOnce, takeShown } from '../web/shown-once.ts';
import { done, formContext, pageContext, safeNext, sendPage, toSignIn, webPlugin } from '../web/common.ts';

type Form = Record<string, string>;
const list = (s: string | undefined) => (s ?? '').split(/[\s,]+/).filter(Boolean);

/** The web form as the body `npm token create` sends. */
function tokenBody(f: Record<string, string>): Record<string, unknown> {
  return {
    name: f.name || undefined,
    token_description: f.token_description || undefined,
    expires: f.expires || undefined,
    packages_and_scopes_permission: f.packages_and_scopes_permission || undefined,
    packages_all: f.packages_all === 'on',
    packages: list(f.packages),
    scopes: list(f.scopes),
    orgs: list(f.orgs),
    orgs_permission: f.orgs_permission || undefined,
    cidr_whitelist: list(f.cidr),
    bypass_2fa: f.bypass_2fa === 'on',
    password: f.password,
  };
}

/** The token form's field a refusal is about: the part of npm's request the service named, or the password or
 *  one-time password a refusal of the caller's proof is about. */
function tokenField(r: Refusal): string | undefined {
  if (r.reason === 'password-wrong' || r.reason === 'password-required') return 'password';
  if (r.reason.startsWith('otp-')) return 'otp';
  const field = r.params.field;
  return field === 'cidr_whitelist' ? 'cidr' : typeof field === 'string' ? field : undefined;
}

function ssoLink(ctx: Ctx, next: unknown): SsoLink | undefined {
  const o = ctx.config.auth.oidc;
  if (!o) return undefined;
  const href = `/-/web/signin/oidc?next=${encodeURIComponent(safeNext(next))}`;
  return { name: o.name, href, only: !ctx.config.auth.local };
}

const CREATED = '/-/web/tokens/created';

/** The registry's nerf-dart, the key npm looks tokens up by: `//host/path/`. */
const nerfDart = (registry: string) => `${registry.replace(/^https?:/, '')}/`;

export async function webAccountRoutes(app: FastifyInstance): Promise<void> {
  const { ctx, auth } = app.tessera;
  webPlugin(app);

  const refused = (e: unknown): string => {
    if (e instanceof Refusal) return e.message;
    throw e;
  };

  app.get('/-/web/signin', async (req, reply) => {
    const { view } = await pageContext(req, reply);
    const next = safeNext((req.query as Record<string, string>).next);
    return sendPage(reply, 200, signInPage(view, { next, sso: ssoLink(ctx, next) }));
  });

  app.post('/-/web/signin', async (req, reply) => {
    const { view, form } = await formContext(req, reply);
    try {
      const s = await signIn(ctx, auth, form, req.ip, String(req.headers['user-agent'] ?? ''));
      startSession(req, reply, s.secret, s.expiresAt - ctx.clock.now());
      return reply.header('cache-control', 'no-store').redirect(safeNext(form.next), 303);
    } catch (e) {
      const error = refused(e);
      reply.header('x-tessera-reason', (e as Refusal).reason);
      const sso = ssoLink(ctx, form.next);
      const again = signInPage(view, { error, name: form.name, next: safeNext(form.next), sso });
      return sendPage(reply, (e as Refusal).status, again);
    }
  });

  app.post('/-/web/signout', async (req, reply) => {
    const { caller } = await formContext(req, reply);
    if (caller.session) await signOut(ctx, auth, caller.session);
    endSession(req, reply);
    return reply.header('cache-control', 'no-store').redirect('/-/web/', 303);
  });

  type Msg = { error?: string; refused?: Refused };
  const account = async (req: FastifyRequest, reply: FastifyReply, view: View, msg: Msg, status = 200) => {
    const { caller } = await pageContext(req, reply);
    const profile = (await getProfile(ctx, caller.principal)) as Profile;
    const sessions = await listSessions(ctx, caller.principal);
    const password = await myPasswordCounts(ctx, caller.principal);
    return sendPage(reply, status, accountPage(view, profile, sessions, msg, password));
  };
  /** The account page again after a refused form: the refusal in that form, its reason and status. */
  const accountRefused = (
    req: FastifyRequest,
    reply: FastifyReply,
    view: View,
    action: string,
    form: Form,
    e: unknown,
  ) => {
    if (!(e instanceof Refusal)) throw e;
    const r = e;
    reply.header('x-tessera-reason', r.reason);
    return account(req, reply, view, { refused: refusal(action, form, r) }, r.status);
  };

  app.get('/-/web/account', async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    if (!caller.principal.user) return toSignIn(req, reply);
    return account(req, reply, view, {});
  });

  app.post('/-/web/account/password', async (req, reply) => {
    const { caller, principal, view, form } = await formContext(req, reply);
    if (!principal.user) return toSignIn(req, reply);
    try {
      await updateProfile(ctx, auth, principal, { password: { old: form.old ?? '', new: form.new ?? '' } });
    } catch (e) {
      return accountRefused(req, reply, view, 'password', form, e);
    }
    return done(req, reply, caller, '/-/web/account', 'Password changed. Every other session has ended.');
  });

  app.post('/-/web/account/sessions/revoke', async (req, reply) => {
    const { caller, principal, view, form } = await formContext(req, reply);
    if (!principal.user) return toSignIn(req, reply);
    try {
      await revokeSession(ctx, auth, principal, String(form.id ?? ''));
    } catch (e) {
      return accountRefused(req, reply, view, 'sessions/revoke', form, e);
    }
    return done(req, reply, caller, '/-/web/account', 'The session has ended.');
  });

  app.post('/-/web/account/sessions/revoke-all', async (req, reply) => {
    const { principal, view, form } = await formContext(req, reply);
    if (!principal.user) return toSignIn(req, reply);
    try {
      await signOutEverywhere(ctx, auth, principal);
    } catch (e) {
      return accountRefused(req, reply, view, 'sessions/revoke-all', form, e);
    }
    endSession(req, reply);
    return reply.header('cache-control', 'no-store').redirect('/-/web/signin', 303);
  });

  const tokens = async (req: FastifyRequest, reply: FastifyReply, view: View, msg: Msg) => {
    const { caller } = await pageContext(req, reply);
    const r = await listForCaller(ctx, caller.principal, 0, 1000);
    return sendPage(reply, msg.error ? 400 : 200, tokensPage(view, r.objects, msg));
  };

  app.get('/-/web/tokens', async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    if (!caller.principal.user) return toSignIn(req, reply);
    return tokens(req, reply, view, {});
  });

  app.get('/-/web/tokens/new', async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    if (!caller.principal.user) return toSignIn(req, reply);
    return sendPage(reply, 200, newTokenPage(view));
  });

  app.post('/-/web/tokens', async (req, reply) => {
    const { caller, principal, view, form } = await formContext(req, reply);
    if (!principal.user) return toSignIn(req, reply);
    try {
      const created = await createForCaller(ctx, auth, principal, tokenBody(form));
      showOnce(req, reply, caller, CREATED, String(created.token));
      return reply.header('cache-control', 'no-store').redirect(CREATED, 303);
    } catch (e) {
      const error = refused(e);
      const r = e as Refusal;
      reply.header('x-tessera-reason', r.reason);
      const { password: _p, otp: _o, _csrf, ...keep } = form;
      return sendPage(reply, r.status, newTokenPage(view, keep, { error, field: tokenField(r) }));
    }
  });

  /** The token a post made, shown once (shown-once.ts); a reload says it was. */
  app.get(CREATED, async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    if (!caller.principal.user) return toSignIn(req, reply);
    const token = takeShown(req, reply, caller, CREATED);
    return sendPage(reply, 200, createdTokenPage(view, token, nerfDart(view.registry)));
  });

  app.post('/-/web/tokens/revoke', async (req, reply) => {
    const { caller, principal, view, form } = await formContext(req, reply);
    if (!principal.user) return toSignIn(req, reply);
    try {
      await revokeForCaller(ctx, auth, principal, String(form.key ?? ''));
    } catch (e) {
      return tokens(req, reply, view, { error: refused(e) });
    }
    return done(req, reply, caller, '/-/web/tokens', 'The token is revoked.');
  });
}
