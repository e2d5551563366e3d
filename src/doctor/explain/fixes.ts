// The fix for each cause, naming the command or line to change for the client that failed.
import type { FindingId } from '../../domain/findings.ts';
import { GITHUB, azureFeedOfUrl, azureFix, gitHubPackagesOfUrl } from '../rules/vendors.ts';
import { hostOf, isScoped, origin, pkgFrom } from './extracted.ts';
import type { Extracted } from './extracted.ts';
import { vendorOf } from './evidence.ts';

const GH = (x: Extracted) =>
  gitHubPackagesOfUrl(x.url ?? x.pkgidUrl) ?? gitHubPackagesOfUrl('https://npm.pkg.github.com')!;
const reg = (x: Extracted) => (x.url ? origin(x.url) : '<registry>');
const host = (x: Extracted) => hostOf(x.url ?? x.pkgidUrl);
const scope = (x: Extracted) => /^(@[^/]+)\//.exec(pkgFrom(x))?.[1] ?? '@<scope>';
/** The variable the paste names (`${NPM_TOKEN}`), else NPM_TOKEN. */
const envName = (x: Extracted) => /\$\{?([A-Z][A-Z0-9_]*)\}?/.exec(x.lines.join('\n'))?.[1] ?? 'NPM_TOKEN';
const integrityFailed = (x: Extracted) =>
  /^(EINTEGRITY|ERR_PNPM_TARBALL_INTEGRITY|YN0018)$/.test(x.code ?? '') ||
  /integrity checksum failed|Got unexpected checksum/.test(x.lines.join('\n'));
const lockfile = (x: Extracted) =>
  ({ npm: 'package-lock.json', pnpm: 'pnpm-lock.yaml', yarn1: 'yarn.lock', berry: 'yarn.lock', bun: 'bun.lock' })[
    x.client
  ];
const install = (x: Extracted) =>
  ({ npm: 'npm install', pnpm: 'pnpm install', yarn1: 'yarn install', berry: 'yarn install', bun: 'bun install' })[
    x.client
  ];

/** The credential line for the failing host, in the file the client reads. */
function credentialLine(x: Extracted): string {
  if (x.client === 'berry') {
    return (
      `in .yarnrc.yml (Yarn Berry ignores .npmrc): \`npmRegistries: { "//${host(x)}": { npmAuthToken: "\${${envName(x)}}" } }\`` +
      (isScoped(x)
        ? ` or \`npmScopes: { ${scope(x).slice(1)}: { npmRegistryServer: "${reg(x)}", npmAuthToken: "\${${envName(x)}}" } }\``
        : '') +
      ', or run `yarn npm login' +
      (isScoped(x) ? ` --scope ${scope(x).slice(1)}` : '') +
      '`'
    );
  }
  const line = `\`//${host(x)}/:_authToken=\${${envName(x)}}\``;
  if (x.client === 'pnpm') return `${line} in ~/.npmrc (\`pnpm config set //${host(x)}/:_authToken "$${envName(x)}"\`)`;
  if (x.client === 'yarn1')
    return `${line} and \`always-auth=true\` in ~/.npmrc (Yarn 1 sends no credential to tarballs without it)`;
  // bun reads .npmrc (1.1.18 and later) but matches a key's path exactly, or its own bunfig.toml.
  if (x.client === 'bun')
    return `${line} in .npmrc (its path exactly the registry's), or in bunfig.toml: \`[install.scopes]\` \`"${isScoped(x) ? scope(x) : '@<scope>'}" = { url = "${reg(x)}", token = "$${envName(x)}" }\``;
  return `${line} in ~/.npmrc, or \`npm login --registry=${reg(x)}\``;
}

