// The staging queue in the web pages: the same listStaged, approveStaged and rejectStaged as `npm stage`,
// with a one-time password on every decision. An id the caller may not see is the plain not-found page.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Principal } from '../../domain/principal.ts';
import { Refusal } from '../../domain/reasons.ts';
import { approveStaged, listStaged, rejectStaged } from '../../services/stage.ts';
import { stagedReview } from '../../services/web-staging.ts';
import type { View } from '../ui/layout.ts';
import type { Msg } from '../ui/pages-settings.ts';
import { stagedListPage, stagedPage } from '../ui/pages-staging.ts';
import { done, formContext, pageContext, sendPage, toSignIn, webPlugin } from '../web/common.ts';

export async function webStagingRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app.tessera;
  webPlugin(app);

  const queue = async (reply: FastifyReply, view: View, p: Principal, msg: Msg) =>
    sendPage(reply, 200, stagedListPage(view, (await listStaged(ctx, p, { perPage: 1000 })).items, msg));

  app.get('/-/web/staged', async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    if (!caller.principal.user) return toSignIn(req, reply);
    return queue(reply, view, caller.principal, {});
  });

  app.get<{ Params: { id: string } }>('/-/web/staged/:id', async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    if (!caller.principal.user) return toSignIn(req, reply);
    return sendPage(reply, 200, stagedPage(view, await stagedReview(ctx, caller.principal, req.params.id)));
  });

  for (const verb of ['approve', 'reject'] as const) {
    app.post<{ Params: { id: string } }>(`/-/web/staged/:id/${verb}`, async (req, reply) => {
      const { caller, principal, view, form: _f } = await formContext(req, reply);
      if (!principal.user) return toSignIn(req, reply);
      const id = req.params.id;
      // The item as it was, for the notice: the decision removes it from the queue.
      const before = await stagedReview(ctx, caller.principal, id);
      try {
        if (verb === 'approve') await approveStaged(ctx, principal, id);
        else await rejectStaged(ctx, principal, id);
      } catch (e) {
        if (!(e instanceof Refusal) || e.reason === 'not-found') throw e;
        reply.header('x-tessera-reason', e.reason);
        return sendPage(reply, e.status, stagedPage(view, before, { error: e.message }));
      }
      const { packageName: name, version, tag } = before.item;
      const notice =
        verb === 'approve'
          ? `${name}@${version} is published with tag ${tag}.`
          : `${name}@${version} is rejected; the version number is free again.`;
      return done(req, reply, caller, '/-/web/staged', notice);
    });
  }
}
