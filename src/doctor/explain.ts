// `tessera explain`: read npm 9–12 console output, npm debug logs, pnpm or Yarn errors; extract what
// happened and rank the likely causes with their fixes (reference §4, §5.4, §6.4).
import type { FindingId } from '../domain/findings.ts';
import { reasons } from '../domain/reasons.ts';
import type { NpmConfig } from './npm-config.ts';
import { credentialForRegistry, credentialForRequest, redact } from './credentials.ts';
import { npmTokenCheck } from './rules/values.ts';
import { isTesseraToken, tokenChecksumValid } from '../domain/tokens.ts';
import { findingForReason, reasonFix } from './reasons.ts';
import { GITHUB, azureFeedOfUrl, azureFix, gitHubPackagesOfUrl, isAzureArtifactsHost, passwordNotBase64 } from './rules/vendors.ts';

export interface Cause { id: FindingId; fix: string }

export interface Extracted {
  code?: string;
  method?: string;
  url?: string;
  status?: number;
  /** The registry's `error` text (after "- METHOD url - "). */
  registryError?: string;
  notices: string[];
  /** WWW-Authenticate scheme inferred from npm's summary or the logged stack. */
  authScheme?: 'bearer' | 'basic' | 'otp' | 'ipaddress';
  /** The WWW-Authenticate value npm logged ("Unable to authenticate, need: …"). */
  authChallenge?: string;
  /** The URL in the debug log's `verbose pkgid name@url` line (npm 8 logs no other URL for a tarball 401). */
  pkgidUrl?: string;
  /** Tessera reason id (src/domain/reasons.ts) recognised from the registry's error text. */
  reason?: string;
  client: 'npm' | 'pnpm' | 'yarn';
  npmVersion?: string;
  command?: string;
  noAuthForUri?: { uri: string; scopedKey?: string };
  networkReason?: string;
  pnpmNoAuthHeader?: boolean;
  configFiles: string[];
  lines: string[];
}

export interface Explanation {
  code: string;
  method?: string;
  url?: string;
  status?: number;
  causes: Cause[];
}

// Lines as npm prints them, in both prefix generations, and as the debug log writes them.
const CONSOLE = /^npm (ERR!|error|WARN|warn|notice|http|info|verb|verbose|sill|silly|timing)(?: |$)/;
const DEBUGLOG = /^\d+ (error|warn|notice|http|info|verbose|silly|timing) /;

function normalise(text: string): { level: string; text: string }[] {
  const out: { level: string; text: string }[] = [];
  // eslint-disable-next-line no-control-regex
  for (const raw of text.replace(/\x1b\[[0-9;]*m/g, '').split(/\r?\n/)) {
    const line = raw.replace(/^\s*(?:\[[^\]]*\]\s*)?(?:\d{4}-\d\d-\d\dT[\d:.]+Z\s+)?/, ''); // CI timestamps
    let m = CONSOLE.exec(line);
    if (m) {
      const level = { 'ERR!': 'error', WARN: 'warn', verb: 'verbose', sill: 'silly' }[m[1]] ?? m[1];
      out.push({ level, text: line.slice(m[0].length) });
      continue;
    }
    m = DEBUGLOG.exec(line);
    if (m) {
      out.push({ level: m[1], text: line.slice(m[0].length) });
      continue;
    }
    out.push({ level: '', text: line.trim() });
  }
  return out;
}

const HTTP_LINE = /(\d{3}) [A-Za-z][A-Za-z -]*? - (GET|PUT|POST|DELETE|HEAD|PATCH) (\S+)(?: - (.*))?$/;

/** Regexes that recognise each Tessera reason's error text. */
let reasonMatchers: [string, RegExp][] | undefined;
function reasonPatterns(): [string, RegExp][] {
  if (reasonMatchers) return reasonMatchers;
  const SENT = '\u0000';
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const out: [string, RegExp][] = [];
  for (const [id, r] of Object.entries(reasons) as [string, { error: (p: object) => string }][]) {
    for (const params of [new Proxy({}, { get: (_t, k) => (typeof k === 'string' ? SENT : undefined) }), {}]) {
      let text: string;
      try {
        text = r.error(params);
      } catch {
        continue;
      }
      const literal = text.split(SENT).map(esc).join('.*?');
      if (literal.replace(/\.\*\?/g, '').length < 12) continue;
      out.push([id, new RegExp(literal)]);
    }
  }
  return (reasonMatchers = out);
}

