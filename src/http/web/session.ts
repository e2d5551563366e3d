// Who is using the web pages (their own session cookie, never an Authorization header) and the form
// token every POST must carry. The token is a synchronizer token kept by derivation instead of in a
// table: an HMAC of the session secret (or, before sign-in, of a random pre-session cookie), so only a
// page the registry served to this browser can know it. Cookies are HttpOnly and SameSite=Lax, and
// Secure (with the __Host- prefix) when the registry is reached over https.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { anonymous, type Principal } from '../../domain/principal.ts';
import { Refusal } from '../../domain/reasons.ts';
import { baseUrl } from '../base-url.ts';

export type WebCaller = { principal: Principal; csrf: string; session?: string };

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

export function cookie(req: FastifyRequest, name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure(req) ? '; Secure' : ''}`;
}

export function addCookie(reply: FastifyReply, value: string): void {
  const prev = reply.getHeader('set-cookie');
  reply.header('set-cookie', [...(Array.isArray(prev) ? prev : prev ? [String(prev)] : []), value]);
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
    addCookie(reply, cookie(req, n.session, '', 0));
  }
  let pre = jar.get(n.csrf);
  if (!pre || !/^[\w-]{32}$/.test(pre)) {
    pre = randomBytes(24).toString('base64url');
    addCookie(reply, cookie(req, n.csrf, pre, 86_400));
  }
  return { principal: anonymous, csrf: formToken(pre) };
}

/** Every form post: from this registry's own origin, carrying the form token of this browser's session. */
export function checkForm(req: FastifyRequest, caller: WebCaller, form: Record<string, unknown>): void {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== new URL(baseUrl(req)).origin) throw new Refusal('csrf-failed');
  const sent = Buffer.from(typeof form._csrf === 'string' ? form._csrf : '');
  const expected = Buffer.from(caller.csrf);
  if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) throw new Refusal('csrf-failed');
}

export function startSession(req: FastifyRequest, reply: FastifyReply, secret: string, ttlMs: number): void {
  addCookie(reply, cookie(req, names(req).session, secret, Math.floor(ttlMs / 1000)));
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
