// The hooks page (/-/web/hooks): list, add, change and delete one's own hooks through the same service
// as npm's hooks API, so the rules, limits and refusals are the API's.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Refusal } from '../../domain/reasons.ts';
import type { Principal } from '../../domain/principal.ts';
import { changeHook, createHook, getHook, listOwnHooks, removeHook } from '../../services/user-hooks.ts';
import type { View } from '../ui/layout.ts';
import { refusal } from '../ui/refused.ts';
import { editHookPage, hooksPage, type HooksMsg } from '../ui/pages-hooks.ts';
import { done, formContext, pageContext, sendPage, toSignIn, webPlugin } from '../web/common.ts';

const TYPES = ['package', 'scope', 'owner'] as const;

export async function webHookRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app.tessera;
  webPlugin(app);

  /** The refusal's text, with its reason in the header; anything else is not a refusal and goes on up. */
  const refused = (reply: FastifyReply, e: unknown): Refusal => {
    if (!(e instanceof Refusal)) throw e;
    reply.header('x-tessera-reason', e.reason);
    return e;
  };
  const list = async (reply: FastifyReply, p: Principal, view: View, msg: HooksMsg, status = 200) => {
    const r = await listOwnHooks(ctx, p, { limit: 1000, offset: 0 });
    return sendPage(reply, status, hooksPage(view, r.objects, msg));
  };

  app.get('/-/web/hooks', async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    if (!caller.principal.user) return toSignIn(req, reply);
    return list(reply, caller.principal, view, {});
  });

  app.post('/-/web/hooks', async (req, reply) => {
    const { caller, principal, view, form } = await formContext(req, reply);
    if (!principal.user) return toSignIn(req, reply);
    const type = TYPES.find((t) => t === form.type) ?? 'package';
    const keep = { type, name: form.name ?? '', endpoint: form.endpoint ?? '' };
    try {
      const h = await createHook(ctx, principal, { ...keep, secret: form.secret ?? '' });
      return done(req, reply, caller, '/-/web/hooks', `The hook on ${h.name} is added.`);
    } catch (e) {
      const r = refused(reply, e);
      // A package one may not read is answered as one that does not exist, on the page too.
      const message = r.reason === 'not-found' ? `There is no package ${keep.name} that you can see.` : r.message;
      return list(reply, principal, view, { refused: refusal('add', keep, { message, reason: r.reason }) }, r.status);
    }
  });

  const edit = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const { caller, view } = await pageContext(req, reply);
    if (!caller.principal.user) return toSignIn(req, reply);
    return sendPage(reply, 200, editHookPage(view, await getHook(ctx, caller.principal, req.params.id)));
  };
  app.get<{ Params: { id: string } }>('/-/web/hooks/:id', edit);

  app.post<{ Params: { id: string } }>('/-/web/hooks/:id', async (req, reply) => {
    const { caller, principal, view, form } = await formContext(req, reply);
    if (!principal.user) return toSignIn(req, reply);
    try {
      const change = { endpoint: form.endpoint ?? '', secret: form.secret || null };
      const h = await changeHook(ctx, principal, req.params.id, change);
      return done(req, reply, caller, '/-/web/hooks', `The hook on ${h.name} is changed.`);
    } catch (e) {
      const r = refused(reply, e);
      if (r.reason === 'hook-not-found') throw r;
      const h = await getHook(ctx, principal, req.params.id);
      return sendPage(reply, r.status, editHookPage(view, h, refusal('change', form, r)));
    }
  });

  app.post('/-/web/hooks/delete', async (req, reply) => {
    const { caller, principal, view, form } = await formContext(req, reply);
    if (!principal.user) return toSignIn(req, reply);
    try {
      const h = await removeHook(ctx, principal, String(form.id ?? ''));
      return done(req, reply, caller, '/-/web/hooks', `The hook on ${h.name} is deleted.`);
    } catch (e) {
      const r = refused(reply, e);
      return list(reply, principal, view, { refused: refusal('delete', form, r) }, r.status);
    }
  });
}