export function extract(text: string): Extracted {
  const lines = normalise(text);
  const x: Extracted = { notices: [], client: 'npm', configFiles: [], lines: lines.map((l) => l.text) };
  const all = lines.map((l) => l.text).join('\n');
  if (/ERR_PNPM_|\bpnpm\b/.test(all) && !/npm (error|ERR!)/.test(text)) x.client = 'pnpm';
  if (/\bYN\d{4}\b|➤|\.yarnrc\.yml/.test(all)) x.client = 'yarn';

  for (const { level, text: t } of lines) {
    let m: RegExpExecArray | null;
    if (level === 'error' && (m = /^code (\S+)/.exec(t))) x.code ??= m[1];
    if (level === 'notice' && t && !/^(PING|PONG|New |Changelog|To update|Run `npm|package:|=== Tarball|Tarball |name:|version:|filename:|package size|unpacked size|shasum|integrity|total files|Publishing to)/.test(t)) {
      if (!x.notices.includes(t)) x.notices.push(t);
    }
    if ((m = /^using npm@(\S+)/.exec(t)) || (m = /^npm {1,2}v(\d\S*)/.exec(t))) x.npmVersion ??= m[1];
    if ((m = /^title npm (\S+)/.exec(t))) x.command ??= m[1];
    if ((m = /^argv "([^"]+)"/.exec(t)) && !m[1].includes('/')) x.command ??= m[1];
    if ((m = /^config load:file:(.+)$/.exec(t))) x.configFiles.push(m[1]);
    if ((m = /^pkgid \S+?@(https?:\/\/\S+)/.exec(t))) x.pkgidUrl ??= m[1];
    if ((m = /^fetch (GET|PUT|POST|DELETE|HEAD) (\d{3}) (\S+)/.exec(t)) && Number(m[2]) >= 400) {
      x.method = m[1];
      x.status = Number(m[2]);
      x.url = m[3];
    }
    if ((level === 'error' || level === 'verbose' || level === '') && (m = HTTP_LINE.exec(t))) {
      x.status = Number(m[1]);
      x.method = m[2];
      x.url = m[3];
      if (m[4]) x.registryError = m[4].trim();
    }
    if (/Unable to authenticate, need: (.*)/i.test(t)) {
      x.authChallenge = /need: (.*)/i.exec(t)![1].trim();
      const need = x.authChallenge.toLowerCase();
      x.authScheme = need.includes('otp') ? 'otp' : need.includes('ipaddress') ? 'ipaddress' : need.includes('bearer') ? 'bearer' : need.includes('basic') ? 'basic' : x.authScheme;
    }
    if (/your authentication token seems to be invalid/.test(t)) x.authScheme ??= 'bearer';
    if (/Incorrect or missing password/.test(t)) x.authScheme ??= 'basic';
    if (/requires a one-time password/.test(t)) x.authScheme = 'otp';
    if (/not allowed from your IP address/.test(t)) x.authScheme = 'ipaddress';
    if ((m = /^registry URI: (\S+)/.exec(t))) x.noAuthForUri = { uri: m[1], scopedKey: x.noAuthForUri?.scopedKey };
    if ((m = /^registry Scoped Registry Key: (\S+)/.exec(t))) x.noAuthForUri = { uri: x.noAuthForUri?.uri ?? '', scopedKey: m[1] };
    if (/No auth for URI, but auth present for scoped registry/.test(t)) x.noAuthForUri ??= { uri: '' };
    if ((m = /request to (\S+) failed, reason: (.*)$/.exec(t))) {
      x.url ??= m[1];
      x.networkReason = m[2].trim();
    }
    if ((m = /network timeout at: (\S+)/.exec(t))) {
      x.url ??= m[1];
      x.networkReason = 'timeout';
    }
    if ((m = /invalid json response body at (\S+)/.exec(t))) x.url ??= m[1];
    // pnpm: " ERR_PNPM_FETCH_401  GET https://…: Unauthorized - 401"
    if ((m = /(ERR_PNPM_[A-Z0-9_]+)\s+(?:(GET|PUT|POST|DELETE|HEAD) (\S+?):?\s(?:.*?- (\d{3}))?)?/.exec(t))) {
      x.code ??= m[1];
      if (m[2]) x.method = m[2];
      if (m[3]) x.url = m[3].replace(/:$/, '');
      if (m[4]) x.status = Number(m[4]);
    }
    if (/No authorization header was set for the request/.test(t)) x.pnpmNoAuthHeader = true;
    // Yarn: "➤ YN0041: …", "Response Code: 404 (Not Found)", "Request Method: GET", "Request URL: …"
    if ((m = /\b(YN\d{4})\b/.exec(t))) x.code = pickYarn(x.code, m[1]);
    if ((m = /Response Code: (\d{3})/.exec(t))) x.status = Number(m[1]);
    if ((m = /Request Method: (\w+)/.exec(t))) x.method = m[1];
    if ((m = /Request URL: (\S+)/.exec(t))) x.url = m[1];
  }
  if (!x.code) {
    const e = lines.find((l) => l.level === 'error' && /^(?:Error: )?(E[A-Z0-9_]+)\b/.test(l.text));
    if (e) x.code = /^(?:Error: )?(E[A-Z0-9_]+)/.exec(e.text)![1];
  }
  if (!x.code && /is not a legal HTTP header value/.test(all)) x.code = 'ERR_INVALID_CHAR';
  if (!x.code && /Environment variable not found/.test(all)) x.code = 'YN0000';
  if (!x.code && /Failed to replace env in config/.test(all)) x.code = 'ERR_PNPM_CONFIG';
  if (!x.code && x.status) x.code = `E${x.status}`;
  if (!x.status && x.code && /^E\d{3}$/.test(x.code)) x.status = Number(x.code.slice(1));
  if (x.code === 'EOTP') x.authScheme = 'otp';
  if (x.code === 'EAUTHIP') x.authScheme = 'ipaddress';
  const haystack = [x.registryError ?? '', ...lines.filter((l) => l.level === 'error' || l.level === '').map((l) => l.text)].join('\n');
  for (const [id, re] of reasonPatterns()) {
    if (re.test(haystack)) {
      x.reason = id;
      break;
    }
  }
  return x;
}

function pickYarn(current: string | undefined, next: string): string {
  // Authentication codes say more than the generic ones.
  const rank = (c?: string) => (c === 'YN0041' || c === 'YN0033' ? 2 : c === 'YN0035' ? 1 : 0);
  return rank(next) > rank(current) ? next : current ?? next;
}

const TLS_CHAIN = ['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'];
const TLS_CERT = ['CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_NOT_YET_VALID'];
const NETWORK = ['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'FETCH_ERROR', 'ERR_SOCKET_TIMEOUT',
  'ECONNECTIONTIMEOUT', 'EIDLETIMEOUT', 'ERESPONSETIMEOUT', 'ETRANSFERTIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_FAIL'];

function hostOf(url?: string): string {
  try {
    return url ? new URL(url).host : '<registry host>';
  } catch {
    return '<registry host>';
  }
}

/** Registries with their own credential rules (reference §7): known from the URL, else from the challenge or the logged pkgid. */
function vendorOf(x: Extracted): 'github' | 'azure' | undefined {
  const host = x.url ? hostOf(x.url) : x.pkgidUrl ? hostOf(x.pkgidUrl) : undefined;
  if (gitHubPackagesOfUrl(x.url ?? x.pkgidUrl)) return 'github';
  if (isAzureArtifactsHost(host)) return 'azure';
  if (host) return undefined;
  if (/authorization_uri=|TFS-Federated|\.visualstudio\.com/i.test(x.authChallenge ?? '')) return 'azure';
  if (/GitHub Package Registry/i.test(x.authChallenge ?? '')) return 'github';
  return undefined;
}

/** The GitHub Packages registry in the error (GHES's …/_registry/npm/ included), else github.com's. */
const GH = (x: Extracted) => gitHubPackagesOfUrl(x.url ?? x.pkgidUrl) ?? gitHubPackagesOfUrl('https://npm.pkg.github.com')!;
const GH_HOST = (x: Extracted) => GH(x).base;

const VENDOR_FIX = {
  githubNoToken: (x: Extracted) => `GitHub Packages requires a token even for public packages: add \`${GITHUB.line(GH_HOST(x))}\` to ~/.npmrc and export NODE_AUTH_TOKEN — ${GITHUB.token}. Map the scope in lowercase: \`@owner:registry=${GH(x).url}\`.`,
  githubRejected: (x: Extracted) => `GitHub Packages did not accept the token: it may be expired or revoked, or of a kind GitHub refuses — use ${GITHUB.token}. Put it in \`${GITHUB.line(GH_HOST(x))}\` (\`tessera doctor\` shows the line npm reads).`,
  azureRejected: (x: Extracted) => `Azure Artifacts refused the credential (\`WWW-Authenticate: Bearer authorization_uri=…\`): the PAT expired, was revoked or changed, or \`_password\` holds the raw PAT instead of its base64. ${azureFix(azureFeedOfUrl(x.url))}`,
};

const FIX = {
  relogin: (x: Extracted) => vendorOf(x) === 'github' ? VENDOR_FIX.githubRejected(x) : vendorOf(x) === 'azure' ? VENDOR_FIX.azureRejected(x) : `Log in again (\`npm login${x.url ? ` --registry=${origin(x.url)}` : ''}\`) or create a new token (\`npm token create\`), then update the line that holds it; \`tessera doctor\` shows which line that is.`,
  envVar: 'Export the variable your .npmrc references (e.g. `export NPM_TOKEN=…`) in the same shell or CI step; an unset ${NPM_TOKEN} is sent literally.',
  noCred: (x: Extracted) => vendorOf(x) === 'github' ? VENDOR_FIX.githubNoToken(x) : vendorOf(x) === 'azure' ? azureFix(azureFeedOfUrl(x.url)) : `Add a credential for exactly this host: \`//${hostOf(x.url)}/:_authToken=\${NPM_TOKEN}\` in ~/.npmrc (nerf-darted, lowercase host, trailing slash), or \`npm login --registry=${x.url ? origin(x.url) : '<registry>'}\`.`,
  hostMismatch: (x: Extracted) => `Your token may be keyed to another host or port: it must be \`//${hostOf(x.url ?? x.pkgidUrl)}/:_authToken=…\`. Run \`tessera doctor\` in the project to see which key npm uses.`,
  placeholder: 'Make sure the token variable holds the real secret, not XXXXX-XXXXX-XXXXX-XXXXX or an empty value (actions/setup-node ≤ v6 exports that placeholder).',
};

function origin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/`;
  } catch {
    return url;
  }
}

function c(id: FindingId, fix: string): Cause {
  return { id, fix };
}

function publish403(x: Extracted): Cause[] {
  const e = (x.registryError ?? '').toLowerCase();
  const causes: Cause[] = [];
  if (/write_package/.test(e)) {
    causes.push(c('read-only-token', `GitHub Packages refused the write (permission_denied: write_package): the token has no write:packages, or your account may not write to this package. Use ${GITHUB.token}; in GitHub Actions give GITHUB_TOKEN \`permissions: packages: write\`.`),
      c('publish-forbidden', `The package may belong to another repository or owner: publish under your own lowercase \`@owner\` scope, or grant this repository write access in the package's settings (Manage Actions access).`));
  }
  if (x.reason === 'token-read-only' || /read[- ]only/.test(e)) causes.push(c('read-only-token', 'Publish with a token that can write: `npm token create` (read-write for this package), or `npm login`; read-only tokens are for installs.'));
  if (x.reason === 'not-maintainer' || /do not have permission to publish|not a maintainer|not allowed to publish|not in the list of maintainers/.test(e)) {
    causes.push(c('not-maintainer', `Check the owners with \`npm owner ls ${pkgFrom(x)}\` and ask one to run \`npm owner add <you> ${pkgFrom(x)}\`, or publish under your own scope (\`@you/${pkgFrom(x).replace(/^@[^/]+\//, '')}\` with \`--access public\`).`));
  }
  if (x.reason === 'version-exists' || /cannot publish over|previously published/.test(e)) causes.push(c('publish-forbidden', 'That version exists: bump it (`npm version patch`) and publish again.'));
  if (x.reason === 'token-package-restricted' || /outside|restricted to|not allowed for this token|token.*(packages|scopes)/.test(e)) causes.push(c('publish-forbidden', 'The token is limited to other packages or scopes: create one that includes this package (`npm token create --packages …` / `--scopes …`).'));
  if (x.reason === 'otp-required' || /two-factor|2fa|one-time/.test(e)) causes.push(c('otp-required', 'Publish with `--otp=<code>` from your authenticator; in CI use trusted publishing or a granular token allowed to bypass 2FA.'));
  if (/verify your email|email.*verif/.test(e)) causes.push(c('publish-forbidden', 'Verify your account email address, then publish again.'));
  if (/too similar/.test(e)) causes.push(c('publish-forbidden', 'The name is too close to an existing package: choose another name or a scope.'));
  if (!causes.length) {
    causes.push(
      c('not-maintainer', `You may not be a maintainer: \`npm owner ls ${pkgFrom(x)}\`; publish under your own scope or ask to be added.`),
      c('read-only-token', 'The token may be read-only or limited to other packages: create a read-write token for this package.'),
      c('otp-required', 'The package or account may require 2FA for publishing: add `--otp=<code>`.'),
    );
  }
  return causes;
}

