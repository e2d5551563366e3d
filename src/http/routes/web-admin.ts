// Administration pages. Every one asks authorizeAdmin (through services/admin.ts) before reading anything:
// to anyone who is not an administrator, signed in or not, they are the not-found page.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseDuration } from '../../config/duration.ts';
import { Refusal } from '../../domain/reasons.ts';
import type { Principal } from '../../domain/principal.ts';
import { addOrg, addUser, auditLog, disable, listOrgs, listUsers, verifyEmail } from '../../services/admin.ts';
import type { View } from '../ui/layout.ts';
import { refusal } from '../ui/refused.ts';
import { adminOrgsPage, auditPage, usersPage, type Msg } from '../ui/pages-admin.ts';
import { done, formContext, pageContext, sendPage, webPlugin } from '../web/common.ts';

/** A moment as the filter form takes it: an ISO date and time, or a duration back from now (24h, 7d). */
function moment(text: string | undefined, now: number): number | undefined {
  const t = (text ?? '').trim();
  if (!t) return undefined;
  if (/^\d+(\.\d+)?(ms|s|m|h|d|w)$/.test(t)) return now - parseDuration(t);
  const at = Date.parse(t);
  const detail = `"${t}" is neither a date nor a duration like 24h`;
  if (Number.isNaN(at)) throw new Refusal('invalid-request', { detail });
  return at;
}

const field = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

export async function webAdminRoutes(app: FastifyInstance): Promise<void> {
  const { ctx, auth } = app.tessera;
  webPlugin(app);

  /** A refusal on a form: the page again with the message; a not-found stays the not-found page. */
  const failed = (reply: FastifyReply, e: unknown): Refusal => {
    if (!(e instanceof Refusal) || e.reason === 'not-found') throw e;
    reply.header('x-tessera-reason', e.reason);
    return e;
  };

  const users = async (reply: FastifyReply, view: View, p: Principal, msg: Msg, status = 200) =>
    sendPage(reply, status, usersPage(view, await listUsers(ctx, p), msg));

  app.get('/-/web/admin', async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    return users(reply, view, caller.principal, {});
  });
  app.get('/-/web/admin/users', async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    return users(reply, view, caller.principal, {});
  });

  app.post('/-/web/admin/users', async (req, reply) => {
    const { caller, principal, view, form } = await formContext(req, reply);
    const reader: Principal = principal.user ? { ...principal, otpVerified: true } : principal;
    try {
      await addUser(ctx, principal, {
        name: String(form.name ?? '').trim(),
        email: String(form.email ?? '').trim(),
        password: String(form.password ?? ''),
        admin: form.admin === 'on',
        verified: form.verified === 'on',
      });
    } catch (e) {
      const r = failed(reply, e);
      return users(reply, view, reader, { refused: refusal('users', form, r) }, r.status);
    }
    return done(req, reply, caller, '/-/web/admin/users', `The user ${form.name} is added.`);
  });

  for (const [path, act, said] of [
    [
      'disable',
      (p: Principal, n: string) => disable(ctx, auth, p, n),
      'is disabled; every token of the account is revoked',
    ],
    ['verify', (p: Principal, n: string) => verifyEmail(ctx, p, n), 'has a verified e-mail address'],
  ] as const) {
    app.post(`/-/web/admin/users/${path}`, async (req, reply) => {
      const { caller, principal, view, form } = await formContext(req, reply);
      const reader: Principal = principal.user ? { ...principal, otpVerified: true } : principal;
      const name = String(form.name ?? '');
      try {
        await act(principal, name);
      } catch (e) {
        const r = failed(reply, e);
        return users(reply, view, reader, { refused: refusal(`users/${path}`, form, r) }, r.status);
      }
      return done(req, reply, caller, '/-/web/admin/users', `${name} ${said}.`);
    });
  }

  app.get('/-/web/admin/audit', async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    const q = req.query as Record<string, string>;
    // Authorized before the filters are even read: a stranger's bad filter is still the not-found page.
    await auditLog(ctx, caller.principal, {}, 0);
    const now = ctx.clock.now();
    const text = { user: field(q.user), event: field(q.event), reason: field(q.reason) };
    const times = { sinceText: field(q.since), untilText: field(q.until) };
    let since: number | undefined;
    let until: number | undefined;
    let bad = 'since';
    try {
      since = moment(q.since, now);
      bad = 'until';
      until = moment(q.until, now);
    } catch (e) {
      // A filter that cannot be read: the log unfiltered by time, the form with the refusal at that field.
      const r = failed(reply, e);
      const f = { ...text, ...times };
      const rows = await auditLog(ctx, caller.principal, text);
      return sendPage(reply, r.status, auditPage(view, rows, f, refusal(`audit/${bad}`, q, r)));
    }
    const f = { ...text, ...times, since, until };
    return sendPage(reply, 200, auditPage(view, await auditLog(ctx, caller.principal, f), f));
  });

  const orgs = async (reply: FastifyReply, view: View, p: Principal, msg: Msg, status = 200) =>
    sendPage(reply, status, adminOrgsPage(view, await listOrgs(ctx, p), msg));

  app.get('/-/web/admin/orgs', async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    return orgs(reply, view, caller.principal, {});
  });

  app.post('/-/web/admin/orgs', async (req, reply) => {
    const { caller, principal, view, form } = await formContext(req, reply);
    const reader: Principal = principal.user ? { ...principal, otpVerified: true } : principal;
    try {
      await addOrg(ctx, principal, String(form.name ?? '').trim(), String(form.owner ?? '').trim());
    } catch (e) {
      const r = failed(reply, e);
      return orgs(reply, view, reader, { refused: refusal('orgs', form, r) }, r.status);
    }
    return done(req, reply, caller, '/-/web/admin/orgs', `The organization ${form.name} is created.`);
  });
}
