// Network probes, in parallel and time-boxed: DNS, ping (TLS chain and proxy on the way), whoami with the
// exact credential npm would send, the packument for --package; on a Tessera registry, the token's own
// metadata and /-/tessera/v1/auth/explain for the intended action.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { makeFinding } from '../domain/findings.ts';
import type { Finding } from '../domain/findings.ts';
import type { DoctorContext, Target } from './context.ts';
import {
  authorizationHeader,
  credentialForRequest,
  nerfDart,
  packageName,
  packumentUrl,
  redact,
  registryForSpec,
} from './credentials.ts';
import { peerCertificate, probeRequest, ProbeError } from './http-probe.ts';
import { anonymousRefused, challengeHint, pageFinding, redirectFinding } from './probe-answers.ts';
import type { AnswerContext } from './probe-answers.ts';
import type { ProbeOptions, ProbeResponse } from './http-probe.ts';
import { caFor, clientCertificate, proxyFor } from './npm-transport.ts';
import { hostOf } from './rules/rule.ts';
import { findingForReason, reasonFix, severityForReason, tokenCreateCommand } from './reasons.ts';
import type { FixInput, TokenMeta } from './reasons.ts';
import type { Explanation, TokenList, TokenSelf } from '../domain/wire.ts';

const TLS_CHAIN = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);
const TLS_CERT = new Set([
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_NOT_YET_VALID',
]);
const EXPIRING_DAYS = 7;
const DAY = 86_400_000;

function bodyJson(r: ProbeResponse): any {
  try {
    return JSON.parse(r.body);
  } catch {
    return undefined;
  }
}

function header(r: ProbeResponse, name: string): string | undefined {
  const v = r.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

interface Probe {
  findings: Finding[];
  notes: string[];
}

function where(t: Target): string {
  const o = t.credential.origin;
  return o ? (o.line ? `${o.file}:${o.line}` : o.file) : 'the line that holds it';
}

/** The environment variable the credential line reads (`${NPM_TOKEN}`), or the variable it came from. */
function variableOf(t: Target): string | undefined {
  const o = t.credential.origin;
  if (!o) return undefined;
  if (o.envName) return o.envName;
  const raw = o.entry?.rawValue;
  return raw ? /\$\{([^}?]+)\??\}/.exec(raw)?.[1] : undefined;
}

/** Where a new token goes so that npm sends it instead of this one. */
function placeOf(t: Target): string {
  const v = variableOf(t);
  if (v) return `the variable ${v} (${where(t)} reads it): \`export ${v}=<new token>\` or your CI secret`;
  return where(t);
}

function fixInput(t: Target, reason: string | undefined, extra: Partial<FixInput> = {}): FixInput {
  const o = t.credential.origin;
  return {
    reason,
    registry: t.url,
    where: where(t),
    place: placeOf(t),
    // npm login writes //host/path/:_authToken to the user .npmrc, over a literal value there.
    loginReplaces: o?.where === 'user' && !variableOf(t) && t.credential.key === `${nerfDart(t.url)}:_authToken`,
    ...extra,
  };
}

/** The registry's own words for a refusal, without the help link it appends. */
function registryText(body: any): string | undefined {
  const text = body?.error ?? body?.message;
  return typeof text === 'string' && text ? text.replace(/ \(https?:\/\/[^)]*\/-\/help\/[^)]*\)$/, '') : undefined;
}

function sourceOfCred(t: Target) {
  const o = t.credential.origin;
  return o ? { file: o.file, line: o.line } : undefined;
}

