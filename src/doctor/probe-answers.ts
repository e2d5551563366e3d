// What an answer's shape says about the registry URL itself, before any credential question: a redirect npm
// follows (and where it drops the credential), a web page where the npm API should be, a Basic challenge.
import { makeFinding } from '../domain/findings.ts';
import type { Finding, FindingSource } from '../domain/findings.ts';
import type { Target } from './context.ts';
import { nerfDart } from './credentials.ts';
import type { ProbeResponse } from './http-probe.ts';

/** Where the finding points: the line that sets this registry, and where its credential comes from. */
export interface AnswerContext {
  key: string;
  source?: FindingSource;
  credentialAt: string;
}

function header(r: ProbeResponse, name: string): string | undefined {
  const v = r.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** A 2xx answer that is an HTML page: npm fails on it with "invalid json response body … Unexpected token '<'". */
export function pageFinding(t: Target, r: ProbeResponse, at: AnswerContext): Finding | undefined {
  if (r.status < 200 || r.status > 299) return undefined;
  const type = header(r, 'content-type') ?? '';
  if (!/html/i.test(type) && !/^\s*</.test(r.body)) return undefined;
  const title = /<title[^>]*>([^<]{1,80})/i.exec(r.body)?.[1]?.trim();
  const via = r.redirects.length ? `, reached through a redirect to ${r.url}` : '';
  return makeFinding('registry-not-npm', {
    registry: t.url,
    message:
      `${t.url} answers with an HTML page${title ? ` ("${title}")` : ''}${via}, not the npm API: npm fails with ` +
      `FETCH_ERROR "invalid json response body … Unexpected token '<'". This is not a credential problem.`,
    fix:
      `Set \`${at.key}=\` to the registry's npm endpoint from its setup instructions (Artifactory: ` +
      '`https://HOST/artifactory/api/npm/REPO/`, Nexus: `https://HOST/repository/REPO/`), with the trailing slash; ' +
      `if ${r.url} is a sign-in or portal page, connect the VPN or sign in to the network first.`,
    source: at.source,
  });
}

/** A registry URL that redirects: a warning, or an error when the host name changes and npm drops the credential. */
export function redirectFinding(t: Target, r: ProbeResponse, at: AnswerContext): Finding | undefined {
  if (!r.redirects.length) return undefined;
  const from = new URL(t.url);
  const to = new URL(r.url);
  // The registry's new base, when the redirect kept the request's own path (`…/-/ping`).
  const base = to.pathname.endsWith('/-/ping') ? r.url.slice(0, r.url.length - '-/ping'.length) : undefined;
  const field = t.credential.key?.slice(t.credential.key.lastIndexOf(':') + 1) ?? '_authToken';
  const line = base && `${nerfDart(base)}:${field}=${field === '_authToken' ? '${NPM_TOKEN}' : '…'}`;
  const hops = r.redirects.length > 1 ? ` (${r.redirects.length} redirects)` : '';
  const shown = base ?? r.url;
  // Still a redirect after npm's 20: a loop, and npm gives up with EMAXREDIRECT.
  if (r.status >= 300 && r.status < 400)
    return makeFinding('registry-redirected', {
      severity: 'error',
      registry: t.url,
      message: `${t.url} redirects in a loop (still ${r.status} after ${r.redirects.length} redirects, at ${r.url}): npm gives up with EMAXREDIRECT.`,
      fix: `Fix the redirect on the server (a proxy rewriting http↔https or adding and removing a slash), or set \`${at.key}=\` to the address it should end at.`,
      source: at.source,
    });
  const message = r.authDropped
    ? `${t.url} redirects to ${shown}${hops}: npm follows, but the host name changes (${from.hostname} → ${to.hostname}), ` +
      `so it drops the ${t.credential.kind} from ${at.credentialAt} on the way and the registry answers ${r.status} ` +
      `without it (E401/E404 although the token is valid).`
    : `${t.url} redirects to ${shown}${hops}: npm follows on every request${
        from.protocol === 'http:' && to.protocol === 'https:' && t.credential.kind !== 'none'
          ? `, sending the ${t.credential.kind} over plain http first`
          : ''
      }.`;
  const fix = base
    ? `Write \`${at.key}=${base}\`${t.credential.kind !== 'none' ? ` and key the credential to it: \`${line}\`` : ''}.`
    : `Find the registry's npm URL: ${t.url} leads to ${r.url}, which is not a registry address.`;
  return makeFinding('registry-redirected', {
    severity: r.authDropped ? 'error' : 'warning',
    registry: t.url,
    message,
    fix,
    source: at.source,
  });
}

/** A 401's challenge, when it asks for another scheme than the one sent (a Basic realm for a Bearer token). */
export function challengeHint(
  r: ProbeResponse,
  sent: string,
  regKey: string,
): { message: string; fix: string } | undefined {
  const challenge = header(r, 'www-authenticate');
  if (!challenge) return undefined;
  const scheme = /^\s*(\w+)/.exec(challenge)?.[1]?.toLowerCase();
  const sentScheme = sent.split(' ')[0].toLowerCase();
  const shown = challenge.length > 100 ? `${challenge.slice(0, 100)}…` : challenge;
  if (!scheme || scheme === sentScheme) return { message: ` (WWW-Authenticate: ${shown})`, fix: '' };
  // Many registries answer Basic and still take tokens as Bearer (GitHub Packages, Artifactory): a hint, no more.
  if (scheme === 'basic')
    return {
      message: ` (WWW-Authenticate: ${shown}: the registry asks for a user name and password)`,
      fix:
        ` If this registry takes no tokens as Bearer (Nexus without its npm Bearer Token Realm, for one), give it ` +
        `Basic credentials instead: \`${regKey}:_auth=<base64 of user:password>\`, or \`username=\` with ` +
        '`_password=<base64 password>` under the same key.',
    };
  return { message: ` (WWW-Authenticate: ${shown})`, fix: '' };
}

/** No credential, and the registry answers 401 to anonymous requests: every install fails, not "maybe". */
export function anonymousRefused(t: Target, ping: ProbeResponse, at: AnswerContext): Finding {
  const key = nerfDart(t.url);
  const basic = /^\s*basic\b/i.test(header(ping, 'www-authenticate') ?? '');
  return makeFinding('no-credential-for-registry', {
    severity: 'error',
    registry: t.url,
    message:
      `${t.url}${t.scopes.length ? ` (${t.scopes.join(', ')})` : ''} answers 401 to a request without a credential` +
      `${basic ? ' (a Basic challenge)' : ''}, and npm sends none: every install from it fails with E401.`,
    fix:
      `Add \`${key}:_authToken=\${NPM_TOKEN}\` to ~/.npmrc and export NPM_TOKEN, or run \`npm login --registry=${t.url}\`.` +
      (basic
        ? ` If the registry takes no tokens, give it Basic credentials instead: \`${key}:_auth=\${NPM_AUTH}\` (NPM_AUTH: the base64 of user:password).`
        : ''),
    source: at.source,
  });
}