function relogin(x: Extracted): string {
  const v = vendorOf(x);
  if (v === 'github') {
    return `GitHub Packages did not accept the token: it may be expired or revoked, or of a kind GitHub refuses — use ${GITHUB.token}. Put it in \`${GITHUB.line(GH(x).base)}\` (\`tessera doctor\` shows the line npm reads).`;
  }
  if (v === 'azure') {
    return `Azure Artifacts refused the credential (\`WWW-Authenticate: Bearer authorization_uri=…\`): the PAT expired, was revoked or changed, or \`_password\` holds the raw PAT instead of its base64. ${azureFix(azureFeedOfUrl(x.url))}`;
  }
  if (v === 'codeartifact')
    return `CodeArtifact tokens last 12 hours: \`aws codeartifact login --tool npm --domain <domain> --domain-owner <account> --repository <repo>\`, then run \`${install(x)}\` again.`;
  if (x.client === 'berry')
    return 'Replace `npmAuthToken` in .yarnrc.yml for this registry (`yarn npm login`); an expired or revoked token is refused the same way as a wrong one.';
  const login = x.client === 'pnpm' ? 'pnpm login' : 'npm login';
  return `Log in again (\`${login}${x.url ? ` --registry=${reg(x)}` : ''}\`) or create a new token (\`npm token create\`), then update the line that holds it; \`tessera doctor\` shows which line that is.`;
}

function noCredential(x: Extracted): string {
  const v = vendorOf(x);
  if (v === 'github') {
    const where =
      x.client === 'berry'
        ? `\`npmScopes: { ${scope(x).replace(/^@/, '').replace('<scope>', 'owner')}: { npmRegistryServer: "${GH(x).url}", npmAuthToken: "\${NODE_AUTH_TOKEN}" } }\` in .yarnrc.yml`
        : `\`${GITHUB.line(GH(x).base)}\` to ~/.npmrc`;
    return `GitHub Packages requires a token even for public packages: add ${where} and export NODE_AUTH_TOKEN — ${GITHUB.token}. Map the scope in lowercase: \`@owner:registry=${GH(x).url}\`.`;
  }
  if (v === 'azure') return azureFix(azureFeedOfUrl(x.url));
  if (x.code === 'ENEEDAUTH')
    return `npm found no credential at the exact registry key (publish/whoami do not walk up paths): \`npm login --registry=${reg(x)}\`, or add \`//${host(x)}/:_authToken=\${NPM_TOKEN}\` and export NPM_TOKEN in the same CI step (setup-node writes the line only with \`registry-url\`).`;
  return `No credential reached ${host(x)}: add ${credentialLine(x)}.`;
}