function networkFinding(
  ctx: DoctorContext,
  t: Target,
  err: ProbeError,
  proxy: string | undefined,
  chainNote: string,
): Finding {
  const host = hostOf(t.url);
  if (err.viaProxy || err.code === 'E407') {
    return makeFinding('proxy-misconfigured', {
      registry: t.url,
      message: `Requests to ${t.url} go through the proxy ${redactUrl(proxy)}, which failed: ${err.message}${err.code === 'E407' ? ' (npm prints E407)' : ''}.`,
      fix:
        err.code === 'E407'
          ? 'Give the proxy its credentials: `npm config set https-proxy http://user:password@proxy:port` (percent-encode special characters), or export HTTPS_PROXY the same way.'
          : 'Check https-proxy/proxy (`npm config get https-proxy proxy`) and HTTPS_PROXY: the proxy must be reachable, with a scheme.',
      source: sourceOfOrigin(ctx, 'https-proxy') ?? sourceOfOrigin(ctx, 'proxy'),
    });
  }
  if (TLS_CHAIN.has(err.code)) {
    return makeFinding('tls-untrusted-chain', {
      registry: t.url,
      message: `${t.url} presents a certificate npm does not trust (${err.code}: ${err.message})${chainNote}. A TLS-inspecting proxy or a private CA signs it.`,
      fix: `Get the root certificate (\`openssl s_client -showcerts -connect ${host} </dev/null\`), append it to a bundle with the public roots, and set \`cafile=/absolute/path/bundle.pem\`. Do not set strict-ssl=false.`,
      source: sourceOfOrigin(ctx, 'cafile'),
    });
  }
  if (TLS_CERT.has(err.code)) {
    const what =
      err.code === 'CERT_HAS_EXPIRED'
        ? 'has expired'
        : err.code === 'ERR_TLS_CERT_ALTNAME_INVALID'
          ? 'is issued for another name'
          : err.code === 'CERT_NOT_YET_VALID'
            ? 'is not valid yet'
            : 'is self-signed';
    return makeFinding('tls-bad-certificate', {
      registry: t.url,
      message: `The certificate of ${host} ${what} (${err.code})${chainNote}; npm refuses the connection.`,
      fix:
        err.code === 'CERT_HAS_EXPIRED'
          ? `Renew the certificate on ${host} (and check this machine's clock: \`date\`).`
          : err.code === 'ERR_TLS_CERT_ALTNAME_INVALID'
            ? 'Use the host name the certificate names in the registry URL, or reissue the certificate with this name.'
            : `Install a CA-signed certificate on ${host}, or trust this one explicitly with cafile=/absolute/path/cert.pem.`,
    });
  }
  return makeFinding('network-unreachable', {
    registry: t.url,
    message: `${t.url} is unreachable: ${err.code} (${err.message}).${proxy ? '' : ' No proxy is configured for it.'} This is not an authentication problem.`,
    fix:
      err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
        ? `Check the host name in the registry URL and your DNS/VPN (\`nslookup ${new URL(t.url).hostname}\`).`
        : 'Check VPN, firewall and proxy settings (HTTPS_PROXY / https-proxy), and whether the registry is up.',
    source: sourceOfOrigin(ctx, t.scopes.length ? `${t.scopes[0]}:registry` : 'registry'),
  });
}

function answerContext(ctx: DoctorContext, t: Target): AnswerContext {
  const key = t.scopes.length ? `${t.scopes[0]}:registry` : 'registry';
  return { key, source: sourceOfOrigin(ctx, key), credentialAt: where(t) };
}

function sourceOfOrigin(ctx: DoctorContext, key: string) {
  const o = ctx.cfg.origin(key);
  return o && o.where !== 'default' ? { file: o.file, line: o.line } : undefined;
}

function redactUrl(u?: string): string {
  if (!u) return '';
  try {
    const p = new URL(u);
    if (p.password) p.password = '***';
    return p.href;
  } catch {
    return u;
  }
}

