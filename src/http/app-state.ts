// What every route plugin can reach through `req.server.tessera`, and who is calling.
import type { FastifyRequest } from 'fastify';
import type { Ctx } from '../services/context.ts';
import type { Authenticator } from '../services/authenticate.ts';
import type { OtpTaken, Principal } from '../domain/principal.ts';
import { anonymous } from '../domain/principal.ts';
import { Refusal } from '../domain/reasons.ts';

/** `shuttingDown`: /-/readyz answers 503 from the moment a shutdown begins (serve.ts, or close()). */
export type AppState = { ctx: Ctx; auth: Authenticator; health: { shuttingDown: boolean } };

declare module 'fastify' {
  interface FastifyInstance {
    tessera: AppState;
  }
  interface FastifyRequest {
    principalPromise?: Promise<Principal>;
    /** The one-time passwords this request took, given back if it is refused (server.ts). */
    otpTaken?: OtpTaken[];
  }
}

/** The caller, resolved once per request. Throws the refusal for a bad credential. */
export function who(req: FastifyRequest): Promise<Principal> {
  req.principalPromise ??= req.server.tessera.auth.fromHeader(req.headers.authorization, req.ip).then((p) => {
    if (!p.user) return p;
    // fromHeader makes a fresh principal per request, so the request's own details can go on it.
    const otp = req.headers['npm-otp'];
    p.otp = typeof otp === 'string' && otp ? otp : undefined;
    p.webAuth = req.headers['npm-auth-type'] === 'web';
    p.otpTaken = takenCodes(req);
    return p;
  });
  return req.principalPromise;
}

/** The request's list of taken one-time passwords, for a principal made for this request. */
export function takenCodes(req: FastifyRequest): OtpTaken[] {
  req.otpTaken ??= [];
  return req.otpTaken;
}

/** For login and logout: a stale or broken credential riding along must not block them. */
export async function whoLenient(req: FastifyRequest): Promise<Principal> {
  try {
    return await who(req);
  } catch (e) {
    if (e instanceof Refusal) return anonymous;
    throw e;
  }
}