const FIXES: { [K in FindingId]?: (x: Extracted) => string } = {
  'token-rejected': (x) =>
    x.code === 'EAUTHIP' || x.authScheme === 'ipaddress'
      ? 'The token is limited to IP ranges (CIDR) that exclude this machine: use it from an allowed network, or create a token whose `--cidr` includes this address.'
      : /read_package/.test(`${x.registryError}${x.lines.join('\n')}`)
        ? 'The GitHub token lacks read:packages or access to this package: use a classic PAT with read:packages (SSO-authorized), or, in Actions, grant this repository access in the package settings (Manage Actions access).'
        : `The token was sent but not accepted (invalid, expired or revoked). ${relogin(x)}`,
  'no-credential-for-registry': noCredential,
  'unexpanded-env-var': (x) =>
    x.client === 'pnpm'
      ? `Export ${envName(x)} in the shell or CI step that runs pnpm (pnpm does not read .env files; an unset \${${envName(x)}} makes it drop the .npmrc line).`
      : `Export the variable your .npmrc references (\`export ${envName(x)}=…\`) in the same shell or CI step; an unset \${${envName(x)}} is sent literally (or, in npm 6 and Yarn 1, stops every command).`,
  'token-host-mismatch': (x) =>
    `Your token may be keyed to another host or port: it must be \`//${host(x)}/:_authToken=…\`. Run \`tessera doctor\` in the project to see which key npm uses.`,
  'placeholder-token': (x) =>
    (!vendorOf(x) || vendorOf(x) === 'other') &&
    !/runner|Actions|setup-node|XXXXX-XXXXX-XXXXX-XXXXX/.test(x.lines.join('\n'))
      ? 'Make sure the token variable holds the real secret, not XXXXX-XXXXX-XXXXX-XXXXX or an empty value (actions/setup-node leaves that placeholder when its step has no token).'
      : `actions/setup-node writes \`//${host(x)}/:_authToken=\${NODE_AUTH_TOKEN}\` and leaves the placeholder XXXXX-XXXXX-XXXXX-XXXXX when the step has no token: add \`env: NODE_AUTH_TOKEN: \${{ secrets.${vendorOf(x) === 'github' ? 'GITHUB_TOKEN' : 'NPM_TOKEN'} }}\` to the ${x.method === 'GET' ? 'step that installs' : 'publish step'}.`,
  'tarball-host-mismatch': (x) =>
    `The tarball ${x.noAuthForUri?.uri || x.url || ''} is on another host or port than the registry${x.noAuthForUri?.scopedKey ? ` (${x.noAuthForUri.scopedKey})` : ''}, so no credential was sent: fix the registry's public URL (tarball links) or add a key for ${hostOf(x.noAuthForUri?.uri || x.url)}.`,
  'lockfile-registry-mismatch': (x) =>
    integrityFailed(x)
      ? `The tarball's bytes are not the ones ${lockfile(x)} recorded: clear the cache first (${{ npm: '`npm cache verify`', pnpm: '`pnpm store prune`', yarn1: '`yarn cache clean`', berry: '`yarn cache clean`', bun: '`bun pm cache rm`' }[x.client]}); if it persists, the lockfile's integrity came from another registry or mirror, or the registry changed the tarball: check why, then \`${x.client === 'pnpm' ? 'pnpm install --update-checksums' : `rm ${lockfile(x)} && ${install(x)}`}\`.`
      : `${lockfile(x)} points at ${host(x)}, a registry this machine has no access to (its \`resolved\` URLs came from another machine): \`rm ${lockfile(x)} && ${install(x)}\` against your own registry${x.client === 'npm' ? ', or keep the lockfile and set `replace-registry-host=' + host(x) + '` in .npmrc' : ''}.`,
  'package-blocked': (x) =>
    `A policy refuses this version (${x.registryError && /quarantin|curation|Xray|firewall|block/i.test(x.registryError) ? x.registryError : 'a quarantine, curation or firewall rule, or a network block'}): ask the registry or network admins to release ${pkgFrom(x)} or allow this machine, or depend on a version the policy allows (\`${{ npm: 'npm install', pnpm: 'pnpm add', yarn1: 'yarn add', berry: 'yarn add', bun: 'bun add' }[x.client]} ${pkgFrom(x)}@<other version>\`). New tokens do not help.`,
  'scope-not-mapped': (x) => {
    const s = scope(x);
    if (vendorOf(x) === 'github')
      return `If ${pkgFrom(x)} is published on the public registry, remove the \`${s}:registry=https://npm.pkg.github.com\` line that sends the scope to GitHub Packages (\`npm config delete ${s}:registry\`).`;
    return x.client === 'berry'
      ? `Map the scope in .yarnrc.yml (Yarn Berry ignores .npmrc): \`npmScopes: { ${s.slice(1)}: { npmRegistryServer: "https://<your registry>/" } }\`.`
      : `Map the scope to the registry that hosts it: \`${s}:registry=https://<your registry>/\` in the project .npmrc (\`${x.client === 'pnpm' ? 'pnpm config set' : 'npm config set'} ${s}:registry https://<your registry>/ --location${x.client === 'pnpm' ? ' ' : '='}project\`).`;
  },
  'not-maintainer': (x) =>
    /write_package/.test(`${x.registryError}`)
      ? `GitHub refused the write for this account (permission_denied: write_package): ask an owner of ${pkgFrom(x)} to give you write access, or in Actions grant this repository write access in the package settings (Manage Actions access) with \`permissions: packages: write\`.`
      : `Check the owners with \`npm owner ls ${pkgFrom(x)}\` and ask one to run \`npm owner add <you> ${pkgFrom(x)}\`, or publish under your own scope (\`@you/${pkgFrom(x).replace(/^@[^/]+\//, '')}\` with \`--access public\`).`,
  'read-only-token': (x) =>
    vendorOf(x) === 'github'
      ? `The token may not write packages: use ${GITHUB.token}; in Actions give GITHUB_TOKEN \`permissions: packages: write\` (pull requests from forks only get a read-only token).`
      : `Publish with a token that can write: \`npm token create --registry=${reg(x)} --packages ${pkgFrom(x)} --packages-and-scopes-permission read-write\`, or \`npm login\`; read-only tokens are for installs.`,
  'otp-required': (x) =>
    /Two-factor authentication or granular access token with bypass 2fa/i.test(`${x.registryError}`)
      ? 'The registry requires two-factor authentication to publish: enable it (`npm profile enable-2fa auth-and-writes`) and publish with `--otp=<code>`; in CI use trusted publishing or a granular token with bypass-2FA for this package.'
      : 'Run the command again with `--otp=<code>` from your authenticator app; in CI (no prompt) use trusted publishing or a granular token with bypass-2FA.',
  'publish-forbidden': (x) =>
    /cannot publish over|previously published/.test(`${x.registryError}`)
      ? 'That version exists: bump it (`npm version patch`) and publish again.'
      : `The registry refuses this publish for the package itself: check the token covers ${pkgFrom(x)} (\`npm token create --packages ${pkgFrom(x)} --packages-and-scopes-permission read-write\`), and that package.json's name and \`repository\` match where you publish.`,
  'trusted-publishing-failed': (x) =>
    x.code === 'E422'
      ? 'The provenance check failed: set package.json `repository.url` to the exact repository the workflow runs in.'
      : /^oidc Skipped because incorrect permissions for id-token/m.test(x.lines.join('\n'))
        ? 'The job cannot ask GitHub for an ID token: add `permissions: id-token: write` (and `contents: read`) to the publishing job, then publish again; npm fell back to a token and found none.'
        : /^oidc Failed (?:token exchange|because token exchange)/m.test(x.lines.join('\n'))
          ? `The registry exchanged no token for this workflow: check the package's trusted publisher (\`npm trust list ${pkgFrom(x)}\`) names this repository, workflow file and environment exactly.`
          : 'Trusted publishing needs npm ≥ 11.5.1 in the job (`npm install -g npm@latest`), `permissions: id-token: write`, and a trusted publisher configured for the package.',
  'registry-missing-trailing-slash': () =>
    'If your registry URL has a path, end it with `/`: without it npm looks for the credential one level up.',
  'github-packages-config': (x) => {
    const gh = GH(x);
    const s = scope(x);
    return x.method === 'PUT' && !pkgFrom(x).startsWith('@')
      ? `GitHub Packages only hosts packages scoped to their owner: rename the package to \`@owner/${pkgFrom(x)}\` in package.json and map \`@owner:registry=${gh.url}\`.`
      : `Write the bare registry URL, without the owner: \`${s === '@<scope>' ? '@owner' : s}:registry=${gh.url}\` (pnpm sends no token to \`…/${gh.owner ?? 'OWNER'}\`, pnpm/pnpm #2933).`;
  },
  'azure-artifacts-credentials': (x) =>
    `Check the feed's lines in ~/.npmrc: \`_password\` must be the base64 of the PAT (not the PAT itself, not quoted), with a non-empty \`username\` beside it, at both …/npm/registry/ and …/npm/. ${azureFix(azureFeedOfUrl(x.url))}`,
  'malformed-credential-key': (x) =>
    `The credential's key never matches the request: write it as \`//${host(x)}/:_authToken=…\` (or \`:_auth=\`) — no \`https://\`, the registry's path, a trailing slash. \`tessera doctor\` names the key that never matches.`,
  'unscoped-credential': () =>
    'Run `npm config fix`, or rewrite `_authToken=`/`_auth=` as `//<registry host>/:_authToken=` (npm 9+ refuses unscoped credentials).',
  'url-missing-scheme': (x) =>
    x.code === 'EINVALIDPROXY'
      ? 'Give the proxy URL a scheme: `https-proxy=http://proxy.example.com:3128`.'
      : 'Add https:// to `registry` or the `@scope:registry` value (`npm config get registry`).',
  'token-has-whitespace': () =>
    'The token carries a newline or space: re-export it without one (`echo -n`, or strip `\\r` from a Windows-edited secret).',
  'proxy-misconfigured': (x) =>
    x.code === 'E407' || /Proxy Authentication/.test(x.lines.join('\n'))
      ? 'The proxy wants credentials: `npm config set https-proxy http://user:password@proxy:port` (percent-encode special characters).'
      : x.code === 'ECONNREFUSED' && x.networkReason
        ? `npm could not reach the proxy (${x.networkReason}): check \`npm config get https-proxy\`, \`npm config get proxy\` and HTTPS_PROXY, and delete the one that points there (\`npm config delete proxy\`).`
        : 'Behind a proxy? Set https-proxy (npm reads HTTPS_PROXY, never HTTP_PROXY, for https registries); a proxy that blocks this URL is a question for your network team.',
  'tls-untrusted-chain': (x) =>
    x.client === 'berry'
      ? 'A TLS-inspecting proxy or a private CA signs this certificate: set `caFilePath: /absolute/path/bundle.pem` in .yarnrc.yml (that root and the public roots), not `enableStrictSsl: false`.'
      : x.client === 'yarn1'
        ? 'A TLS-inspecting proxy or a private CA signs this certificate: `yarn config set cafile /absolute/path/bundle.pem` (that root and the public roots), not strict-ssl false.'
        : 'A TLS-inspecting proxy or a private CA signs this certificate: set `cafile=/absolute/path/bundle.pem` containing that root AND the public roots (not strict-ssl=false).',
  'cafile-problem': () =>
    'If cafile is already set: it replaces the system roots, so the bundle must contain every root you need; NODE_EXTRA_CA_CERTS is ignored when cafile is set.',
  'tls-bad-certificate': (x) =>
    x.code === 'CERT_HAS_EXPIRED'
      ? "The server certificate has expired (or this machine's clock is wrong): renew it on the registry, check `date`."
      : x.code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? 'Use the host name the certificate was issued for, not an IP or alias.'
        : 'The registry uses a self-signed certificate: install a CA-signed one, or trust it with cafile=<absolute path>.',
  'network-unreachable': (x) =>
    /^(ENOTFOUND|EAI_AGAIN)$/.test(x.code ?? '')
      ? `DNS cannot resolve ${host(x)}: check VPN/DNS, the spelling of the registry (\`npm config get registry\`), and lockfile hosts. This is not a token problem.`
      : x.status === 429
        ? `${host(x)} answered 429 Too Many Requests: it throttles this machine or credential. Wait and retry, cache the client's downloads between CI runs, or go through a registry mirror. Do not rotate tokens.`
        : (x.status ?? 0) >= 500 || /^E5/.test(x.code ?? '') || x.status === 404
          ? `${host(x)} answered ${x.status ?? x.code}: the registry or a CDN in front of it is failing; retry later. Do not rotate tokens.`
          : `Nothing answers at ${host(x)} (${x.networkReason ?? x.code}): start that registry, or point \`registry\` (\`npm config get registry\`) and the lockfile at one that runs. This is not a token or proxy problem.`,
  'registry-not-npm': (x) =>
    `${host(x)} answered with an HTML page, not the npm API: set the registry URL to its npm endpoint (Artifactory \`…/artifactory/api/npm/REPO/\`, Nexus \`…/repository/REPO/\`), or sign in to the network (VPN, portal) that shows this page. This is not a token problem.`,
  'pnpm-config': () =>
    'pnpm dropped a .npmrc (unset ${VAR}) or ignored project-level credentials: export the variable, or move `//host/:_authToken=${VAR}` to ~/.npmrc (`pnpm config set`).',
  'yarn-config': (x) =>
    /Environment variable not found/.test(x.lines.join('\n'))
      ? 'Export the variable named in the message, or give it a default in .yarnrc.yml: `${NAME:-}`.'
      : `Yarn Berry reads only .yarnrc.yml: put the token where this request looks — ${credentialLine({ ...x, client: 'berry' })} — and set \`npmAlwaysAuth: true\` for registries that need a token on every request.`,
};

export function fixFor(id: FindingId, x: Extracted): string {
  return (
    FIXES[id]?.(x) ?? 'Run `tessera doctor` in the project folder: it checks the configuration this cause comes from.'
  );
}
