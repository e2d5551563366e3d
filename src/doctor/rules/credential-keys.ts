// Credential keys: unscoped ones, keys that can never match, overridden ones, registries left without one.
import { makeFinding } from '../../domain/findings.ts';
import type { Finding } from '../../domain/findings.ts';
import { nerfDart, redact } from '../credentials.ts';
import type { DoctorContext, Target } from '../context.ts';
import { effectiveCredentials, hostOf, keyHost, sourceOf, where } from './rule.ts';
import type { Rule } from './rule.ts';
import { GITHUB, azureFeedOfUrl, azureFix, gitHubPackagesOf, gitHubPackagesOfUrl } from './vendors.ts';

const UNSCOPED = ['_authToken', '_auth', 'username', '_password', '_authtoken', '-authtoken'];

function defaultNerf(ctx: DoctorContext): string {
  try {
    return nerfDart(String(ctx.cfg.get('registry')));
  } catch {
    return '//<registry host>/';
  }
}

export const unscopedCredential: Rule = {
  id: 'unscoped-credential',
  detect(ctx) {
    const out: Finding[] = [];
    const nerf = defaultNerf(ctx);
    for (const layer of ctx.cfg.layers) {
      // pnpm pins an unscoped credential in its auth.ini to that file's registry (pnpm-auth.ts).
      if (layer.where === 'builtin' || layer.where === 'pnpm-auth') continue;
      for (const key of UNSCOPED) {
        const entries = layer.byKey.get(key);
        if (!entries) continue;
        const e = entries[entries.length - 1];
        const target =
          key.toLowerCase() === '_authtoken' && key !== '_authToken' ? `${nerf}:_authToken` : `${nerf}:${key}`;
        out.push(
          makeFinding('unscoped-credential', {
            message: `\`${key}\` in ${layer.where} config ${layer.file} is not tied to a registry; npm 9+ stops with ERR_INVALID_AUTH.`,
            fix: `Run \`npm config fix\`, or rewrite the line as \`${target}=…\` (the nerf-dart of the registry).`,
            source: { file: layer.file, line: e.line },
          }),
        );
      }
    }
    for (const w of ['env', 'cli'] as const) {
      for (const key of ctx.cfg.keysIn(w)) {
        if (!UNSCOPED.includes(key)) continue;
        const o = ctx.cfg.origin(key);
        out.push(
          makeFinding('unscoped-credential', {
            severity: 'warning',
            message: `\`${key}\` from ${where(ctx, o)} is ignored: npm only uses credentials keyed by registry.`,
            fix:
              w === 'env'
                ? `Set it as \`env 'npm_config_${nerf}:_authToken=…'\`, or write \`${nerf}:_authToken=\${NPM_TOKEN}\` in ~/.npmrc.`
                : `Pass \`--${nerf}:_authToken=…\` instead.`,
            source: sourceOf(o),
          }),
        );
      }
    }
    return out;
  },
};

/** Why a key can never match a request URL, or undefined if it is well formed. */
function malformation(prefix: string): { why: string; suggestion?: string } | undefined {
  const scheme = /^(https?):\/\/(.*)$/i.exec(prefix);
  if (scheme) return { why: 'the key includes the scheme', suggestion: `//${scheme[2]}` };
  if (!prefix.startsWith('//'))
    return { why: 'the key does not start with //', suggestion: `//${prefix.replace(/^\/+/, '')}` };
  const host = keyHost(prefix);
  if (!host) return { why: 'the key has no host' };
  const rest = prefix.slice(2 + host.length);
  if (host !== host.toLowerCase())
    return { why: 'the host is not lowercase', suggestion: `//${host.toLowerCase()}${rest}` };
  const port = /:(443|80)$/.exec(host);
  if (port)
    return {
      why: `the key names the default port :${port[1]}, which npm strips from URLs`,
      suggestion: `//${host.slice(0, -port[0].length)}${rest}`,
    };
  return undefined;
}

export const malformedCredentialKey: Rule = {
  id: 'malformed-credential-key',
  detect(ctx) {
    return effectiveCredentials(ctx).flatMap((c) => {
      const bad = malformation(c.prefix);
      if (!bad) return [];
      const fixed = bad.suggestion
        ? `${bad.suggestion.endsWith('/') ? bad.suggestion : bad.suggestion + '/'}:${c.field}`
        : `//host[:port]/path/:${c.field}`;
      return [
        makeFinding('malformed-credential-key', {
          message: `\`${c.key}\` (${where(ctx, c.origin)}) never matches a request: ${bad.why}.`,
          fix: `Rewrite the key as \`${fixed}=…\` (lowercase host, no scheme, no default port, trailing slash).`,
          source: sourceOf(c.origin),
        }),
      ];
    });
  },
};

