// One HTTP(S) request the way npm would make it: npm's proxy rules, its CA and strict-ssl settings,
// and a hard deadline. Errors keep Node's codes (ECONNREFUSED, CERT_HAS_EXPIRED, …) so they map to findings.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { Socket } from 'node:net';

export interface ProbeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The URL that answered, after the redirects npm follows. */
  url: string;
  /** Each URL a redirect led to, in order. */
  redirects: string[];
  /** A redirect changed the host name, so the Authorization header was dropped on the way (as npm drops it). */
  authDropped: boolean;
}

export interface ProbeOptions {
  method?: string;
  headers?: Record<string, string>;
  ca?: string[];
  rejectUnauthorized: boolean;
  /** The client certificate and key npm presents (`//host/:certfile=` and `keyfile=`), PEM. */
  cert?: string;
  key?: string;
  proxy?: string;
  deadline: number;
}

export class ProbeError extends Error {
  code: string;
  /** The failure happened talking to the proxy, not the registry. */
  viaProxy: boolean;
  constructor(code: string, message: string, viaProxy = false) {
    super(message);
    this.code = code;
    this.viaProxy = viaProxy;
  }
}

function remaining(deadline: number): number {
  return Math.max(1, deadline - Date.now());
}

function tlsOptions(url: URL, o: ProbeOptions): tls.ConnectionOptions {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return {
    servername: /^[\d.]+$|:/.test(host) ? undefined : host,
    ca: o.ca,
    rejectUnauthorized: o.rejectUnauthorized,
    cert: o.cert,
    key: o.key,
  };
}

/** Open a tunnel through an http(s) proxy with CONNECT; resolves to the raw socket. */
function connectTunnel(proxy: URL, target: URL, deadline: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: `${target.hostname}:${target.port || 443}` };
    if (proxy.username)
      headers['proxy-authorization'] =
        `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`;
    const req = (proxy.protocol === 'https:' ? https : http).request({
      host: proxy.hostname,
      port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: `${target.hostname}:${target.port || 443}`,
      headers,
      timeout: remaining(deadline),
    });
    req.on('connect', (res, socket) => {
      if (res.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(
        new ProbeError(
          `E${res.statusCode}`,
          `proxy ${proxy.host} answered ${res.statusCode} ${res.statusMessage ?? ''} to CONNECT`,
          true,
        ),
      );
    });
    req.on('timeout', () => req.destroy(new ProbeError('ETIMEDOUT', `no answer from proxy ${proxy.host}`, true)));
    req.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        e instanceof ProbeError ? e : new ProbeError(e.code ?? 'EPROXY', `proxy ${proxy.host}: ${e.message}`, true),
      ),
    );
    req.end();
  });
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);

/**
 * A request with npm's redirect rules (make-fetch-happen): up to 20 redirects, the Authorization header
 * kept while the host name stays the same (another port or scheme keeps it) and dropped once it changes.
 */
export async function probeRequest(urlString: string, o: ProbeOptions): Promise<ProbeResponse> {
  const redirects: string[] = [];
  let url = urlString;
  let headers = o.headers;
  let authDropped = false;
  for (;;) {
    const r = await probeOnce(url, { ...o, headers });
    const location = header(r.headers.location);
    if (!REDIRECT.has(r.status) || !location || redirects.length >= 20) return { ...r, url, redirects, authDropped };
    const next = new URL(location, url);
    if (next.hostname !== new URL(url).hostname && headers && 'authorization' in headers) {
      const { authorization: _dropped, ...rest } = headers;
      headers = rest;
      authDropped = true;
    }
    url = next.href;
    redirects.push(url);
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

type Once = Omit<ProbeResponse, 'url' | 'redirects' | 'authDropped'>;

async function probeOnce(urlString: string, o: ProbeOptions): Promise<Once> {
  const url = new URL(urlString);
  const isHttps = url.protocol === 'https:';
  const proxy = o.proxy ? new URL(o.proxy) : undefined;
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'tessera-doctor', ...o.headers };
  let options: https.RequestOptions;
  if (proxy && isHttps) {
    const socket = await connectTunnel(proxy, url, o.deadline);
    options = {
      ...tlsOptions(url, o),
      createConnection: () => tls.connect({ ...tlsOptions(url, o), socket }),
      host: url.hostname,
      path: url.pathname + url.search,
    };
  } else if (proxy) {
    if (proxy.username)
      headers['proxy-authorization'] =
        `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`;
    headers.host = url.host;
    options = { host: proxy.hostname, port: proxy.port || 80, path: url.href };
  } else {
    options = {
      ...(isHttps ? tlsOptions(url, o) : {}),
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || undefined,
      path: url.pathname + url.search,
    };
  }
  const mod = isHttps ? https : http;
  return new Promise<Once>((resolve, reject) => {
    const req = mod.request(
      { ...options, method: o.method ?? 'GET', headers, agent: false, timeout: remaining(o.deadline) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          if (body.length < 1_000_000) body += d;
        });
        res.on('end', () => {
          if (proxy && !isHttps && res.statusCode === 407) {
            reject(new ProbeError('E407', `proxy ${proxy.host} answered 407 Proxy Authentication Required`, true));
          } else resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(
        new ProbeError(
          'ETIMEDOUT',
          `no answer from ${proxy && !isHttps ? `proxy ${proxy.host}` : url.host} in time`,
          Boolean(proxy && !isHttps),
        ),
      ),
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e instanceof ProbeError) return reject(e);
      const viaProxy = Boolean(
        proxy && !isHttps && ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET'].includes(e.code ?? ''),
      );
      reject(new ProbeError(e.code ?? 'EUNKNOWN', e.message, viaProxy));
    });
    req.end();
  });
}

export interface PeerCertificate {
  subject: string;
  issuer: string;
  validTo: string;
  expired: boolean;
  selfSigned: boolean;
  /** Common name of the last certificate the server sent (the chain's top). */
  top: string;
  altNames?: string;
}

/** The server's certificate chain, read without verification (for messages only). */
export function peerCertificate(
  urlString: string,
  o: Pick<ProbeOptions, 'deadline' | 'proxy'>,
): Promise<PeerCertificate | undefined> {
  const url = new URL(urlString);
  if (url.protocol !== 'https:' || o.proxy) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: url.hostname,
      port: Number(url.port || 443),
      rejectUnauthorized: false,
      servername: /^[\d.]+$/.test(url.hostname) ? undefined : url.hostname,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, remaining(o.deadline));
    socket.on('secureConnect', () => {
      clearTimeout(timer);
      const leaf = socket.getPeerCertificate(true);
      let top = leaf;
      for (let i = 0; i < 10 && top.issuerCertificate && top.issuerCertificate !== top; i++)
        top = top.issuerCertificate;
      const cn = (c: { CN?: string | string[]; O?: string | string[] } | undefined) => String(c?.CN ?? c?.O ?? '?');
      resolve(
        leaf?.subject
          ? {
              subject: cn(leaf.subject),
              issuer: cn(leaf.issuer),
              validTo: leaf.valid_to,
              expired: new Date(leaf.valid_to) < new Date(),
              selfSigned:
                cn(leaf.subject) === cn(leaf.issuer) &&
                leaf.fingerprint256 === (leaf.issuerCertificate ?? leaf).fingerprint256,
              top: cn(top.subject),
              altNames: leaf.subjectaltname,
            }
          : undefined,
      );
      socket.destroy();
    });
    socket.on('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}
