// Network probes, in parallel and time-boxed: DNS, ping (TLS chain and proxy on the way), whoami with the
// exact credential npm would send, the packument for --package; on a Tessera registry, the token's own
// metadata and /-/tessera/v1/auth/explain for the intended action.
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { makeFinding } from '../domain/findings.ts';
import type { Finding, FindingId } from '../domain/findings.ts';
import type { DoctorContext, Target } from './context.ts';
import { authorizationHeader, credentialForRequest, packumentUrl, redact, registryForSpec } from './credentials.ts';
import { peerCertificate, probeRequest, ProbeError } from './http-probe.ts';
import type { ProbeOptions, ProbeResponse } from './http-probe.ts';
import { hostOf } from './rules/rule.ts';

const TLS_CHAIN = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
const TLS_CERT = new Set(['CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_NOT_YET_VALID']);
const EXPIRING_DAYS = 7;

/** The proxy npm would use for `url` (reference §4.3 "Proxy errors"). */
export function proxyFor(ctx: DoctorContext, url: string): string | undefined {
  const u = new URL(url);
  const env = ctx.cfg.env;
  const noProxy = ctx.cfg.get('noproxy') ?? env.NO_PROXY ?? env.no_proxy;
  const list = (Array.isArray(noProxy) ? noProxy : String(noProxy ?? '').split(',')).map((s) => String(s).trim().replace(/^\./, '')).filter(Boolean);
  if (list.some((s) => u.hostname === s || u.hostname.endsWith('.' + s))) return undefined;
  const configured = ctx.cfg.getString('https-proxy') ?? ctx.cfg.getString('proxy');
  if (configured) return configured;
  if (u.protocol === 'https:') return env.HTTPS_PROXY ?? env.https_proxy ?? undefined;
  return env.https_proxy ?? env.HTTPS_PROXY ?? env.http_proxy ?? env.HTTP_PROXY ?? env.proxy ?? undefined;
}

function caFor(ctx: DoctorContext): string[] | undefined {
  const ca = ctx.cfg.get('ca');
  if (ca) return (Array.isArray(ca) ? ca : [ca]).map(String);
  const cafile = ctx.cfg.getString('cafile');
  if (!cafile) return undefined;
  try {
    const text = readFileSync(cafile, 'utf8');
    return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? undefined;
  } catch {
    return undefined; // npm ignores a missing cafile too (cafile-problem reports it)
  }
}

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

/** A refusal reason id from the registry (Tessera) mapped to the doctor's finding. */
const REASON_FINDING: Record<string, FindingId> = {
  'token-invalid': 'token-rejected', 'token-expired': 'token-rejected', 'token-revoked': 'token-rejected',
  'user-disabled': 'token-rejected', 'password-wrong': 'token-rejected', 'ip-not-allowed': 'token-rejected',
  'auth-required': 'no-credential-for-registry', 'token-read-only': 'read-only-token', 'not-maintainer': 'not-maintainer',
  'scope-not-yours': 'not-maintainer', 'token-package-restricted': 'publish-forbidden', 'version-exists': 'publish-forbidden',
  'otp-required': 'otp-required',
};

function reasonFix(reason: string | undefined, t: Target, pkg?: string): string {
  switch (reason) {
    case 'token-expired':
    case 'token-revoked':
    case 'token-invalid':
    case 'user-disabled':
      return `Log in again (\`npm login --registry=${t.url}\`) or create a new token (\`npm token create --registry=${t.url}\`), then replace the value at ${where(t)}.`;
    case 'ip-not-allowed':
      return 'Use the token from an allowed network, or create one whose --cidr includes this machine\'s address.';
    case 'token-read-only':
      return `Create a read-write token for ${pkg ?? 'the package'}: \`npm token create --registry=${t.url} --packages-and-scopes-permission read-write${pkg ? ` --packages ${pkg}` : ''}\`.`;
    case 'not-maintainer':
    case 'scope-not-yours':
      return `Ask a maintainer (\`npm owner ls ${pkg ?? '<package>'} --registry=${t.url}\`) to run \`npm owner add <you> ${pkg ?? '<package>'}\`, or publish under your own scope.`;
    case 'token-package-restricted':
      return `Create a token that includes ${pkg ?? 'this package'}: \`npm token create --registry=${t.url} --packages ${pkg ?? '<package>'}\`.`;
    case 'otp-required':
      return 'Publish with `--otp=<code>` from your authenticator; in CI use trusted publishing or a bypass-2FA granular token.';
    case 'auth-required':
      return `Add \`${t.exact.regKey ?? '//host/'}:_authToken=\${NPM_TOKEN}\` to ~/.npmrc, or \`npm login --registry=${t.url}\`.`;
    default:
      return `Log in again (\`npm login --registry=${t.url}\`) or create a new token, then replace the value at ${where(t)}.`;
  }
}

