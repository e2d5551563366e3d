// Who is using the web pages (their own session cookie, never an Authorization header) and the form
// token every POST must carry. The token is a synchronizer token kept by derivation instead of in a
// table: an HMAC of the session secret (or, before sign-in, of a random pre-session cookie), so only a
// page the registry served to this browser can know it. Cookies are HttpOnly and SameSite=Lax, and
// Secure (with the __Host- prefix) when the registry is reached over https.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { anonymous, type Principal } from '../../domain/principal.ts';
import { Refusal } from '../../domain/reasons.ts';
import { isTesseraToken, tokenChecksumValid } from '../../domain/tokens.ts';
import { baseUrl } from '../base-url.ts';

/** `ended`: the form token of a session this browser still holds a cookie of, but that has ended (expired,
 *  signed out elsewhere, revoked): a form from its pages is no forgery, only a tab left open too long. */
export type WebCaller = { principal: Principal; csrf: string; session?: string; ended?: string };

/** A form post from a page of this browser's session that has since ended: not a refusal, the browser is sent to
 *  sign in again (and back to the page). */
export class SessionEnded extends Error {}

/** How long a session cookie outlives its session: long enough for a tab left open over a weekend to be told its
 *  session ended (see `ended`) rather than that its form is forged. The value is dead by then; it opens nothing. */
const ENDED_GRACE_SECONDS = 7 * 86_400;

const callers = new WeakMap<FastifyRequest, Promise<WebCaller>>();

function secure(req: FastifyRequest): boolean {
  return baseUrl(req).startsWith('https:');
}

function names(req: FastifyRequest) {
  const prefix = secure(req) ? '__Host-' : '';
  return { session: `${prefix}tessera-session`, csrf: `${prefix}tessera-csrf`, notice: `${prefix}tessera-notice` };
}

export function cookies(req: FastifyRequest): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

export function cookie(req: FastifyRequest, name: string, value: string, maxAgeSeconds: number, path = '/'): string {
  const attrs = `Path=${path}; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure(req) ? '; Secure' : ''}`;
  return `${name}=${value}; ${attrs}`;
}

/** A cookie for one page only: `__Host-` needs `Path=/`, so over https its prefix is `__Secure-`. */
export function pageCookieName(req: FastifyRequest, name: string): string {
  return `${secure(req) ? '__Secure-' : ''}${name}`;
}

/** One more Set-Cookie: Fastify appends to the ones already set (giving it them again would send them twice). */
export function addCookie(reply: FastifyReply, value: string): void {
  reply.header('set-cookie', value);
}

const formToken = (secret: string) => createHmac('sha256', secret).update('tessera web form').digest('base64url');

/** The caller, once per request: a live web session, or anonymous with a pre-session cookie for its forms. */
export function webCaller(req: FastifyRequest, reply: FastifyReply): Promise<WebCaller> {
  let c = callers.get(req);
  if (!c) {
    c = resolve(req, reply);
    callers.set(req, c);
  }
  return c;
}

async function resolve(req: FastifyRequest, reply: FastifyReply): Promise<WebCaller> {
  const jar = cookies(req);
  const n = names(req);
  const session = jar.get(n.session);
  if (session) {
    const principal = await req.server.tessera.auth.fromWebSession(session, req.ip);
    if (principal) return { principal, csrf: formToken(session), session };
  }
  let pre = jar.get(n.csrf);
  if (!pre || !/^[\w-]{32}$/.test(pre)) {
    pre = randomBytes(24).toString('base64url');
    addCookie(reply, cookie(req, n.csrf, pre, 86_400));
  }
  // Kept, not cleared: another tab's form of the same session is then told the same; signing in replaces it.
  const ended = session && isTesseraToken(session) && tokenChecksumValid(session) ? formToken(session) : undefined;
  return { principal: anonymous, csrf: formToken(pre), ended };
}

const same = (sent: string, expected: string) => {
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/** Every form post: from this registry's own origin, carrying the form token of this browser's session. */
export function checkForm(req: FastifyRequest, caller: WebCaller, form: Record<string, unknown>): void {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== new URL(baseUrl(req)).origin) throw new Refusal('csrf-failed');
  const sent = typeof form._csrf === 'string' ? form._csrf : '';
  if (same(sent, caller.csrf)) return;
  if (caller.ended && same(sent, caller.ended)) throw new SessionEnded();
  throw new Refusal('csrf-failed');
}

export function startSession(req: FastifyRequest, reply: FastifyReply, secret: string, ttlMs: number): void {
  addCookie(reply, cookie(req, names(req).session, secret, Math.floor(ttlMs / 1000) + ENDED_GRACE_SECONDS));
}

export function endSession(req: FastifyRequest, reply: FastifyReply): void {
  addCookie(reply, cookie(req, names(req).session, '', 0));
}

const noticeMac = (caller: WebCaller, text: string) =>
  createHmac('sha256', caller.csrf).update(text).digest('base64url').slice(0, 22);

/** What a form post that worked has to say, for the page it redirects to (POST-redirect-GET): a cookie read
 *  once, tied to this browser's form token so that no other page can put words there. */
export function setNotice(req: FastifyRequest, reply: FastifyReply, caller: WebCaller, text: string): void {
  const value = `${Buffer.from(text.slice(0, 300)).toString('base64url')}.${noticeMac(caller, text.slice(0, 300))}`;
  addCookie(reply, cookie(req, names(req).notice, value, 60));
}

/** The notice a redirect brought, once: the cookie is cleared as it is read. */
export function takeNotice(req: FastifyRequest, reply: FastifyReply, caller: WebCaller): string | undefined {
  const name = names(req).notice;
  const value = cookies(req).get(name);
  if (value === undefined) return undefined;
  addCookie(reply, cookie(req, name, '', 0));
  const [b64, mac] = value.split('.');
  const text = Buffer.from(b64 ?? '', 'base64url').toString('utf8');
  const sent = Buffer.from(mac ?? '');
  const expected = Buffer.from(noticeMac(caller, text));
  return sent.length === expected.length && timingSafeEqual(sent, expected) ? text : undefined;
}
