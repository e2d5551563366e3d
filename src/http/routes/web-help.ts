// "Why was I refused?": the signed-in caller's own refusals, and an explanation of pasted npm/pnpm/Yarn
// output. The explanation runs `tessera explain`'s parser on the server, offline, with none of the
// server's configuration, and keeps nothing.
import type { FastifyInstance } from 'fastify';
import { explainText } from '../../doctor/explain.ts';
import { myRefusals } from '../../services/web-self.ts';
import { explainPage, refusalsPage } from '../ui/pages-help.ts';
import { formContext, pageContext, sendPage, toSignIn, webPlugin } from '../web/common.ts';

/** Enough for a long npm debug log; the parser reads lines, so more would only cost time. */
const MAX_TEXT = 512 * 1024;

export async function webHelpRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app.tessera;
  webPlugin(app);

  app.get('/-/web/refusals', async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    if (!caller.principal.user) return toSignIn(req, reply);
    return sendPage(reply, 200, refusalsPage(view, await myRefusals(ctx, caller.principal)));
  });

  app.get('/-/web/explain', async (req, reply) => {
    const { view } = await pageContext(req, reply);
    return sendPage(reply, 200, explainPage(view));
  });

  app.post('/-/web/explain', async (req, reply) => {
    const { view, form } = await formContext(req, reply);
    const text = String(form.output ?? '').slice(0, MAX_TEXT);
    const { extracted, explanation } = explainText(text);
    return sendPage(
      reply,
      200,
      explainPage(view, text, {
        ex: explanation,
        notices: extracted.notices,
        said: extracted.registryError,
        lines: extracted.lines,
      }),
    );
  });
}
