// The company provider's back channel (discovery, token endpoint, keys, UserInfo), bounded in time: a request
// that gets no answer, or a 5xx, means the provider is down, which is `sso-provider-unavailable` (try again
// later), never "could not be verified" — as `directory-unavailable` is for LDAP.
import type * as client from 'openid-client';
import type { SignInOidc } from '../config/config.ts';
import { Refusal } from '../domain/reasons.ts';

/** One request to the provider may take this long unless `auth.oidc.timeout` says otherwise. */
export const OIDC_TIMEOUT_MS = 10_000;

/** A request to the provider that got no answer of its own. */
class ProviderDown extends Error {
  readonly url: string;
  readonly why: string;
  constructor(url: string, why: string) {
    super(`${url} ${why}`);
    this.url = url;
    this.why = why;
  }
}

/** openid-client's fetch for this provider: failures to get a real answer become ProviderDown. */
export function backChannel(o: SignInOidc): client.CustomFetch {
  const seconds = (o.timeoutMs ?? OIDC_TIMEOUT_MS) / 1000;
  return async (url, options) => {
    let res: Response;
    try {
      res = await fetch(url, options as RequestInit);
    } catch (e) {
      const err = e as Error;
      if (err.name === 'TimeoutError' || err.name === 'AbortError') {
        throw new ProviderDown(url, `did not answer within ${seconds} s`);
      }
      const cause = err.cause instanceof Error ? err.cause.message : err.message;
      throw new ProviderDown(url, `could not be reached (${cause})`);
    }
    if (res.status >= 500) throw new ProviderDown(url, `answered ${res.status} ${res.statusText}`.trim());
    return res;
  };
}

/** Which of the provider's addresses `url` is, in words an administrator recognises. */
function endpoint(url: string, meta: client.ServerMetadata | undefined): string {
  if (url === meta?.token_endpoint) return 'its token endpoint';
  if (url === meta?.jwks_uri) return 'its keys (JWKS)';
  if (url === meta?.userinfo_endpoint) return 'its UserInfo endpoint';
  if (url.includes('/.well-known/')) return 'its discovery document';
  return url;
}

/** The refusal for an error that is the provider being down, or undefined for any other error. */
export function unavailable(o: SignInOidc, e: unknown, cfg?: client.Configuration): Refusal | undefined {
  // openid-client may wrap what the fetch threw: look down the chain of causes.
  for (let x: unknown = e, i = 0; x instanceof Error && i < 5; x = x.cause, i++) {
    if (x instanceof ProviderDown) {
      const detail = `${endpoint(x.url, cfg?.serverMetadata())} ${x.why}`;
      return new Refusal('sso-provider-unavailable', { provider: o.name, detail });
    }
  }
  return undefined;
}
