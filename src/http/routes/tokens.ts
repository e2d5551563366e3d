// npm token list/create/revoke, and Tessera's own introspection: who am I as this token, and may I …?
import type { FastifyInstance } from 'fastify';
import { Refusal } from '../../domain/reasons.ts';
import { authorize, type Action } from '../../domain/policy.ts';
import { who } from '../app-state.ts';
import { baseUrl } from '../base-url.ts';
import { createForCaller, listForCaller, present, revokeForCaller } from '../../services/npm-tokens.ts';
import { packageFacts } from '../../store/packages.ts';

const NO_STORE = 'no-store';
const ACTIONS: Action[] = ['read', 'publish', 'unpublish', 'dist-tag', 'deprecate', 'owner', 'star', 'access', 'stage', 'stage-view', 'stage-review'];

export async function tokenRoutes(app: FastifyInstance): Promise<void> {
  const { ctx, auth } = app.tessera;

  app.get('/-/npm/v1/tokens', async (req, reply) => {
    const q = req.query as Record<string, string>;
    const page = Math.max(Number.parseInt(q.page ?? '0', 10) || 0, 0);
    const perPage = Math.min(Math.max(Number.parseInt(q.perPage ?? '100', 10) || 100, 1), 9999);
    const r = await listForCaller(ctx, await who(req), page, perPage);
    const next = r.hasNext ? `${baseUrl(req)}/-/npm/v1/tokens?page=${page + 1}&perPage=${perPage}` : null;
    return reply.header('cache-control', NO_STORE).send({ objects: r.objects, total: r.total, urls: { next } });
  });

  app.post('/-/npm/v1/tokens', async (req, reply) => {
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Refusal('bad-json', { detail: 'expected a JSON object' });
    const created = await createForCaller(ctx, auth, await who(req), body as Record<string, unknown>);
    return reply.code(201).header('cache-control', NO_STORE).send(created);
  });

  app.delete<{ Params: { key: string } }>('/-/npm/v1/tokens/token/:key', async (req, reply) => {
    await revokeForCaller(ctx, auth, await who(req), req.params.key);
    return reply.code(204).header('cache-control', NO_STORE).send();
  });

  /** The caller's own credential: what it is and what limits it carries. */
  app.get('/-/tessera/v1/token', async (req, reply) => {
    const p = await who(req);
    if (!p.user) throw new Refusal('auth-required', { action: 'inspect your token' });
    const c = p.credential;
    let token: Record<string, unknown> | null = null;
    if (c.type === 'token') {
      const row = await ctx.store.db.selectFrom('tokens').selectAll().where('id', '=', c.id).executeTakeFirstOrThrow();
      token = present(row);
    }
    return reply.header('cache-control', NO_STORE).send({ user: p.user.name, credential: c.type === 'token' ? c.kind : 'password', token });
  });

  /** Would this credential be allowed to do `action` on `package`, and which checks decide it? */
  app.get('/-/tessera/v1/auth/explain', async (req, reply) => {
    const q = req.query as Record<string, string>;
    const p = await who(req);
    if (!p.user) throw new Refusal('auth-required', { action: 'ask what your credential may do' });
    const action = (q.action ?? 'read') as Action;
    if (!ACTIONS.includes(action)) throw new Refusal('invalid-request', { detail: `action must be one of ${ACTIONS.join(', ')}` });
    if (!q.package) throw new Refusal('invalid-request', { detail: 'package is required' });
    const d = authorize(p, action, await packageFacts(ctx.store.db, q.package, p.user.id), { requireVerifiedEmail: ctx.config.email.requireVerified });
    const c = p.credential;
    const body = {
      allowed: d.allowed,
      reason: d.allowed ? null : d.reason,
      otp: d.allowed ? d.otp === true : false,
      message: d.allowed ? `${p.user.name} may ${action} ${q.package} with this credential` : new Refusal(d.reason, d.params).message,
      credential: { user: p.user.name, kind: c.type === 'token' ? c.kind : 'password', expires: c.type === 'token' && c.expiresAt ? new Date(c.expiresAt).toISOString() : null },
      checks: d.checks,
    };
    return reply.header('cache-control', NO_STORE).send(body);
  });
}
