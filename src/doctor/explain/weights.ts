// The ranking as data: each row says how much one clue (evidence.ts) speaks for one cause. `a+b` needs
// every clue named; a negative weight speaks against. A cause is listed when its sum is above zero,
// highest first, ties in the order causes first appear here. A new clue is one line.
import type { FindingId } from '../../domain/findings.ts';

export type Weight = readonly [clue: string, cause: FindingId, weight: number];

export const WEIGHTS: readonly Weight[] = [
  // Messages that name their cause.
  ['otp', 'otp-required', 10],
  ['eauthip', 'token-rejected', 8],
  ['no-auth-for-uri', 'tarball-host-mismatch', 8],
  ['unscoped-auth', 'unscoped-credential', 8],
  ['cli-invalid-url', 'url-missing-scheme', 8],
  ['invalid-proxy', 'url-missing-scheme', 5],
  ['invalid-proxy', 'proxy-misconfigured', 3],
  ['header-char', 'token-has-whitespace', 8],
  ['provenance', 'trusted-publishing-failed', 8],
  ['proxy-407', 'proxy-misconfigured', 8],
  ['pnpm-dropped', 'pnpm-config', 10],
  ['env-unset+client:berry', 'yarn-config', 10],
  ['env-unset', 'unexpanded-env-var', 8],
  ['env-unset', 'pnpm-config', 1],
  ['gh-owner-in-url', 'github-packages-config', 8],
  ['gh-unscoped-put', 'github-packages-config', 7],
  ['gh-unscoped-put+no-auth-sent', 'github-packages-config', -5],
  ['notice-invalidated', 'token-rejected', 6],
  ['placeholder-in-paste+s401', 'placeholder-token', 8],
  ['placeholder-in-paste+put404', 'placeholder-token', 8],
  ['placeholder-in-paste+code:ENEEDAUTH', 'placeholder-token', 8],

  // TLS and the network: never a token problem.
  ['tls-chain', 'tls-untrusted-chain', 8],
  ['tls-chain', 'cafile-problem', 3],
  ['tls-cert', 'tls-bad-certificate', 8],
  ['dns', 'network-unreachable', 6],
  ['dns', 'lockfile-registry-mismatch', 1.5],
  ['dns', 'proxy-misconfigured', 1],
  ['network', 'network-unreachable', 5],
  ['network', 'proxy-misconfigured', 1],
  ['html-page', 'registry-not-npm', 9],
  ['html-page', 'network-unreachable', -4],
  ['refused-other', 'proxy-misconfigured', 7],
  ['refused-proxy-port', 'proxy-misconfigured', 7],
  // npm reports 127.0.0.1 for `localhost`: a refused connection to the registry's own address is not a proxy.
  ['refused-registry', 'network-unreachable', 3],
  ['refused-registry', 'proxy-misconfigured', -1],
  ['refused-registry+tarball', 'lockfile-registry-mismatch', 1.2],
  ['s5xx', 'network-unreachable', 6],
  ['s429', 'network-unreachable', 6], // throttled: the registry answers, slower is the fix, never a new token
  // The tarball's bytes are not the ones the lockfile recorded: another registry or mirror, or a proxy in between.
  ['integrity', 'lockfile-registry-mismatch', 5],
  ['integrity', 'proxy-misconfigured', 1.5],
  // No such version where the client looked: a scope sent to a registry that holds another package of that name.
  ['no-version+scoped', 'scope-not-mapped', 5],

  // 401: a credential refused, or none sent.
  ['s401', 'token-rejected', 3],
  ['s401', 'unexpanded-env-var', 1.5],
  ['s401', 'no-credential-for-registry', 1.2],
  ['s401', 'token-host-mismatch', 1],
  ['s401', 'placeholder-token', 0.8],
  ['no-auth-sent', 'no-credential-for-registry', 3],
  ['no-auth-sent', 'token-rejected', -1],
  ['no-auth-sent', 'token-host-mismatch', 1],
  ['no-auth-sent+s401+tarball', 'tarball-host-mismatch', 0.9],
  ['auth-sent', 'token-rejected', 2],
  ['auth-sent', 'no-credential-for-registry', -1.2],
  ['must-log-in', 'malformed-credential-key', 2.6],
  ['must-log-in', 'no-credential-for-registry', 1],
  ['no-auth-sent+vendor:nexus', 'malformed-credential-key', 2.5],
  ['no-auth-sent+vendor:artifactory', 'malformed-credential-key', 2],
  ['notice-expired', 'token-rejected', 4],
  ['env-in-command+s401', 'unexpanded-env-var', 4],
  ['client:yarn1+s401', 'no-credential-for-registry', 2],
  // bun matches a .npmrc key's path exactly and reads bunfig.toml first: its 401s are mostly a credential not sent.
  ['client:bun+s401', 'no-credential-for-registry', 2.5],
  ['vendor:azure+s401', 'azure-artifacts-credentials', 2.5],
  ['vendor:azure+s401', 'no-credential-for-registry', 0.5],
  ['vendor:github+get401+tarball', 'no-credential-for-registry', 2.5],
  ['vendor:github+publish+s401+auth-sent', 'placeholder-token', 5],
  ['vendor:github+scoped+get401+gh-unauthenticated', 'scope-not-mapped', 1.6],
  // A tarball on a company's registry that nothing here points at: the lockfile came from someone else's machine.
  ['foreign-tarball+s401', 'lockfile-registry-mismatch', 6],
  ['foreign-tarball+s403', 'lockfile-registry-mismatch', 6],
  ['lockfile-skip+s401', 'lockfile-registry-mismatch', 2],
  ['registry-flag+s401', 'lockfile-registry-mismatch', 5],

  // 403 on an install: read access, a policy block, or configuration.
  ['get403', 'no-credential-for-registry', 3],
  ['get403', 'package-blocked', 2],
  ['get403', 'scope-not-mapped', 1.5],
  ['get403', 'proxy-misconfigured', 1.2],
  ['get403', 'token-host-mismatch', 1],
  ['quarantine+s403', 'package-blocked', 8],
  // Public packages need no read access: a 403 there is a block between this machine and the registry.
  ['vendor:public+get403', 'package-blocked', 4],
  ['vendor:public+get403', 'no-credential-for-registry', -2],
  ['vendor:public+get403', 'scope-not-mapped', -1.5],
  ['gh-read-package', 'token-rejected', 6],
  ['auth-sent+get403', 'token-rejected', 3.5],

  // 403 on a write: who may publish, and what the token may do.
  ['put403', 'not-maintainer', 3],
  ['put403', 'read-only-token', 2.5],
  ['put403', 'otp-required', 2],
  ['put403', 'publish-forbidden', 1.5],
  ['not-owner', 'not-maintainer', 5],
  ['gh-write-package', 'not-maintainer', 3],
  ['gh-write-package', 'read-only-token', 2],
  ['vendor:github+put403', 'otp-required', -2], // GitHub Packages asks no one-time password
  ['gh-installation-write', 'read-only-token', 5],
  ['no-upload-permission', 'publish-forbidden', 5],
  ['version-exists', 'publish-forbidden', 8],
  ['token-lacks-package', 'publish-forbidden', 6],
  ['tfa-for-publish', 'otp-required', 6],
  ['put409', 'publish-forbidden', 5],

  // 404: a scope sent to the wrong registry, a private package, a write refused as "not found".
  ['get404+scoped', 'scope-not-mapped', 4],
  ['get404', 'no-credential-for-registry', 3],
  ['get404+tarball', 'lockfile-registry-mismatch', 1.5],
  ['get404+tarball', 'scope-not-mapped', -3], // a tarball URL comes from a packument: the scope already resolved
  ['vendor:public+get404+tarball', 'network-unreachable', 3.5],
  ['client:berry+s404', 'yarn-config', 3.2],
  ['put404', 'token-rejected', 4],
  ['put404', 'placeholder-token', 3],
  ['put404', 'no-credential-for-registry', 2.5],
  ['put404', 'publish-forbidden', 1],
  ['put404+trusted-publishing', 'trusted-publishing-failed', 2.6],
  ['vendor:github+put404', 'placeholder-token', 1.5],
  ['notice-expired+put404', 'token-rejected', 3],

  // npm publish/whoami found no credential at the exact registry key.
  ['code:ENEEDAUTH', 'no-credential-for-registry', 4],
  ['code:ENEEDAUTH', 'registry-missing-trailing-slash', 2],
  ['code:ENEEDAUTH', 'trusted-publishing-failed', 1.5],
  ['code:ENEEDAUTH+old-npm+ci', 'trusted-publishing-failed', 1],
  ['oidc-no-id-token', 'trusted-publishing-failed', 8],
  ['oidc-exchange-failed', 'trusted-publishing-failed', 8],

  // Yarn Berry reads only .yarnrc.yml.
  ['yarn-anonymous', 'yarn-config', 6],
  // "as an unknown user": a token was sent from the wrong place in .yarnrc.yml, or in the wrong syntax.
  ['client:berry+yarn-unknown-user', 'yarn-config', 7],
  ['client:berry+foreign-tarball', 'lockfile-registry-mismatch', -4], // archive URLs are in every Berry message
  ['yarn-no-auth-configured', 'yarn-config', 8],
];