function where(t: Target): string {
  const o = t.credential.origin;
  return o ? (o.line ? `${o.file}:${o.line}` : o.file) : 'the line that holds it';
}

function sourceOfCred(t: Target) {
  const o = t.credential.origin;
  return o ? { file: o.file, line: o.line } : undefined;
}

function networkFinding(ctx: DoctorContext, t: Target, err: ProbeError, proxy: string | undefined, chainNote: string): Finding {
  const host = hostOf(t.url);
  if (err.viaProxy || err.code === 'E407') {
    return makeFinding('proxy-misconfigured', {
      registry: t.url,
      message: `Requests to ${t.url} go through the proxy ${redactUrl(proxy)}, which failed: ${err.message}${err.code === 'E407' ? ' (npm prints E407)' : ''}.`,
      fix: err.code === 'E407'
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
    const what = err.code === 'CERT_HAS_EXPIRED' ? 'has expired' : err.code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? 'is issued for another name' : err.code === 'CERT_NOT_YET_VALID' ? 'is not valid yet' : 'is self-signed';
    return makeFinding('tls-bad-certificate', {
      registry: t.url,
      message: `The certificate of ${host} ${what} (${err.code})${chainNote}; npm refuses the connection.`,
      fix: err.code === 'CERT_HAS_EXPIRED' ? `Renew the certificate on ${host} (and check this machine's clock: \`date\`).`
        : err.code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? 'Use the host name the certificate names in the registry URL, or reissue the certificate with this name.'
          : `Install a CA-signed certificate on ${host}, or trust this one explicitly with cafile=/absolute/path/cert.pem.`,
    });
  }
  return makeFinding('network-unreachable', {
    registry: t.url,
    message: `${t.url} is unreachable: ${err.code} (${err.message}).${proxy ? '' : ' No proxy is configured for it.'} This is not an authentication problem.`,
    fix: err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
      ? `Check the host name in the registry URL and your DNS/VPN (\`nslookup ${new URL(t.url).hostname}\`).`
      : 'Check VPN, firewall and proxy settings (HTTPS_PROXY / https-proxy), and whether the registry is up.',
    source: sourceOfOrigin(ctx, t.scopes.length ? `${t.scopes[0]}:registry` : 'registry'),
  });
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
  const base: ProbeOptions = { ca: caFor(ctx), rejectUnauthorized: ctx.cfg.get('strict-ssl') !== false, proxy, deadline };
  const auth = authorizationHeader(t.credential, ctx.cfg);
  // A header value npm itself would refuse to send; token-has-whitespace already says so.
  const sendable = auth && !/[\r\n\0]/.test(auth) ? auth : undefined;
  const root = t.url.replace(/\/+$/, '');
  const url = new URL(t.url);

  if (!proxy && !isIP(url.hostname.replace(/^\[|\]$/g, '')) && url.hostname !== 'localhost') {
    try {
      await lookup(url.hostname);
    } catch (e) {
      out.findings.push(networkFinding(ctx, t, new ProbeError((e as NodeJS.ErrnoException).code ?? 'ENOTFOUND', (e as Error).message), proxy, ''));
      return out;
    }
  }

  let tessera = Boolean(t.credential.value?.startsWith('tsr_'));
  const started = Date.now();
  try {
    const ping = await probeRequest(`${root}/-/ping`, { ...base, headers: sendable ? { authorization: sendable } : {} });
    if (header(ping, 'x-tessera-reason') || header(ping, 'x-tessera-version')) tessera = true;
    if (ping.status >= 500) {
      out.findings.push(makeFinding('network-unreachable', {
        registry: t.url, message: `${t.url} answered ${ping.status} to /-/ping: the registry (or a proxy in front of it) is failing.`,
        fix: 'Retry later and check the registry\'s health; do not rotate tokens for a 5xx.',
      }));
      return out;
    }
    out.notes.push(`ping ${t.url}: ${ping.status} in ${Date.now() - started} ms${proxy ? ` via proxy ${redactUrl(proxy)}` : ''}`);
  } catch (e) {
    const err = e instanceof ProbeError ? e : new ProbeError((e as NodeJS.ErrnoException).code ?? 'EUNKNOWN', (e as Error).message);
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

  if (sendable) {
    try {
      const who = await probeRequest(`${root}/-/whoami`, { ...base, headers: { authorization: sendable } });
      const reason = header(who, 'x-tessera-reason');
      if (reason) tessera = true;
      const body = bodyJson(who);
      if (who.status === 200 && body?.username) {
        out.notes.push(`whoami on ${t.url}: ${body.username} (credential from ${where(t)})`);
      } else if (who.status === 401 || (who.status === 403 && reason)) {
        const notice = header(who, 'npm-notice');
        out.findings.push(makeFinding(REASON_FINDING[reason ?? ''] ?? 'token-rejected', {
          severity: 'error', registry: t.url,
          message: `${t.url} rejects the ${t.credential.kind} ${redact(t.credential.value ?? '')} from ${where(t)}: ${who.status}` +
            `${reason ? ` ${reason}` : ''}${body?.error ? ` — ${String(body.error).replace(/ \(https?:\/\/[^)]*\/-\/help\/[^)]*\)$/, '')}` : ''}${notice ? ` (npm notice: ${notice})` : ''}.`,
          fix: reasonFix(reason, t),
          source: sourceOfCred(t),
        }));
        return out;
      }
    } catch (e) {
      out.notes.push(`whoami on ${t.url} failed: ${(e as Error).message}`);
    }
  }

  if (tessera && sendable) await tesseraProbes(ctx, t, base, sendable, out);

  if (t.roles.has('package')) await packumentProbe(ctx, t, base, sendable, out);
  return out;
}

async function tesseraProbes(ctx: DoctorContext, t: Target, base: ProbeOptions, auth: string, out: Probe): Promise<void> {
  const root = t.url.replace(/\/+$/, '');
  const token = t.credential.value ?? '';
  // The token's own metadata: npm's token list, matched by the SHA-256 key Tessera stores.
  try {
    const r = await probeRequest(`${root}/-/npm/v1/tokens`, { ...base, headers: { authorization: auth } });
    const list: any[] = r.status === 200 ? (bodyJson(r)?.objects ?? []) : [];
    const key = createHash('sha256').update(token).digest('hex');
    const mine = list.find((o) => o.key === key || (typeof o.token === 'string' && token.startsWith(o.token.replace(/[.…*]+$/, '')) && o.token.length >= 8));
    const expires = mine?.expires ?? mine?.expires_at ?? mine?.expiresAt;
    if (expires) {
      const at = new Date(expires);
      const days = (at.getTime() - ctx.now.getTime()) / 86_400_000;
      if (days >= 0 && days <= EXPIRING_DAYS) {
        const whole = Math.max(0, Math.round(days * 10) / 10);
        out.findings.push(makeFinding('token-expiring-soon', {
          registry: t.url,
          message: `The token from ${where(t)} (${redact(token)}) expires in ${whole} day(s), on ${at.toISOString()}; after that npm gets E401 here.`,
          fix: `Rotate it now: \`npm token create --registry=${t.url}${mine.readonly ? ' --read-only' : ''}\`, put the new token where ${where(t)} reads it, then \`npm token revoke ${mine.key?.slice(0, 8) ?? '<id>'} --registry=${t.url}\`.`,
          source: sourceOfCred(t),
        }));
      } else {
        out.notes.push(`token ${redact(token)} on ${t.url} expires ${at.toISOString()}`);
      }
    }
  } catch { /* metadata is a bonus; the probes above stand */ }

  const pkg = ctx.opts.publish ? ctx.publishName : ctx.opts.packages[0]?.replace(/(.)@.*$/, '$1');
  if (!pkg || !(t.roles.has('publish') || t.roles.has('package'))) return;
  const action = t.roles.has('publish') && ctx.opts.publish ? 'publish' : 'read';
  try {
    const r = await probeRequest(`${root}/-/tessera/v1/auth/explain?package=${encodeURIComponent(pkg)}&action=${action}`, { ...base, headers: { authorization: auth } });
    if (r.status !== 200) return;
    const body = bodyJson(r) ?? {};
    const allowed = body.allowed ?? body.allow ?? body.ok;
    if (allowed === true) {
      out.notes.push(`${t.url} says ${action} of ${pkg} is allowed for this credential`);
      return;
    }
    const reason: string | undefined = body.reason ?? body.id ?? body.deny?.reason;
    const id = REASON_FINDING[reason ?? ''] ?? 'publish-forbidden';
    const detail: string | undefined = body.message ?? body.error ?? body.detail;
    out.findings.push(makeFinding(id, {
      severity: id === 'otp-required' ? 'warning' : 'error', registry: t.url,
      message: `${t.url} says ${action} of ${pkg} would be refused for the credential from ${where(t)}: ${reason ?? 'denied'}${detail ? ` — ${detail}` : ''}.`,
      fix: reasonFix(reason, t, pkg),
      source: sourceOfCred(t),
    }));
  } catch { /* older Tessera without the endpoint */ }
}

async function packumentProbe(ctx: DoctorContext, t: Target, base: ProbeOptions, auth: string | undefined, out: Probe): Promise<void> {
  const spec = ctx.opts.packages.find((p) => registryForSpec(ctx.cfg, p).registry === t.url) ?? t.sample;
  const name = spec.replace(/(.)@.*$/, '$1');
  try {
    const r = await probeRequest(packumentUrl(t.url, name), { ...base, headers: { ...(auth ? { authorization: auth } : {}), accept: 'application/vnd.npm.install-v1+json' } });
    if (r.status !== 200) {
      out.notes.push(`GET ${name} on ${t.url}: ${r.status}${header(r, 'x-tessera-reason') ? ` (${header(r, 'x-tessera-reason')})` : ''}`);
      return;
    }
    const doc = bodyJson(r);
    const latest = doc?.['dist-tags']?.latest;
    const tarball: string | undefined = doc?.versions?.[latest]?.dist?.tarball ?? Object.values<any>(doc?.versions ?? {})[0]?.dist?.tarball;
    if (!tarball) return;
    const tHost = hostOf(tarball);
    if (tHost === hostOf(t.url)) return;
    const cred = credentialForRequest(ctx.cfg, tarball, name);
    out.findings.push(makeFinding('tarball-host-mismatch', {
      severity: cred.kind === 'none' && t.credential.kind !== 'none' ? 'error' : 'warning', registry: t.url,
      message: `${t.url} lists the tarball of ${name} at ${tarball} (host ${tHost}), so npm ${cred.kind === 'none' ? 'sends no credential with the download' : `uses the credential from ${cred.origin?.file}:${cred.origin?.line}`}.`,
      fix: `Fix the registry's public URL so tarball links use ${new URL(t.url).origin}, or add a key for the tarball host: \`//${tHost}/:_authToken=\${NPM_TOKEN}\`.`,
    }));
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
  const results = await Promise.all(targets.map((t) => Promise.race([
    probeTarget(ctx, t, deadline),
    new Promise<Probe>((resolve) => setTimeout(() => resolve({
      findings: [makeFinding('network-unreachable', {
        registry: t.url, message: `${t.url} did not answer within ${timeout} ms.`,
        fix: 'Check VPN, firewall and proxy settings; rerun with --timeout to wait longer, or --offline to skip probes.',
      })], notes: [],
    }), timeout + 250).unref()),
  ])));
  return { findings: results.flatMap((r) => r.findings), notes: results.flatMap((r) => r.notes) };
}