async function probeTarget(ctx: DoctorContext, t: Target, deadline: number): Promise<Probe> {
  const out: Probe = { findings: [], notes: [] };
  const proxy = proxyFor(ctx, t.url);
  // npm speaks SOCKS to a socks:// proxy; these probes only speak HTTP CONNECT, and would blame the proxy.
  if (proxy && /^socks/i.test(proxy)) {
    out.notes.push(`${t.url} not probed: it goes through the SOCKS proxy ${redactUrl(proxy)}`);
    return out;
  }
  const base: ProbeOptions = {
    ca: caFor(ctx),
    rejectUnauthorized: ctx.cfg.get('strict-ssl') !== false,
    proxy,
    deadline,
    ...clientCertificate(ctx, t),
  };
  const auth = authorizationHeader(t.credential, ctx.cfg);
  // A header value npm itself would refuse to send; token-has-whitespace already says so.
  const sendable = auth && !/[\r\n\0]/.test(auth) ? auth : undefined;
  const root = t.url.replace(/\/+$/, '');
  const url = new URL(t.url);

  if (!proxy && !isIP(url.hostname.replace(/^\[|\]$/g, '')) && url.hostname !== 'localhost') {
    try {
      await lookup(url.hostname);
    } catch (e) {
      out.findings.push(
        networkFinding(
          ctx,
          t,
          new ProbeError((e as NodeJS.ErrnoException).code ?? 'ENOTFOUND', (e as Error).message),
          proxy,
          '',
        ),
      );
      return out;
    }
  }

  let tessera = Boolean(t.credential.value?.startsWith('tsr_'));
  const started = Date.now();
  try {
    const ping = await probeRequest(`${root}/-/ping`, {
      ...base,
      headers: sendable ? { authorization: sendable } : {},
    });
    if (header(ping, 'x-tessera-reason') || header(ping, 'x-tessera-version')) tessera = true;
    if (ping.status >= 500) {
      out.findings.push(
        makeFinding('network-unreachable', {
          registry: t.url,
          message: `${t.url} answered ${ping.status} to /-/ping: the registry (or a proxy in front of it) is failing.`,
          fix: "Retry later and check the registry's health; do not rotate tokens for a 5xx.",
        }),
      );
      return out;
    }
    out.notes.push(
      `ping ${t.url}: ${ping.status} in ${Date.now() - started} ms${proxy ? ` via proxy ${redactUrl(proxy)}` : ''}`,
    );
    // A web page, or a redirect that loses the credential: what follows would only repeat it as a 401.
    // npm's own ping accepts any body and is one URL among many: a page or a redirect there is proven only
    // when a packument request (where npm parses JSON) meets it too.
    let page = pageFinding(t, ping, answerContext(ctx, t));
    let moved = page ? undefined : redirectFinding(t, ping, answerContext(ctx, t));
    if (page || moved) {
      const sample = packageName(t.sample);
      const doc = await probeRequest(packumentUrl(t.url, sample), {
        ...base,
        headers: sendable ? { authorization: sendable } : {},
      }).catch(() => undefined);
      if (page) page = doc && pageFinding(t, doc, answerContext(ctx, t));
      if (moved && doc && !doc.redirects.length) {
        out.notes.push(`${t.url}: only /-/ping redirects (to ${ping.url}); packument requests do not`);
        moved = undefined;
      }
    }
    if (page || moved) out.findings.push((page ?? moved)!);
    if (page || moved?.severity === 'error') return out;
    // No credential, and the registry refuses anonymous requests: not "maybe private", every request fails.
    if (!sendable && !base.cert && ping.status === 401) {
      out.findings.push(anonymousRefused(t, ping, answerContext(ctx, t)));
      return out;
    }
  } catch (e) {
    const err =
      e instanceof ProbeError
        ? e
        : new ProbeError((e as NodeJS.ErrnoException).code ?? 'EUNKNOWN', (e as Error).message);
    let chainNote = '';
    if (TLS_CHAIN.has(err.code) || TLS_CERT.has(err.code)) {
      const peer = await peerCertificate(t.url, { deadline, proxy });
      if (peer) {
        chainNote = `; the server sent "${peer.subject}" issued by "${peer.issuer}"${peer.top !== peer.issuer && peer.top !== peer.subject ? `, chain top "${peer.top}"` : ''}, valid until ${peer.validTo}`;
      }
    }
    out.findings.push(networkFinding(ctx, t, err, proxy, chainNote));
    return out;
  }

  let user: string | undefined;
  // A client certificate alone identifies the caller too: npm's whoami goes out with it.
  if (sendable || base.cert) {
    try {
      const who = await probeRequest(`${root}/-/whoami`, {
        ...base,
        headers: sendable ? { authorization: sendable } : {},
      });
      const reason = header(who, 'x-tessera-reason');
      if (reason) tessera = true;
      const body = bodyJson(who);
      const page = pageFinding(t, who, answerContext(ctx, t));
      if (page) {
        out.findings.push(page);
        return out;
      }
      if (who.status === 200 && body?.username) {
        user = String(body.username);
        out.notes.push(`whoami on ${t.url}: ${user} (credential from ${where(t)})`);
      } else if (who.status === 401 || findingForReason(reason)) {
        const notice = header(who, 'npm-notice');
        const id = findingForReason(reason) ?? 'token-rejected';
        const detail = registryText(body);
        const challenge = reason
          ? undefined
          : challengeHint(who, sendable ?? '', t.credential.regKey ?? nerfDart(t.url));
        out.findings.push(
          makeFinding(id, {
            severity: severityForReason(reason, id),
            registry: t.url,
            message:
              `${t.url} rejects the ${t.credential.kind} ${redact(t.credential.value ?? '')} from ${where(t)}: ${who.status}` +
              `${reason ? ` ${reason}` : ''}${detail ? ` — ${detail}` : ''}${notice ? ` (npm notice: ${notice})` : ''}` +
              `${challenge?.message ?? ''}.`,
            fix: reasonFix(fixInput(t, reason, { detail })) + (challenge?.fix ?? ''),
            source: sourceOfCred(t),
          }),
        );
        return out;
      }
    } catch (e) {
      out.notes.push(`whoami on ${t.url} failed: ${(e as Error).message}`);
    }
  }

  if (tessera && sendable) await tesseraProbes(ctx, t, base, sendable, out, user);

  if (t.roles.has('package')) await packumentProbe(ctx, t, base, sendable, out);
  return out;
}