function pkgFrom(x: Extracted): string {
  if (!x.url) return '<package>';
  try {
    const p = decodeURIComponent(new URL(x.url).pathname.replace(/^\//, ''));
    const parts = p.split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[parts.length - 1] || '<package>';
  } catch {
    return '<package>';
  }
}

function isScopedUrl(x: Extracted): boolean {
  return Boolean(x.url && /\/@[^/]+(%2[fF]|\/)/.test(x.url));
}

/** Causes, most likely first, for what was extracted. */
export function rankCauses(x: Extracted): Cause[] {
  const code = x.code ?? '';
  const causes: Cause[] = [];
  const expiredNotice = x.notices.some((n) => /expired or revoked/i.test(n)) || x.reason === 'token-expired' || x.reason === 'token-revoked';
  const tarball = x.url?.endsWith('.tgz');

  if (x.client === 'pnpm' && /Failed to replace env in config|Ignored project-level (auth|request)/.test(x.lines.join('\n'))) {
    causes.push(c('pnpm-config', 'pnpm dropped a .npmrc (unset ${VAR}) or ignored project-level credentials: export the variable, or move `//host/:_authToken=${VAR}` to ~/.npmrc (`pnpm config set`).'));
  }
  if (x.client === 'yarn') {
    const t = x.lines.join('\n');
    if (/Environment variable not found/.test(t)) causes.push(c('yarn-config', 'Export the variable named in the message, or give it a default in .yarnrc.yml: `${NAME:-}`.'));
    if (code === 'YN0041' && /anonymous/.test(t)) causes.push(c('yarn-config', 'Yarn sent no credential: Yarn Berry ignores .npmrc; set npmAuthToken in .yarnrc.yml (npmScopes.<scope> or npmRegistries), and `npmAlwaysAuth: true` for unscoped packages.'));
    if (code === 'YN0041') causes.push(c('token-rejected', 'The token in .yarnrc.yml (npmAuthToken) is invalid or expired: replace it.'));
    if (code === 'YN0033') causes.push(c('yarn-config', 'No credential configured for this request: add npmAuthToken for this registry in .yarnrc.yml.'));
    if (code === 'YN0035' && (x.status === 404 || x.status === 403)) {
      causes.push(c('scope-not-mapped', 'The scoped package went to the default registry: add `npmScopes: { <scope without @>: { npmRegistryServer: "https://…/" } }` to .yarnrc.yml.'));
      causes.push(c('yarn-config', 'Check npmRegistryServer and npmAuthToken in .yarnrc.yml; Yarn does not read .npmrc.'));
    }
    if (/self.signed|certificate/.test(t)) causes.push(c('tls-untrusted-chain', 'Trust the CA with `caFilePath` in .yarnrc.yml (absolute path to a bundle that includes the public roots).'));
  }

  if (x.noAuthForUri) {
    causes.push(c('tarball-host-mismatch', `The tarball ${x.noAuthForUri.uri || 'URL'} is on another host or port than the registry${x.noAuthForUri.scopedKey ? ` (${x.noAuthForUri.scopedKey})` : ''}, so npm sent no credential: fix the registry's public URL (tarball links) or add a key for ${hostOf(x.noAuthForUri.uri || x.url)}.`));
  }

  if (code === 'EOTP' || x.authScheme === 'otp' || x.reason === 'otp-required') {
    causes.push(c('otp-required', 'Run the command again with `--otp=<code>` from your authenticator app; in CI (no prompt) use trusted publishing or a granular token with bypass-2FA.'));
  } else if (code === 'EAUTHIP' || x.authScheme === 'ipaddress' || x.reason === 'ip-not-allowed') {
    causes.push(c('token-rejected', 'The token is limited to IP ranges (CIDR) that exclude this machine: use it from an allowed network, or create a token whose `--cidr` includes this address.'));
  } else if (code === 'E401' || x.status === 401 || code === 'ERR_PNPM_FETCH_401') {
    if (vendorOf(x) === 'azure' && !expiredNotice) {
      causes.push(c('token-rejected', VENDOR_FIX.azureRejected(x)),
        c('azure-artifacts-credentials', `Check the feed's lines in ~/.npmrc: \`_password\` must be the base64 of the PAT (not the PAT itself), with a non-empty \`username\` beside it, at both …/npm/registry/ and …/npm/. \`tessera doctor\` checks them.`),
        c('no-credential-for-registry', 'Azure answers the same 401 when no credential was sent at all: add `:username`, `:_password` (the base64 of the PAT) and `:email` lines for the feed, at both …/npm/registry/ and …/npm/, to ~/.npmrc, or run `vsts-npm-auth -config .npmrc`.'),
        c('unexpanded-env-var', FIX.envVar));
    } else if (x.reason === 'auth-required' || x.pnpmNoAuthHeader || /not provided|authentication required|no credentials/i.test(x.registryError ?? '')) {
      causes.push(c('no-credential-for-registry', FIX.noCred(x)), c('token-host-mismatch', FIX.hostMismatch(x)), c('unexpanded-env-var', FIX.envVar));
    } else if (expiredNotice) {
      causes.push(c('token-rejected', `The registry says the token expired or was revoked. ${FIX.relogin(x)}`), c('unexpanded-env-var', FIX.envVar));
    } else if (x.authScheme === 'basic') {
      if (tarball && !x.noAuthForUri) causes.push(c('tarball-host-mismatch', `npm sent no credential for the tarball on ${hostOf(x.url)}: add a key for that host, or fix the registry's tarball URLs.`));
      causes.push(c('no-credential-for-registry', FIX.noCred(x)), c('token-host-mismatch', FIX.hostMismatch(x)), c('token-rejected', FIX.relogin(x)));
    } else {
      causes.push(c('token-rejected', `The token was sent but not accepted (invalid, expired or revoked). ${FIX.relogin(x)}`),
        c('unexpanded-env-var', FIX.envVar), c('token-host-mismatch', FIX.hostMismatch(x)), c('placeholder-token', FIX.placeholder));
    }
  } else if (code === 'E403' || x.status === 403 || code === 'ERR_PNPM_FETCH_403') {
    if (x.method === 'PUT' || x.method === 'DELETE' || x.command === 'publish') {
      causes.push(...publish403(x));
    } else {
      if (vendorOf(x) === 'github' && /read_package/.test(x.registryError ?? '')) {
        causes.push(c('token-rejected', 'The GitHub token lacks read:packages or access to this package: use a classic PAT with read:packages (SSO-authorized) or grant the repository access to the package.'));
      }
      causes.push(
        c('no-credential-for-registry', `This is an install (GET), not a publish: the account or token behind this request has no read access to ${pkgFrom(x)} on ${hostOf(x.url)}, or no credential was sent. Check \`npm whoami --registry=${x.url ? origin(x.url) : '<registry>'}\` and the package's access.`),
        c('scope-not-mapped', 'If the package is scoped, check that `@scope:registry` points at the registry that hosts it; otherwise the request goes to the default registry.'),
        c('proxy-misconfigured', 'A corporate proxy or firewall may block this package or URL (a security policy): check with your network team, or the proxy/registry settings in `npm config list`.'),
        c('token-host-mismatch', FIX.hostMismatch(x)),
      );
    }
  } else if (code === 'E404' || x.status === 404 || code === 'ERR_PNPM_FETCH_404') {
    if (x.method === 'PUT') {
      causes.push(c('token-rejected', `A 404 on PUT is almost always an authentication problem, not a missing package: the token was not accepted (revoked, expired, no write access). ${FIX.relogin(x)}`));
      if (/oidc|id-token|trusted/i.test(x.lines.join('\n')) || process.env.CI) causes.push(c('trusted-publishing-failed', 'If you publish with trusted publishing: use npm ≥ 11.5.1, grant `id-token: write`, configure the trusted publisher for this package, and remove placeholder tokens.'));
      causes.push(c('no-credential-for-registry', FIX.noCred(x)));
    } else {
      if (isScopedUrl(x) || /^@/.test(pkgFrom(x))) causes.push(c('scope-not-mapped', `Map the scope to the registry that hosts it: \`${pkgFrom(x).split('/')[0]}:registry=https://<your registry>/\` in the project .npmrc.`));
      causes.push(c('no-credential-for-registry', `The package may be private: private packages answer 404 to callers without access. ${FIX.noCred(x)}`));
      if (tarball) causes.push(c('lockfile-registry-mismatch', 'The tarball URL may come from package-lock.json `resolved` fields pointing at another registry: regenerate the lockfile, or set replace-registry-host.'));
    }
  } else if (code === 'ENEEDAUTH') {
    causes.push(c('no-credential-for-registry', 'npm found no credential at the exact registry key (publish/whoami do not walk up paths): `npm login --registry=<registry>` or add `//host/path/:_authToken=${NPM_TOKEN}`.'),
      c('registry-missing-trailing-slash', 'If your registry URL has a path, end it with `/`: without it npm looks for the credential one level up.'),
      c('trusted-publishing-failed', 'In CI with trusted publishing: npm ≥ 11.5.1, `permissions: id-token: write`, and a trusted publisher configured for the package.'));
  } else if (code === 'E422' && x.method === 'PUT') {
    causes.push(c('trusted-publishing-failed', 'The provenance check failed: set package.json `repository.url` to the exact repository the workflow runs in.'));
  } else if (code === 'E407') {
    causes.push(c('proxy-misconfigured', 'The proxy wants credentials: `npm config set https-proxy http://user:password@proxy:port` (percent-encode special characters).'));
  } else if (code === 'ERR_INVALID_AUTH') {
    causes.push(c('unscoped-credential', 'Run `npm config fix`, or rewrite `_authToken=`/`_auth=` as `//<registry host>/:_authToken=`.'));
  } else if (code === 'ERR_INVALID_URL') {
    causes.push(c('url-missing-scheme', 'Add https:// to `registry` or the `@scope:registry` value (`npm config get registry`).'));
  } else if (code === 'EINVALIDPROXY') {
    causes.push(c('url-missing-scheme', 'Give the proxy URL a scheme: `https-proxy=http://proxy.example.com:3128`.'), c('proxy-misconfigured', 'Check `proxy`/`https-proxy` and HTTPS_PROXY.'));
  } else if (code === 'ERR_INVALID_CHAR') {
    causes.push(c('token-has-whitespace', 'The token carries a newline or space: re-export it without one (`echo -n`, or strip `\\r` from a Windows-edited secret).'));
  } else if (TLS_CHAIN.includes(code) || /self.signed certificate in certificate chain|unable to get local issuer|unable to verify the first certificate/.test(x.networkReason ?? '')) {
    causes.push(c('tls-untrusted-chain', 'A TLS-inspecting proxy or a private CA signs this certificate: set `cafile=/absolute/path/bundle.pem` containing that root AND the public roots (not strict-ssl=false).'),
      c('cafile-problem', 'If cafile is already set: it replaces the system roots, so the bundle must contain every root you need; NODE_EXTRA_CA_CERTS is ignored when cafile is set.'));
  } else if (TLS_CERT.includes(code) || /certificate has expired|does not match certificate|self.signed certificate$/.test(x.networkReason ?? '')) {
    causes.push(c('tls-bad-certificate', code === 'CERT_HAS_EXPIRED' ? 'The server certificate has expired (or this machine\'s clock is wrong): renew it on the registry, check `date`.'
      : code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? 'Use the host name the certificate was issued for, not an IP or alias.'
        : 'The registry uses a self-signed certificate: install a CA-signed one, or trust it with cafile=<absolute path>.'));
  } else if (NETWORK.includes(code) || /^E5\d\d$/.test(code) || (x.status !== undefined && x.status >= 500)) {
    const viaProxy = code === 'ECONNREFUSED' && x.networkReason && x.url && !x.networkReason.includes(hostOf(x.url).split(':')[0]);
    if (viaProxy) causes.push(c('proxy-misconfigured', `npm could not reach the proxy (${x.networkReason}): check https-proxy/proxy and HTTPS_PROXY.`));
    causes.push(c('network-unreachable', code === 'ENOTFOUND' || code === 'EAI_AGAIN'
      ? `DNS cannot resolve ${hostOf(x.url)}: check VPN/DNS, the spelling of the registry, and lockfile hosts. This is not a token problem.`
      : /^E5|^5/.test(code) || (x.status ?? 0) >= 500 ? `${hostOf(x.url)} answered ${x.status ?? code}: the registry or a proxy in front of it is failing; retry later. Do not rotate tokens.`
        : `The connection to ${hostOf(x.url)} failed (${x.networkReason ?? code}): check VPN, firewall, proxy settings and the registry's health. This is not a token problem.`));
    if (code === 'ENOTFOUND') causes.push(c('lockfile-registry-mismatch', 'If the host is an old registry, it comes from package-lock.json `resolved` URLs: regenerate the lockfile.'));
    if (!viaProxy) causes.push(c('proxy-misconfigured', 'Behind a proxy? Set https-proxy (npm reads HTTPS_PROXY, never HTTP_PROXY, for https registries).'));
  }
  // A Tessera refusal recognised by its wording says exactly what happened: its own cause comes first.
  const own = reasonCause(x);
  return dedupeCauses(own ? [own, ...causes] : causes);
}

function reasonCause(x: Extracted): Cause | undefined {
  const id = findingForReason(x.reason);
  if (!id) return undefined;
  const pkg = x.url && !/\/-\//.test(x.url) ? pkgFrom(x) : undefined;
  const fix = reasonFix({
    reason: x.reason, registry: x.url ? origin(x.url) : '<registry>',
    where: 'the line that holds it (`tessera doctor` names it)', place: 'the line or variable npm reads it from (`tessera doctor` names it)',
    pkg: pkg && !pkg.startsWith('<') ? pkg : undefined, detail: x.registryError, command: x.command ? `npm ${x.command}` : undefined,
  });
  return { id, fix };
}

function dedupeCauses(list: Cause[]): Cause[] {
  const seen = new Set<string>();
  return list.filter((x) => {
    if (seen.has(x.id)) return false;
    seen.add(x.id);
    return true;
  });
}

export function explainText(text: string): { extracted: Extracted; explanation: Explanation } {
  const x = extract(text);
  const out: Explanation = { code: x.code ?? 'UNKNOWN', causes: rankCauses(x) };
  if (x.method) out.method = x.method;
  if (x.url) out.url = x.url;
  if (x.status) out.status = x.status;
  return { extracted: x, explanation: out };
}

/** What the live configuration says about the failing request: which credential npm sent, from which line. */
export function joinConfig(x: Extracted, ex: Explanation, cfg: NpmConfig): string[] {
  if (!x.url || !/^https?:/.test(x.url)) return [];
  const notes: string[] = [];
  const pkg = pkgFrom(x);
  const cred = credentialForRequest(cfg, x.url, pkg.startsWith('<') ? undefined : pkg);
  const at = (o?: { file: string; line: number }) => (o ? (o.line ? `${o.file} line ${o.line}` : o.file) : 'npm defaults');
  const verb = x.method ?? 'request';
  // Only an authentication failure can be caused by the credential itself; a 403 means it was accepted.
  const authFailure = ex.status === 401 || ex.status === 404 || ['E401', 'E404', 'ENEEDAUTH', 'ERR_INVALID_CHAR'].includes(ex.code) ||
    (ex.status === 403 && x.method !== 'PUT');
  if (!authFailure) {
    notes.push(cred.kind === 'none'
      ? `The ${verb} went to ${x.url}; your configuration here sends no credential to ${hostOf(x.url)}.`
      : `The ${verb} went to ${x.url}, and your ${cred.kind} for it (${redact(cred.value ?? '')}) comes from ${at(cred.origin)} (key ${cred.key}).`);
    return notes;
  }
  if (cred.kind === 'none') {
    notes.push(`The ${verb} went to ${x.url}, and your configuration here sends no credential to ${hostOf(x.url)}.`);
    promote(ex, 'no-credential-for-registry', vendorOf(x) ? FIX.noCred(x) : `Add \`//${hostOf(x.url)}/:_authToken=\${NPM_TOKEN}\` to ~/.npmrc and export NPM_TOKEN, or \`npm login --registry=${origin(x.url)}\`.`);
    return notes;
  }
  notes.push(`The ${verb} went to ${x.url}, and your ${cred.kind} for it (${redact(cred.value ?? '')}) comes from ${at(cred.origin)} (key ${cred.key}).`);
  const v = cred.value ?? '';
  if (/\$\{[^}]+\}/.test(v)) {
    promote(ex, 'unexpanded-env-var', `${at(cred.origin)} holds the literal ${/\$\{[^}]+\}/.exec(v)![0]}: the variable is not set in this shell. Export it before running npm.`);
  } else if (/[\s\x00-\x1f]/.test(v)) {
    promote(ex, 'token-has-whitespace', `The credential from ${at(cred.origin)} contains whitespace or a newline: re-export it without one.`);
  } else if ((isTesseraToken(v) && !tokenChecksumValid(v)) || (v.startsWith('npm_') && npmTokenCheck(v) === 'bad-length')) {
    promote(ex, 'token-checksum-invalid', `The token from ${at(cred.origin)} is truncated or mistyped (its checksum fails): paste the whole token again.`);
  } else if (/^(XXXXX-XXXXX-XXXXX-XXXXX|undefined|null)$/.test(v)) {
    promote(ex, 'placeholder-token', `${at(cred.origin)} holds the placeholder ${v}: set the real token.`);
  } else if (cred.kind === 'username-password' && vendorOf(x) === 'azure' && passwordNotBase64(v)) {
    promote(ex, 'azure-artifacts-credentials', `The _password at ${at(cred.origin)} ${passwordNotBase64(v)}: npm decodes it and sends garbage. ${azureFix(azureFeedOfUrl(x.url))}`);
  }
  if (x.method === 'PUT') {
    const reg = String(cfg.get('registry'));
    const exact = credentialForRegistry(cfg, reg);
    if (exact.kind === 'none') notes.push(`npm publish/whoami look for a credential at exactly ${exact.regKey} and find none.`);
  }
  return notes;
}

function promote(ex: Explanation, id: FindingId, fix: string): void {
  ex.causes = [{ id, fix }, ...ex.causes.filter((c) => c.id !== id)];
}