export const credentialOverridden: Rule = {
  id: 'credential-overridden',
  detect(ctx) {
    const out: Finding[] = [];
    for (const c of effectiveCredentials(ctx)) {
      const all = ctx.cfg.origins(c.key).filter((o) => o.where !== 'default');
      if (all.length < 2) continue;
      const [winner, ...losers] = all;
      for (const loser of losers) {
        const loserValue = loser.entry ? String(loser.entry.value) : undefined;
        const same = loser.entry?.rawValue?.trim() === winner.entry?.rawValue?.trim();
        if (same) continue;
        out.push(
          makeFinding('credential-overridden', {
            message:
              `\`${c.key}\` is set in ${where(ctx, loser)} and in ${where(ctx, winner)}; ${ctx.client === 'pnpm' ? 'pnpm' : 'npm'} sends the one from ${where(ctx, winner)} (${winner.where} beats ${loser.where})` +
              `${loserValue ? `, not ${redact(loserValue)}` : ''}.`,
            fix: `Keep one credential: if the token at ${where(ctx, loser)} is the current one, delete line ${winner.line || ''} of ${winner.file}; otherwise delete the stale line at ${where(ctx, loser)}.`.replace(
              'line  of',
              'the setting in',
            ),
            source: sourceOf(winner),
          }),
        );
      }
    }
    return out;
  },
};

function neededKey(url: string): string {
  try {
    return `${nerfDart(url.endsWith('/') ? url : url + '/')}:_authToken=\${NPM_TOKEN}`;
  } catch {
    return '//<host>/:_authToken=${NPM_TOKEN}';
  }
}

/** Credential keys whose host is not used by any registry in play (the token meant for "another" host). */
function orphanCredentials(ctx: DoctorContext) {
  const hosts = new Set(ctx.targets.map((t) => hostOf(t.url)));
  return effectiveCredentials(ctx).filter((c) => {
    if (c.field === 'username' || c.field === 'keyfile' || !c.value) return false;
    const h = keyHost(c.prefix);
    return h !== undefined && !malformation(c.prefix) && !hosts.has(h);
  });
}

function needsAuth(ctx: DoctorContext, t: Target): boolean {
  return (
    t.roles.has('publish') ||
    t.roles.has('scope') ||
    t.roles.has('dependency') ||
    t.roles.has('package') ||
    (t.roles.has('default') && t.url !== ctx.cfg.defaultRegistry)
  );
}

export const tokenHostMismatch: Rule = {
  id: 'token-host-mismatch',
  detect(ctx) {
    const out: Finding[] = [];
    const orphans = orphanCredentials(ctx);
    for (const t of ctx.targets) {
      if (t.credential.kind !== 'none' || orphans.length === 0) continue;
      if (!needsAuth(ctx, t)) continue;
      const o = orphans[0];
      out.push(
        makeFinding('token-host-mismatch', {
          registry: t.url,
          message: `Requests to ${t.url} carry no credential: the token at ${where(ctx, o.origin)} is keyed for ${o.prefix}, a different host.`,
          fix: `Key the token to the registry in use: \`${neededKey(t.url)}\` (or point the registry back at ${o.prefix.slice(2)}).`,
          source: sourceOf(o.origin),
        }),
      );
    }
    // Token formats that only one registry accepts.
    const defaultHost = hostOf(ctx.cfg.defaultRegistry);
    for (const c of effectiveCredentials(ctx)) {
      if (c.field !== '_authToken') continue;
      const host = keyHost(c.prefix);
      if (!host) continue;
      let problem: string | undefined;
      let severity: 'error' | 'warning' = 'error';
      if (c.value.startsWith('tsr_') && host === defaultHost)
        problem = "a Tessera token (tsr_) is keyed to npm's public registry";
      else if (c.value.startsWith('github_pat_') && gitHubPackagesOf(c.prefix.slice(2)))
        problem =
          'GitHub Packages does not accept fine-grained tokens (github_pat_); use a classic PAT with read:packages';
      else if (
        /^npms?_/.test(c.value) &&
        host !== defaultHost &&
        host !== undefined &&
        !/^(127\.|localhost)/.test(host)
      ) {
        problem = "an npm_ token (issued by npm's public registry) is keyed to another host";
        severity = 'warning';
      }
      if (!problem) continue;
      out.push(
        makeFinding('token-host-mismatch', {
          severity,
          message: `\`${c.key}\` (${where(ctx, c.origin)}): ${problem}.`,
          fix: `Use a token issued by ${host}, or move this token to the key of the registry that issued it.`,
          source: sourceOf(c.origin),
        }),
      );
    }
    return out;
  },
};

