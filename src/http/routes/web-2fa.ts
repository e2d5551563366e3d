// Two-factor authentication pages. Every step is the body `npm profile enable-2fa | disable-2fa` sends to
// updateProfile, so the password check, the code checks (replays, throttling) and the refusals are npm's.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Refusal } from '../../domain/reasons.ts';
import type { Principal } from '../../domain/principal.ts';
import { getProfile, updateProfile } from '../../services/profile.ts';
import type { View } from '../ui/layout.ts';
import { refusal } from '../ui/refused.ts';
import { enrolPage, recoveryPage, tfaPage, type TfaState } from '../ui/pages-2fa.ts';
import { done, formContext, pageContext, sendPage, toSignIn, webPlugin } from '../web/common.ts';
import { showOnce, takeShown } from '../web/shown-once.ts';

// Pages that show a secret once, after the post that made it (shown-once.ts).
const ENROL = '/-/web/account/2fa/enrol';
const RECOVERY = '/-/web/account/2fa/recovery-codes';

export async function webTfaRoutes(app: FastifyInstance): Promise<void> {
  const { ctx, auth } = app.tessera;
  webPlugin(app);

  const state = async (p: Principal) => (await getProfile(ctx, p)).tfa as TfaState;

  /** A refusal on a form: the page again with the refusal in that form (what was typed kept, never a password
   *  or a code), and the refusal's status and reason id. */
  type Form = Record<string, string>;
  const refused = async (reply: FastifyReply, view: View, p: Principal, action: string, form: Form, e: unknown) => {
    if (!(e instanceof Refusal) || e.reason === 'not-found') throw e;
    reply.header('x-tessera-reason', e.reason);
    return sendPage(reply, e.status, tfaPage(view, await state(p), { refused: refusal(action, form, e) }));
  };

  app.get('/-/web/account/2fa', async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    if (!caller.principal.user) return toSignIn(req, reply);
    return sendPage(reply, 200, tfaPage(view, await state(caller.principal)));
  });

  app.post('/-/web/account/2fa/enable', async (req, reply) => {
    const { caller, principal, view, form } = await formContext(req, reply);
    if (!principal.user) return toSignIn(req, reply);
    try {
      const r = await updateProfile(ctx, auth, principal, { tfa: { mode: form.mode, password: form.password ?? '' } });
      const on = 'Two-factor authentication is on already';
      if (typeof r.tfa !== 'string') throw new Refusal('invalid-request', { detail: on });
      showOnce(req, reply, caller, ENROL, r.tfa);
      return reply.header('cache-control', 'no-store').redirect(ENROL, 303);
    } catch (e) {
      return refused(reply, view, principal, 'enable', form, e);
    }
  });

  /** The authenticator key an enrolment made, shown once; then, while it is pending, the form for its first code. */
  app.get(ENROL, async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    if (!caller.principal.user) return toSignIn(req, reply);
    const otpauth = takeShown(req, reply, caller, ENROL);
    const tfa = await state(caller.principal);
    if (tfa === false || !tfa.pending)
      return reply.header('cache-control', 'no-store').redirect('/-/web/account/2fa', 303);
    return sendPage(reply, 200, enrolPage(view, otpauth));
  });

  app.post('/-/web/account/2fa/confirm', async (req, reply) => {
    const { caller, principal, view, form } = await formContext(req, reply);
    if (!principal.user) return toSignIn(req, reply);
    try {
      const r = await updateProfile(ctx, auth, principal, { tfa: [String(form.otp ?? '').trim()] });
      showOnce(req, reply, caller, RECOVERY, JSON.stringify(r.tfa));
      return reply.header('cache-control', 'no-store').redirect(RECOVERY, 303);
    } catch (e) {
      return refused(reply, view, principal, 'confirm', form, e);
    }
  });

  app.get(RECOVERY, async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    if (!caller.principal.user) return toSignIn(req, reply);
    const codes = takeShown(req, reply, caller, RECOVERY);
    return sendPage(reply, 200, recoveryPage(view, codes === undefined ? undefined : (JSON.parse(codes) as string[])));
  });

  app.post('/-/web/account/2fa/mode', async (req, reply) => {
    const { caller, principal, view, form } = await formContext(req, reply);
    if (!principal.user) return toSignIn(req, reply);
    try {
      await updateProfile(ctx, auth, principal, { tfa: { mode: form.mode, password: form.password ?? '' } });
    } catch (e) {
      return refused(reply, view, principal, 'mode', form, e);
    }
    return done(req, reply, caller, '/-/web/account/2fa', 'The mode is changed.');
  });

  app.post('/-/web/account/2fa/disable', async (req, reply) => {
    const { caller, principal, view, form } = await formContext(req, reply);
    if (!principal.user) return toSignIn(req, reply);
    try {
      await updateProfile(ctx, auth, principal, { tfa: { mode: 'disable', password: form.password ?? '' } });
    } catch (e) {
      return refused(reply, view, principal, 'disable', form, e);
    }
    return done(req, reply, caller, '/-/web/account/2fa', 'Two-factor authentication is off.');
  });
}
