// The clues in what was extracted: short names the weights table (weights.ts) turns into causes.
import { createRequire } from 'node:module';
import { gitHubPackagesOfUrl, isAzureArtifactsHost, isGitHubPackagesHost } from '../rules/vendors.ts';
import { hostOf, isScoped, isTarball, pkgFrom } from './extracted.ts';
import type { Extracted } from './extracted.ts';

let publicHost: string | undefined;
/** The public registry's host, read from npm's own defaults (never written in our code). */
export function defaultRegistryHost(): string {
  if (publicHost === undefined) {
    try {
      const defs = createRequire(import.meta.url)('@npmcli/config/lib/definitions') as {
        definitions: { registry: { default: string } };
      };
      publicHost = new URL(defs.definitions.registry.default).host;
    } catch {
      publicHost = '';
    }
  }
  return publicHost;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
function hostname(hostPort: string): string {
  return hostPort.replace(/:\d+$/, '').toLowerCase();
}
/** Two hosts name the same machine: `localhost` and `127.0.0.1` are one (npm reports the address). */
export function sameMachine(a: string, b: string): boolean {
  const x = hostname(a);
  const y = hostname(b);
  return x === y || (LOOPBACK.has(x) && LOOPBACK.has(y));
}

export type Vendor = 'github' | 'azure' | 'codeartifact' | 'artifactory' | 'nexus' | 'public' | 'loopback' | 'other';

export function vendorOfHost(host: string | undefined, challenge = ''): Vendor | undefined {
  if (!host || host.startsWith('<')) {
    if (/authorization_uri=|TFS-Federated|visualstudio\.com/i.test(challenge)) return 'azure';
    if (/GitHub Package Registry/i.test(challenge)) return 'github';
    if (/Artifactory/i.test(challenge)) return 'artifactory';
    if (/Sonatype Nexus/i.test(challenge)) return 'nexus';
    return undefined;
  }
  const h = hostname(host);
  if (isGitHubPackagesHost(h)) return 'github';
  if (isAzureArtifactsHost(h)) return 'azure';
  if (/\.codeartifact\.[a-z0-9-]+\.amazonaws\.com$/.test(h)) return 'codeartifact';
  if (LOOPBACK.has(h)) return 'loopback';
  if (/jfrog|artifactory/.test(h)) return 'artifactory';
  if (/nexus/.test(h)) return 'nexus';
  // Last: reading npm's defaults costs a few tens of milliseconds. (Yarn's own mirror of the public registry
  // is not named here: the project names no public registry host; it counts as 'other'.)
  if (h === defaultRegistryHost()) return 'public';
  return 'other';
}

export function vendorOf(x: Extracted): Vendor | undefined {
  const url = x.url ?? x.pkgidUrl;
  if (gitHubPackagesOfUrl(url)) return 'github';
  let v = vendorOfHost(url ? hostOf(url) : undefined, x.authChallenge ?? '');
  const challenge = x.authChallenge ?? '';
  if (v === 'other' && /Artifactory|Sonatype Nexus/i.test(challenge)) v = vendorOfHost(undefined, challenge);
  return v;
}

const txt = (x: Extracted) => x.lines.join('\n');
/** Ports proxies listen on: a refused connection there, with no registry URL in sight, is the proxy. */
const PROXY_PORTS = ['3128', '3129', '8000', '8080', '8888', '9090'];

/** Every clue present in `x`. */
export function evidenceOf(x: Extracted): Set<string> {
  const e = new Set<string>();
  const all = txt(x);
  const err = `${x.registryError ?? ''}\n${all}`;
  const add = (clue: string, when: unknown) => {
    if (when) e.add(clue);
  };
  const code = x.code ?? '';
  const s = x.status ?? (/^E(\d{3})$/.exec(code) ? Number(code.slice(1)) : undefined);
  const put =
    x.method === 'PUT' ||
    x.method === 'DELETE' ||
    x.command === 'publish' ||
    /^(ENEEDAUTH|EOTP)$/.test(code) ||
    /Publishing to |publish Failed PUT|npm publish|yarn npm publish|\bnpm ERR! publish\b/.test(all);
  const v = vendorOf(x);
  e.add(`client:${x.client}`);
  if (code) e.add(`code:${code}`);
  if (s) e.add(`s${s}`);
  if (s && s >= 500) e.add('s5xx');
  if (s) e.add(`${put ? 'put' : 'get'}${s}`);
  if (put) e.add('publish');
  if (v) e.add(`vendor:${v}`);
  const tarball = isTarball(x);
  add('tarball', tarball);
  add('scoped', isScoped(x));
  add('url', x.url);
  const host = (x.url ?? x.pkgidUrl) ? hostOf(x.url ?? x.pkgidUrl) : undefined;
  // The tarball's host is a company's registry nobody configured here: a lockfile written elsewhere.
  const foreignHost =
    host &&
    ['artifactory', 'codeartifact', 'nexus', 'other'].includes(v ?? '') &&
    !x.configuredRegistries.some((r) => sameMachine(hostOf(r), host));
  add('foreign-tarball', tarball && foreignHost);
  add('lockfile-skip', /Lockfile is up to date, resolution step is skipped/.test(all));
  add('registry-flag', /--registry[= ]\S+/.test(x.commandLine ?? all));
  const gh = gitHubPackagesOfUrl(x.url);
  // …/OWNER/@scope%2fname: an owner before the package (a bare …/name is the package of a PUT, not an owner).
  const ownerInUrl = gh?.owner && x.url && new URL(x.url).pathname.split('/').filter(Boolean).length >= 2;
  add('gh-owner-in-url', ownerInUrl || x.configuredRegistries.some((r) => gitHubPackagesOfUrl(r)?.owner));
  add('gh-unscoped-put', v === 'github' && put && !pkgFrom(x).startsWith('@') && !pkgFrom(x).startsWith('<'));
  add('gh-read-package', /read_package/.test(err));
  add('gh-write-package', /write_package/.test(err));
  add('gh-installation-write', /installation not allowed to Write/i.test(err));
  add(
    'no-auth-sent',
    x.reason === 'auth-required' ||
      x.pnpmNoAuthHeader === true ||
      x.authScheme === 'basic' ||
      /authentication token not provided|authentication required|no credentials|must be logged in|Login first|as an anonymous user|No authorization settings were found/i.test(
        err,
      ),
  );
  add(
    'auth-sent',
    x.pnpmNoAuthHeader === false ||
      x.authScheme === 'bearer' ||
      /cannot be authenticated with the token|as an unknown user|Bad credentials|token seems to be invalid/i.test(err),
  );
  add('gh-unauthenticated', v === 'github' && /unauthenticated/.test(err));
  add('must-log-in', /must be logged in|Login first/i.test(err));
  // npm attaches the expired-or-revoked notice to every 404 of the public registry: evidence only on a 401 or a write.
  add('notice-expired', x.notices.some((n) => /expired or revoked/i.test(n)) && (s === 401 || put));
  add('notice-invalidated', /all user tokens have been invalidated/i.test(all));
  add(
    'quarantine',
    /quarantin|curation|download blocking policy|blocked by (?:a |the )?(?:policy|firewall)/i.test(err) ||
      /Xray|firewall|malicious/i.test(err),
  );
  add(
    'not-owner',
    /do not have permission to publish|not a maintainer/i.test(err) ||
      /not in the list of maintainers|not allowed to publish/i.test(err),
  );
  add('no-upload-permission', /no permission to upload|with these credentials/i.test(err));
  // A granular token that does not list the package (or its scope): the registry's words, on a write.
  add(
    'token-lacks-package',
    put &&
      /token (?:does not|doesn't) have (?:access|permission)|not (?:allowed|permitted) for this token|token is limited to/i.test(
        err,
      ),
  );
  add('version-exists', /cannot publish over|previously published/i.test(err));
  // pnpm 11 and Yarn 4 word the OTP challenge as "requires additional authentication" (Yarn under YN0033).
  const moreAuth = /requires additional authentication/.test(all);
  add('otp', code === 'EOTP' || x.authScheme === 'otp' || /one-time password/.test(all) || moreAuth);
  // The public registry's words for a publish without 2FA (or a token that may not bypass it).
  add('tfa-for-publish', put && /Two-factor authentication or granular access token with bypass 2fa/i.test(err));
  add('env-unset', /Failed to replace env in config|Environment variable not found/.test(all));
  // setup-node's placeholder in the paste (the step's `env:` listing, an echoed .npmrc): the token sent was it.
  add('placeholder-in-paste', /\bXXXXX-XXXXX-XXXXX-XXXXX\b/.test(all));
  add(
    'env-in-command',
    /\$\{?[A-Z_]*(TOKEN|AUTH|PASSWORD)\}?/.test(x.commandLine ?? all) && !/Failed to replace env/.test(all),
  );
  add('unscoped-auth', code === 'ERR_INVALID_AUTH' || /must be scoped to a registry/.test(all));
  add(
    'tls-chain',
    /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE|self.signed certificate in certificate chain|unable to get local issuer certificate|unable to verify the first certificate/i.test(
      `${code}\n${all}`,
    ),
  );
  add(
    'tls-cert',
    /CERT_HAS_EXPIRED|ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|certificate has expired|does not match certificate|self.signed certificate$/m.test(
      `${code}\n${x.networkReason ?? ''}`,
    ),
  );
  add('dns', /^(ENOTFOUND|EAI_AGAIN|EAI_FAIL)$/.test(code) || /getaddrinfo (ENOTFOUND|EAI_AGAIN)/.test(all));
  add(
    'network',
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|FETCH_ERROR|ERR_SOCKET_TIMEOUT|ECONNECTIONTIMEOUT|EIDLETIMEOUT|ERESPONSETIMEOUT|ETRANSFERTIMEOUT|EHOSTUNREACH|ENETUNREACH)$/.test(
      code,
    ) ||
      // bun names the socket's failure in its own words.
      /^(FailedToOpenSocket|ConnectionRefused|ConnectionClosed|ConnectionTimeout|Timeout)$/.test(code) ||
      // pnpm and Yarn name the socket's failure only in the message (`fetch failed`, `YN0001: │ Error [ERR_SOCKET_…]`).
      (!s &&
        /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ERR_SOCKET_TIMEOUT|ERR_SOCKET_CLOSED_BEFORE_CONNECTION|EHOSTUNREACH|ENETUNREACH|UND_ERR_CONNECT_TIMEOUT)\b|: fetch failed$|network timeout at/m.test(
          all,
        )),
  );
  // A web page where JSON was expected (a sign-in page, a web UI address): the registry answered, with HTML.
  add(
    'html-page',
    /invalid json response body at \S+ reason: Unexpected token '?<|Unexpected token < in JSON/.test(all),
  );
  const refused = /ECONNREFUSED (\[?[\w.:-]+?\]?):(\d+)/.exec(x.networkReason ?? all);
  if (code === 'ECONNREFUSED' && refused) {
    // The address npm could not reach is the registry's own (`localhost` is 127.0.0.1): the registry is down.
    if (host && sameMachine(`${refused[1]}`, host)) e.add('refused-registry');
    else if (host) e.add('refused-other');
    else e.add(PROXY_PORTS.includes(refused[2]) ? 'refused-proxy-port' : 'refused-other');
  }
  // The bytes differ from the integrity the lockfile recorded; the version is not on the registry asked.
  add(
    'integrity',
    /^(EINTEGRITY|ERR_PNPM_TARBALL_INTEGRITY|YN0018)$/.test(code) ||
      /integrity checksum failed|Got unexpected checksum|doesn't match the expected checksum|Integrity check failed for/.test(
        all,
      ),
  );
  add(
    'no-version',
    /^(ETARGET|ERR_PNPM_NO_MATCHING_VERSION|YN0082)$/.test(code) ||
      /No matching version found for|: No candidates found/.test(all),
  );
  add('s429', s === 429);
  add('proxy-407', s === 407 || code === 'E407' || /Proxy Authentication Required/.test(all));
  add('no-auth-for-uri', x.noAuthForUri);
  add(
    'pnpm-dropped',
    x.client === 'pnpm' && s && /Failed to replace env in config|Ignored project-level (auth|request)/.test(all),
  );
  add(
    'ci',
    /\/home\/runner\/|Error: Process completed with exit code|##\[/.test(all) ||
      /GITHUB_|NODE_AUTH_TOKEN|setup-node|semantic-release/.test(all),
  );
  add('trusted-publishing', /oidc|id-token|trusted publish/i.test(all));
  // npm 11.5+ says in its debug log why trusted publishing was not used before it falls back to a token.
  add('oidc-no-id-token', /^oidc Skipped because (?:incorrect permissions for id-token|no id_token)/m.test(all));
  add('oidc-exchange-failed', /^oidc Failed (?:token exchange|to fetch id_token|because token exchange)/m.test(all));
  add('old-npm', x.errBang || (x.npmVersion && Number(x.npmVersion.split('.')[0]) < 11));
  add('cli-invalid-url', code === 'ERR_INVALID_URL');
  add('invalid-proxy', code === 'EINVALIDPROXY');
  add('header-char', code === 'ERR_INVALID_CHAR');
  add('provenance', code === 'E422' && put);
  add('eauthip', code === 'EAUTHIP' || x.authScheme === 'ipaddress');
  add('yarn-anonymous', /as an anonymous user/.test(all));
  add('yarn-unknown-user', /as an unknown user/.test(all));
  add('yarn-no-auth-configured', code === 'YN0033' && !moreAuth);
  add('verdaccio-port', host && /:4873$/.test(host));
  return e;
}