export const noCredentialForRegistry: Rule = {
  id: 'no-credential-for-registry',
  detect(ctx) {
    const out: Finding[] = [];
    const orphans = orphanCredentials(ctx);
    for (const t of ctx.targets) {
      if (t.roles.has('publish')) {
        if (t.exact.kind !== 'none') continue;
        if (t.credential.kind !== 'none') continue; // lookup A finds one: the trailing-slash rule explains it
        const gh = gitHubPackagesOfUrl(t.url);
        const feed = azureFeedOfUrl(t.url);
        out.push(
          makeFinding('no-credential-for-registry', {
            severity: 'error',
            registry: t.url,
            message: `npm publish to ${t.url} has no credential: npm would stop with ENEEDAUTH ("This command requires you to be logged in").`,
            fix: gh
              ? `Add \`${GITHUB.line(gh.base)}\` to ~/.npmrc and export NODE_AUTH_TOKEN: ${GITHUB.token}. GitHub Packages has no trusted publishing, so keep the token (in Actions: GITHUB_TOKEN with \`permissions: packages: write\`).`
              : feed
                ? azureFix(feed)
                : `Run \`npm login --registry=${t.url}\`, or add \`${neededKey(t.url)}\` to ~/.npmrc and export NPM_TOKEN.`,
          }),
        );
        continue;
      }
      if (t.credential.kind !== 'none' || t.url === ctx.cfg.defaultRegistry) continue;
      if (orphans.length > 0 && needsAuth(ctx, t)) continue; // token-host-mismatch explains it
      const scoped = t.scopes.length > 0;
      const source = sourceOf(scoped ? ctx.cfg.origin(`${t.scopes[0]}:registry`) : ctx.cfg.origin('registry'));
      const gh = gitHubPackagesOfUrl(t.url);
      if (gh) {
        // GitHub Packages answers 401 without a token even for public packages (reference §7.1).
        const used = t.roles.has('dependency') || t.roles.has('package') || t.roles.has('default');
        out.push(
          makeFinding('no-credential-for-registry', {
            severity: used ? 'error' : 'warning',
            registry: t.url,
            message: `No credential is sent to ${t.url}${scoped ? ` (${t.scopes.join(', ')})` : ''}, and GitHub Packages requires a token even for public packages: every install from it fails with 401 "authentication token not provided".`,
            fix: `Add \`${GITHUB.line(gh.base)}\` to ~/.npmrc and export NODE_AUTH_TOKEN: ${GITHUB.token}. In GitHub Actions, GITHUB_TOKEN works for packages the repository may read.`,
            source,
          }),
        );
        continue;
      }
      const feed = azureFeedOfUrl(t.url);
      out.push(
        makeFinding('no-credential-for-registry', {
          severity: scoped || t.roles.has('package') ? 'warning' : 'info',
          registry: t.url,
          message: `No credential is sent to ${t.url}${scoped ? ` (${t.scopes.join(', ')})` : ''}: fine for public packages, a 401/404 for private ones.`,
          fix: feed
            ? `If the feed is not public, ${azureFix(feed).replace(/^Create/, 'create')}`
            : `If its packages are private, add \`${neededKey(t.url)}\` to ~/.npmrc (keep the secret in the NPM_TOKEN variable), or run \`npm login --registry=${t.url}\`.`,
          source,
        }),
      );
    }
    return out;
  },
};

export const registryMissingTrailingSlash: Rule = {
  id: 'registry-missing-trailing-slash',
  detect(ctx) {
    const out: Finding[] = [];
    const check = (key: string, url: string | undefined, origin: ReturnType<typeof ctx.cfg.origin>, label: string) => {
      if (!url) return;
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        return;
      }
      if (parsed.pathname === '/' || parsed.pathname.endsWith('/')) return;
      const publishing = ctx.opts.publish && ctx.publishRegistry === url;
      const t = ctx.targets.find((x) => x.url === url);
      const broken = t && t.credential.kind !== 'none' && t.exact.kind === 'none';
      out.push(
        makeFinding('registry-missing-trailing-slash', {
          severity: publishing && broken ? 'error' : 'warning',
          registry: url,
          message: `${label} ${url} has no trailing slash: npm publish and npm whoami look for credentials at ${nerfDart(url)} and ${broken ? 'find none' : 'may find none'}, although installs work.`,
          fix: `Write \`${key}=${url}/\`${broken && t?.credential.regKey ? ` (your credential is keyed at ${t.credential.regKey})` : ''}.`,
          source: origin ? { file: origin.file, line: origin.line } : undefined,
        }),
      );
    };
    for (const key of ctx.cfg.keys()) {
      if (key === 'registry' || /^@[^:]+:registry$/.test(key))
        check(
          key,
          ctx.cfg.getString(key),
          ctx.cfg.origin(key),
          key === 'registry' ? 'The registry' : `The ${key.split(':')[0]} registry`,
        );
    }
    const pc = ctx.pkg?.publishConfig?.registry;
    if (typeof pc === 'string' && ctx.pkgPath) {
      check('publishConfig.registry', pc, { where: 'project', file: ctx.pkgPath, line: 0 }, 'publishConfig.registry');
    }
    return out;
  },
};

export const credentialKeyRules: Rule[] = [
  unscopedCredential,
  malformedCredentialKey,
  credentialOverridden,
  tokenHostMismatch,
  noCredentialForRegistry,
  registryMissingTrailingSlash,
];
