// npm's web OTP flow: when npm says `npm-auth-type: web`, an OTP challenge also carries authUrl/doneUrl;
// the person enters the code in the browser and npm collects a one-time proof to send as npm-otp.
import type { FastifyRequest } from 'fastify';
import type { Refusal } from '../domain/reasons.ts';
import type { Ctx } from '../services/context.ts';
import { startWebLogin } from '../services/accounts.ts';
import { baseUrl } from './base-url.ts';

export async function webOtpChallenge(ctx: Ctx, req: FastifyRequest, r: Refusal): Promise<Record<string, unknown>> {
  const asks = r.reason === 'otp-required' || r.reason === 'package-requires-otp';
  if (!asks || req.headers['npm-auth-type'] !== 'web' || !req.principalPromise) return {};
  const p = await req.principalPromise.catch(() => undefined);
  if (!p?.user) return {};
  const secret = await startWebLogin(ctx, 'otp', p.user.id);
  const base = baseUrl(req);
  return { authUrl: `${base}/-/v1/login/cli/${secret}`, doneUrl: `${base}/-/v1/done/${secret}` };
}