/** What a Tessera registry says about the credential itself. */
export interface TokenIdentity {
  user?: string;
  /** `session`, `granular`, `classic-…`, `oidc`, or `password`. */
  kind?: string;
  meta?: TokenMeta;
  /** The endpoint that answered. */
  via: string;
}

/** The caller's own token in `npm token list` output: the one entry whose redacted prefix starts the token. */
export function matchTokenInList(objects: unknown[], token: string): TokenMeta | undefined {
  const mine = objects.filter((o): o is TokenMeta => {
    const shown = typeof (o as TokenMeta)?.token === 'string' ? (o as TokenMeta).token!.replace(/[.…*]+$/, '') : '';
    return shown.length >= 8 && token.startsWith(shown);
  });
  return mine.length === 1 ? mine[0] : undefined;
}

async function tokenIdentity(
  root: string,
  base: ProbeOptions,
  auth: string,
  token: string,
  out: Probe,
): Promise<TokenIdentity | undefined> {
  const headers = { authorization: auth };
  // Tessera's own introspection: the credential as the registry resolved it.
  try {
    const r = await probeRequest(`${root}/-/tessera/v1/token`, { ...base, headers });
    const body: Partial<TokenSelf> | undefined = r.status === 200 ? bodyJson(r) : undefined;
    if (body && typeof body === 'object' && ('user' in body || 'token' in body)) {
      return {
        user: body.user,
        kind: body.token?.type ?? body.credential,
        meta: body.token ?? undefined,
        via: '/-/tessera/v1/token',
      };
    }
    if (r.status !== 404 && r.status !== 405) return undefined;
    // 404/405: a Tessera from before this endpoint.
  } catch {
    return undefined;
  }
  // An older Tessera: npm's token list, matched by the redacted prefix it shows.
  if (!token) return undefined;
  const objects: unknown[] = [];
  let next: string | null = `${root}/-/npm/v1/tokens?perPage=100`;
  try {
    for (let page = 0; next && page < 10; page++) {
      const r = await probeRequest(next, { ...base, headers });
      const body: Partial<TokenList> | undefined = r.status === 200 ? bodyJson(r) : undefined;
      if (!Array.isArray(body?.objects)) break;
      objects.push(...body.objects);
      next = typeof body.urls?.next === 'string' && body.urls.next.startsWith(root) ? body.urls.next : null;
    }
  } catch {
    /* metadata is a bonus */
  }
  const meta = matchTokenInList(objects, token);
  if (!meta && objects.length)
    out.notes.push(
      `${root}/-/npm/v1/tokens lists ${objects.length} token(s), none (or several) matching ${redact(token)}`,
    );
  return meta ? { kind: meta.type, meta, via: '/-/npm/v1/tokens' } : undefined;
}

