// What every web route shares: security headers, the view a page is drawn with, the HTML error page.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Refusal, reasons } from '../../domain/reasons.ts';
import type { Principal } from '../../domain/principal.ts';
import { takenCodes } from '../app-state.ts';
import { baseUrl } from '../base-url.ts';
import { outageRefusal } from '../errors.ts';
import type { Html } from '../ui/html.ts';
import type { View } from '../ui/layout.ts';
import { errorPage, NOT_FOUND } from '../ui/pages-browse.ts';
import { checkForm, SessionEnded, setNotice, takeNotice, webCaller, type WebCaller } from './session.ts';

/** No inline script or style anywhere; README images from the registry or https only. */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https:; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Headers, the HTML error page and the not-found page for the routes of one web plugin. */
export function webPlugin(app: FastifyInstance): void {
  app.addHook('onRequest', async (_req, reply) => {
    reply
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .header('x-frame-options', 'DENY')
      .header('cross-origin-opener-policy', 'same-origin');
  });
  // The time the registry spent on a page (bench/web.ts reads it). Only on pages that were found: a
  // not-found page's headers must be the same for a hidden package as for a missing one.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (reply.statusCode < 400) reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(2)}`);
    return payload;
  });
  app.setErrorHandler(async (err, req, reply) => {
    if (err instanceof SessionEnded) return toSignIn(req, reply);
    const r = err instanceof Refusal ? err : outageRefusal(err);
    if (!r) req.log.error({ err }, 'unexpected error on a web page');
    else if (r !== err) req.log.warn({ reason: r.reason, err }, r.message);
    const fallback: View = { user: null, csrf: '', registry: baseUrl(req) };
    const { view } = await pageContext(req, reply).catch(() => ({ view: fallback }));
    if (!r) return sendPage(reply, 500, errorPage(view, 'Something went wrong', 'The registry log has the details.'));
    reply.header('x-tessera-reason', r.reason);
    // A plain 404 says nothing more than "not found": a hidden package's page is a missing one's.
    if (r.reason === 'not-found' || r.reason === 'route-not-found') {
      return sendPage(reply, 404, errorPage(view, NOT_FOUND.title, NOT_FOUND.message));
    }
    return sendPage(reply, reasons[r.reason].status, errorPage(view, 'Refused', r.message, r.reason));
  });
}

export async function pageContext(req: FastifyRequest, reply: FastifyReply) {
  const caller = await webCaller(req, reply);
  const notice = req.method === 'GET' ? takeNotice(req, reply, caller) : undefined;
  const view: View = { user: caller.principal.user, csrf: caller.csrf, registry: baseUrl(req), notice };
  return { caller, view };
}

/** A form post that worked: a redirect to the page that shows the result, with its notice (POST-redirect-GET),
 *  so that going back or reloading never posts the form again. */
export function done(req: FastifyRequest, reply: FastifyReply, caller: WebCaller, to: string, notice: string) {
  setNotice(req, reply, caller, notice);
  return reply.header('cache-control', 'no-store').redirect(to, 303);
}

/** A form post: the form token checked first, then the caller (with the form's one-time password, if any). */
export async function formContext(req: FastifyRequest, reply: FastifyReply) {
  const ctx = await pageContext(req, reply);
  const form = (req.body ?? {}) as Record<string, string>;
  checkForm(req, ctx.caller, form);
  const otp = typeof form.otp === 'string' && form.otp.trim() ? form.otp.trim() : undefined;
  const p: Principal = ctx.caller.principal.user
    ? { ...ctx.caller.principal, otp, otpTaken: takenCodes(req) }
    : ctx.caller.principal;
  return { ...ctx, form, principal: p };
}

export function sendPage(reply: FastifyReply, status: number, page: Html): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(page.text);
}

/** Where to go after signing in: a page of these web pages, never another site. Printable ASCII only (a
 *  browser sends a path percent-encoded): a line break or a wide character cannot be put in `Location`. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/-\/web\/[!-[\]-~]*$/.test(next) ? next : '/-/web/';
}

/** Pages for signed-in people send others to the sign-in page, and back afterwards: to the page asked for, or
 *  for a form post to the page the form was on (the post itself is not replayed). Someone whose session ended
 *  is told so. */
export async function toSignIn(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const caller = await webCaller(req, reply);
  if (caller.ended) setNotice(req, reply, caller, req.method === 'GET' ? ENDED : `${ENDED} ${NOT_SENT}`);
  const next = req.method === 'GET' ? req.url : formPage(req);
  return reply
    .code(303)
    .header('cache-control', 'no-store')
    .redirect(`/-/web/signin?next=${encodeURIComponent(next)}`, 303);
}

const ENDED = 'Your session has ended: sign in again to go on.';
const NOT_SENT = 'The form you sent was not carried out; send it again once signed in.';

/** The page a form was posted from: its Referer, when that is a page of this registry (the pages send it to
 *  their own origin); the home page when not. */
function formPage(req: FastifyRequest): string {
  try {
    const from = new URL(String(req.headers.referer ?? ''));
    if (from.origin === new URL(baseUrl(req)).origin) return safeNext(from.pathname + from.search);
  } catch {}
  return '/-/web/';
}

/** A browser asking for `/`, not npm: npm sends its own headers and never asks for HTML. */
export function isBrowser(req: FastifyRequest): boolean {
  const h = req.headers;
  if (h['npm-command'] || h['npm-session'] || h['npm-auth-type'] || h['pnpm-command' as 'npm-command']) return false;
  if (/^(npm|pnpm|yarn|bun)\//.test(String(h['user-agent'] ?? ''))) return false;
  return String(h.accept ?? '').includes('text/html');
}
