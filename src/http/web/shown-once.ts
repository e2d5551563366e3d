// A secret a form post made (a new token, recovery codes, an authenticator key), shown by the page the post
// redirects to (POST-redirect-GET), so that reloading or going back never makes a second one. It travels in
// no URL and no log: it is sealed with the data folder's key (secret-box.ts, the key every node shares) into
// an HttpOnly cookie scoped to that page's path, tied to this browser's session and to the page, good for a
// few minutes, and cleared as the page reads it. After one view the page says it was shown once.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { open, seal } from '../../store/secret-box.ts';
import { addCookie, cookie, cookies, pageCookieName, type WebCaller } from './session.ts';

const NAME = 'tessera-once';
const TTL_MS = 5 * 60_000;

type Sealed = { page: string; form: string; exp: number; secret: string };

export function showOnce(req: FastifyRequest, reply: FastifyReply, caller: WebCaller, page: string, secret: string) {
  const { ctx } = req.server.tessera;
  const sealed: Sealed = { page, form: caller.csrf, exp: ctx.clock.now() + TTL_MS, secret };
  const value = seal(ctx.store.dataDir, JSON.stringify(sealed)).replace(/^v1\./, '');
  addCookie(reply, cookie(req, pageCookieName(req, NAME), value, TTL_MS / 1000, page));
}

/** The secret for `page`, once; undefined when it was read already, is late, or was sealed for another page or
 *  another session. */
export function takeShown(req: FastifyRequest, reply: FastifyReply, caller: WebCaller, page: string) {
  const name = pageCookieName(req, NAME);
  const value = cookies(req).get(name);
  if (value === undefined) return undefined;
  addCookie(reply, cookie(req, name, '', 0, page));
  const { ctx } = req.server.tessera;
  let s: Sealed;
  try {
    s = JSON.parse(open(ctx.store.dataDir, `v1.${value}`)) as Sealed;
  } catch {
    return undefined;
  }
  const fits = s.page === page && s.form === caller.csrf && s.exp > ctx.clock.now();
  return fits && typeof s.secret === 'string' ? s.secret : undefined;
}