function describeToken(meta: TokenMeta): string {
  const parts: string[] = [meta.type ?? 'token'];
  const perm = meta.permissions?.find((p) => p.name === 'package')?.action ?? (meta.readonly ? 'read-only' : undefined);
  if (perm) parts.push(perm);
  if (meta.packages_all === false) {
    const on = [...(meta.scopes ?? []).map((s) => `${s.startsWith('@') ? s : `@${s}`}/*`), ...(meta.packages ?? [])];
    parts.push(on.length ? `limited to ${on.join(', ')}` : 'no packages');
  }
  if (meta.orgs?.length) parts.push(`orgs ${meta.orgs.join(', ')}`);
  if (meta.cidr_whitelist?.length) parts.push(`only from ${meta.cidr_whitelist.join(', ')}`);
  if (meta.bypass_2fa) parts.push('bypasses 2FA');
  return parts.join(', ');
}

function inDays(days: number): string {
  if (days < 1) {
    const hours = Math.max(0, Math.round(days * 240) / 10);
    return `${hours} hour(s)`;
  }
  return `${Math.round(days * 10) / 10} day(s)`;
}

function expiryCheck(ctx: DoctorContext, t: Target, id: TokenIdentity, out: Probe): void {
  const meta = id.meta!;
  const expires = meta.expires ?? meta.expiry;
  const token = t.credential.value ?? '';
  if (!expires) {
    out.notes.push(`token ${redact(token)} on ${t.url} never expires`);
    return;
  }
  const at = new Date(expires);
  const days = (at.getTime() - ctx.now.getTime()) / DAY;
  const kind = meta.type ?? id.kind;
  const fromVariable = Boolean(variableOf(t));
  // A login session is short by design; it only matters where nobody will log in again (a CI variable).
  const shortByDesign = kind === 'oidc' || (kind === 'session' && !fromVariable);
  if (days < 0 || days > EXPIRING_DAYS || shortByDesign) {
    out.notes.push(
      `token ${redact(token)} on ${t.url} expires ${at.toISOString()}${days >= 0 ? ` (in ${inDays(days)})` : ''}` +
        `${kind === 'session' && days >= 0 ? `; it is a login session: \`npm login --registry=${t.url}\` again after that` : ''}`,
    );
    return;
  }
  const place = placeOf(t);
  const rotate =
    kind === 'session'
      ? `This is a login session (\`npm login\`), which CI cannot renew: in a terminal logged in to the registry (\`npm login --registry=${t.url}\`), ` +
        `create a token for CI: \`${tokenCreateCommand(t.url, undefined)}\`, and put it in ${place}.`
      : `Rotate it now: in a terminal logged in to the registry (\`npm login --registry=${t.url}\`), \`${tokenCreateCommand(t.url, meta)}\`, ` +
        `put the new token in ${place}, then revoke this one: \`npm token revoke ${meta.key ?? '<id>'} --registry=${t.url}\`.`;
  out.findings.push(
    makeFinding('token-expiring-soon', {
      registry: t.url,
      message: `The ${kind ?? 'token'} token from ${where(t)} (${redact(token)}${meta.name ? `, "${meta.name}"` : ''}) expires in ${inDays(days)}, on ${at.toISOString()}; after that npm gets E401 from ${t.url}.`,
      fix: rotate,
      source: sourceOfCred(t),
    }),
  );
}

/** Does this check's detail say that a one-time password will be asked for? */
function needsOtp(body: Partial<Explanation>): string | undefined {
  if (body?.otp === false) return undefined;
  const check = Array.isArray(body?.checks)
    ? body.checks.find((c: any) => c?.check === 'two-factor' && c.ok)
    : undefined;
  const detail = typeof check?.detail === 'string' ? check.detail : '';
  if (/\bno one-time password\b/.test(detail)) return undefined;
  if (body?.otp === true || /one-time password (is needed|to publish)|needs a one-time password/.test(detail))
    return detail || 'a one-time password is needed';
  return undefined;
}

/** Without /-/tessera/v1/auth/explain (an older Tessera), what the token's own limits already say about publishing. */
function publishFromMeta(meta: TokenMeta, pkg: string): { reason: string; detail: string } | undefined {
  const perm = meta.permissions?.find((p) => p.name === 'package')?.action;
  if (meta.readonly || perm === 'read-only' || perm === 'no-access')
    return { reason: 'token-read-only', detail: 'the token is read-only' };
  if (meta.packages_all === false) {
    const scope = /^(@[^/]+)\//.exec(pkg)?.[1];
    const covered =
      (meta.packages ?? []).includes(pkg) ||
      (scope !== undefined && (meta.scopes ?? []).some((s) => s === scope || `@${s}` === scope));
    if (!covered) return { reason: 'token-package-restricted', detail: `the token does not cover ${pkg}` };
  }
  return undefined;
}

async function tesseraProbes(
  ctx: DoctorContext,
  t: Target,
  base: ProbeOptions,
  auth: string,
  out: Probe,
  whoUser?: string,
): Promise<void> {
  const root = t.url.replace(/\/+$/, '');
  const token = t.credential.kind === 'token' ? (t.credential.value ?? '') : '';
  const id = await tokenIdentity(root, base, auth, token, out);
  const user = id?.user ?? whoUser;
  if (id?.meta) {
    out.notes.push(
      `token ${redact(token)} on ${t.url}${user ? ` (${user})` : ''}: ${describeToken(id.meta)} (from ${id.via})`,
    );
    expiryCheck(ctx, t, id, out);
  }

  // What the intended actions would meet: publishing this project, reading each --package on this registry.
  const asks: { pkg: string; action: 'publish' | 'read' }[] = [];
  if (ctx.opts.publish && t.roles.has('publish') && ctx.publishName)
    asks.push({ pkg: ctx.publishName, action: 'publish' });
  for (const spec of ctx.opts.packages) {
    const name = packageName(spec);
    if (registryForSpec(ctx.cfg, spec).registry === t.url && !asks.some((a) => a.pkg === name))
      asks.push({ pkg: name, action: 'read' });
  }
  await Promise.all(
    asks.map(async ({ pkg, action }) => {
      let body: Partial<Explanation> | undefined;
      try {
        const r = await probeRequest(
          `${root}/-/tessera/v1/auth/explain?package=${encodeURIComponent(pkg)}&action=${action}`,
          { ...base, headers: { authorization: auth } },
        );
        body = r.status === 200 ? bodyJson(r) : undefined;
      } catch {
        /* fall through to the token's metadata */
      }
      if (!body || typeof body.allowed !== 'boolean') {
        const guess = action === 'publish' && id?.meta ? publishFromMeta(id.meta, pkg) : undefined;
        if (guess) deny(guess.reason, guess.detail, `The token's own limits (${id!.via} on ${t.url})`);
        return;
      }
      if (body.allowed) {
        const otp = action === 'publish' ? needsOtp(body) : undefined;
        if (otp) {
          out.findings.push(
            makeFinding('otp-required', {
              registry: t.url,
              message: `${t.url} would let ${user ?? 'this user'} publish ${pkg} only with a one-time password (${otp}): a terminal prompts for it, CI fails with EOTP.`,
              fix: reasonFix(fixInput(t, 'otp-required', { pkg, user, token: id?.meta })),
              source: sourceOfCred(t),
            }),
          );
        } else {
          out.notes.push(`${t.url} says ${action} of ${pkg} is allowed for this credential`);
        }
        return;
      }
      deny(typeof body.reason === 'string' ? body.reason : undefined, registryText(body), t.url);

      function deny(reason: string | undefined, detail: string | undefined, said: string): void {
        if (action === 'read') {
          out.notes.push(
            `${said}: ${user ?? 'this credential'} cannot read ${pkg}${reason ? ` (${reason})` : ''}${detail ? ` — ${detail}` : ''}`,
          );
          return;
        }
        // A name held by a restricted package the caller cannot see.
        const hidden = reason === 'not-found';
        const findingId = hidden ? 'not-maintainer' : (findingForReason(reason) ?? 'publish-forbidden');
        out.findings.push(
          makeFinding(findingId, {
            severity: severityForReason(reason, findingId),
            registry: t.url,
            message:
              `${said} says publishing ${pkg} would be refused for ${user ?? 'the credential'} (${redact(t.credential.value ?? '')} from ${where(t)}): ` +
              `${reason ?? 'denied'}${hidden ? ` — ${pkg} exists and is restricted to others` : detail ? ` — ${detail}` : ''}.`,
            fix: hidden
              ? `The name ${pkg} belongs to a restricted package that ${user ?? 'you'} cannot see: publish under your own scope (\`@${user ?? '<you>'}/${pkg.replace(/^@[^/]+\//, '')}\` in package.json), or ask the registry administrator who maintains it.`
              : reasonFix(fixInput(t, reason, { pkg, user, token: id?.meta, detail })),
            source: sourceOfCred(t),
          }),
        );
      }
    }),
  );
}

async function packumentProbe(
  ctx: DoctorContext,
  t: Target,
  base: ProbeOptions,
  auth: string | undefined,
  out: Probe,
): Promise<void> {
  const spec = ctx.opts.packages.find((p) => registryForSpec(ctx.cfg, p).registry === t.url) ?? t.sample;
  const name = packageName(spec);
  try {
    const r = await probeRequest(packumentUrl(t.url, name), {
      ...base,
      headers: { ...(auth ? { authorization: auth } : {}), accept: 'application/vnd.npm.install-v1+json' },
    });
    if (r.status !== 200) {
      out.notes.push(
        `GET ${name} on ${t.url}: ${r.status}${header(r, 'x-tessera-reason') ? ` (${header(r, 'x-tessera-reason')})` : ''}`,
      );
      return;
    }
    const doc = bodyJson(r);
    const latest = doc?.['dist-tags']?.latest;
    const tarball: string | undefined =
      doc?.versions?.[latest]?.dist?.tarball ?? Object.values<any>(doc?.versions ?? {})[0]?.dist?.tarball;
    if (!tarball) return;
    const tHost = hostOf(tarball);
    if (tHost === hostOf(t.url)) return;
    const cred = credentialForRequest(ctx.cfg, tarball, name);
    out.findings.push(
      makeFinding('tarball-host-mismatch', {
        severity: cred.kind === 'none' && t.credential.kind !== 'none' ? 'error' : 'warning',
        registry: t.url,
        message: `${t.url} lists the tarball of ${name} at ${tarball} (host ${tHost}), so npm ${cred.kind === 'none' ? 'sends no credential with the download' : `uses the credential from ${cred.origin?.file}:${cred.origin?.line}`}.`,
        fix: `Fix the registry's public URL so tarball links use ${new URL(t.url).origin}, or add a key for the tarball host: \`//${tHost}/:_authToken=\${NPM_TOKEN}\`.`,
      }),
    );
  } catch (e) {
    out.notes.push(`GET ${name} on ${t.url} failed: ${(e as Error).message}`);
  }
}

export async function runProbes(ctx: DoctorContext, offline: Finding[]): Promise<Probe> {
  const timeout = ctx.opts.timeout ?? 8000;
  const deadline = Date.now() + timeout;
  // A registry whose URL already fails offline checks cannot be probed meaningfully.
  const broken = new Set(offline.filter((f) => f.id === 'url-missing-scheme').map((f) => f.registry));
  const targets = ctx.targets.filter((t) => !broken.has(t.url));
  const results = await Promise.all(
    targets.map((t) =>
      Promise.race([
        probeTarget(ctx, t, deadline),
        new Promise<Probe>((resolve) =>
          setTimeout(
            () =>
              resolve({
                findings: [
                  makeFinding('network-unreachable', {
                    registry: t.url,
                    message: `${t.url} did not answer within ${timeout} ms.`,
                    fix: 'Check VPN, firewall and proxy settings; rerun with --timeout to wait longer, or --offline to skip probes.',
                  }),
                ],
                notes: [],
              }),
            timeout + 250,
          ).unref(),
        ),
      ]),
    ),
  );
  return { findings: results.flatMap((r) => r.findings), notes: results.flatMap((r) => r.notes) };
}
