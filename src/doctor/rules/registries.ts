// Where requests go: scope mappings, URLs, lockfile hosts.
import { makeFinding } from '../../domain/findings.ts';
import type { Finding } from '../../domain/findings.ts';
import { readFileSync } from 'node:fs';
import { credentialForRequest, packageName } from '../credentials.ts';
import { noProxyList } from '../npm-config.ts';
import type { DoctorContext } from '../context.ts';
import { hostOf, isLoopback, sourceOf, where } from './rule.ts';
import type { Rule } from './rule.ts';
import { gitHubPackagesOfUrl } from './vendors.ts';

function scopeOf(spec: string): string | undefined {
  return spec.startsWith('@') && spec.includes('/') ? spec.slice(0, spec.indexOf('/')) : undefined;
}

function hasPrivateSetup(ctx: DoctorContext): boolean {
  const defaultHost = hostOf(String(ctx.cfg.get('registry')));
  return ctx.cfg
    .keys()
    .some((k) => /^@[^:]+:registry$/.test(k) || (k.startsWith('//') && !k.startsWith(`//${defaultHost}/`)));
}

export const scopeNotMapped: Rule = {
  id: 'scope-not-mapped',
  detect(ctx) {
    const out: Finding[] = [];
    const registry = String(ctx.cfg.get('registry'));
    const seen = new Set<string>();
    const report = (spec: string, scope: string, evidence: string, severity: 'warning' | 'info') => {
      if (seen.has(scope)) return;
      seen.add(scope);
      const mapped = ctx.cfg
        .keys()
        .filter((k) => /^@[^:]+:registry$/.test(k))
        .map((k) => k.split(':')[0]);
      out.push(
        makeFinding('scope-not-mapped', {
          severity,
          registry,
          message:
            `${spec} has no \`${scope}:registry\` mapping, so npm requests it from the default registry ${registry}${evidence}` +
            (mapped.length ? ` (mapped scopes: ${mapped.join(', ')}).` : '.'),
          fix: `If ${scope} packages live on another registry, add \`${scope}:registry=https://<your registry>/\` to the project .npmrc (lowercase scope, with @ and a trailing slash).`,
        }),
      );
    };
    for (const spec of ctx.opts.packages) {
      const scope = scopeOf(packageName(spec));
      if (scope && !ctx.cfg.getString(`${scope}:registry`))
        report(spec, scope, '', hasPrivateSetup(ctx) ? 'warning' : 'info');
    }
    if (ctx.opts.publish && ctx.publishName) {
      const scope = scopeOf(ctx.publishName);
      if (
        scope &&
        !ctx.cfg.getString(`${scope}:registry`) &&
        !ctx.pkg?.publishConfig?.registry &&
        hasPrivateSetup(ctx)
      ) {
        report(ctx.publishName, scope, ' — including npm publish', 'warning');
      }
    }
    // Lockfile evidence: the scope's packages were resolved from a host other than where they go now.
    const registryHost = hostOf(registry);
    for (const e of ctx.lockfile?.entries ?? []) {
      const scope = scopeOf(e.name);
      if (!scope || seen.has(scope) || ctx.cfg.getString(`${scope}:registry`)) continue;
      const h = hostOf(e.resolved);
      if (h && h !== registryHost && h !== hostOf(ctx.cfg.defaultRegistry)) {
        report(e.name, scope, ` (the lockfile resolved it from ${h})`, 'warning');
      }
    }
    return out;
  },
};

export const invalidScopeMapping: Rule = {
  id: 'invalid-scope-mapping',
  detect(ctx) {
    const out: Finding[] = [];
    for (const key of ctx.cfg.keys()) {
      if (!key.endsWith(':registry') || key.startsWith('//')) continue;
      const scope = key.slice(0, -':registry'.length);
      const o = ctx.cfg.origin(key);
      let problem: string | undefined;
      let fixed = scope;
      if (!scope.startsWith('@')) {
        problem = 'the scope lacks its @';
        fixed = '@' + scope.toLowerCase();
      } else if (scope !== scope.toLowerCase()) {
        problem = gitHubPackagesOfUrl(String(ctx.cfg.get(key)))
          ? `the scope has uppercase letters: npm looks up only \`${scope.toLowerCase()}:registry\`, and GitHub Packages needs the owner in lowercase`
          : 'the scope has uppercase letters, and package names (so scopes) are lowercase';
        fixed = scope.toLowerCase();
      } else if (o?.envName && /_/.test(o.envName.slice('npm_config_'.length).split(':')[0]) && scope.includes('-')) {
        problem = `npm turned the underscores of ${o.envName} into hyphens`;
      }
      if (!problem) continue;
      out.push(
        makeFinding('invalid-scope-mapping', {
          message: `\`${key}\` (${where(ctx, o)}) is never used: ${problem}.`,
          fix:
            o?.envName && fixed === scope
              ? 'Set the mapping in .npmrc instead of an environment variable.'
              : `Write \`${fixed}:registry=${String(ctx.cfg.get(key))}\`.`,
          source: sourceOf(o),
        }),
      );
    }
    return out;
  },
};

export const urlMissingScheme: Rule = {
  id: 'url-missing-scheme',
  detect(ctx) {
    const out: Finding[] = [];
    for (const key of ctx.cfg.keys()) {
      const isReg = key === 'registry' || /^@[^:]+:registry$/.test(key);
      const isProxy = key === 'proxy' || key === 'https-proxy';
      if (!isReg && !isProxy) continue;
      const v = ctx.cfg.get(key);
      if (typeof v !== 'string' || !v) continue;
      const ok = isReg ? /^https?:\/\//i.test(v) : /^(https?|socks[45]?[ah]?):\/\//i.test(v);
      if (ok) continue;
      const o = ctx.cfg.origin(key);
      out.push(
        makeFinding('url-missing-scheme', {
          message: `\`${key}=${v}\` (${where(ctx, o)}) has no scheme: npm fails ${isReg ? 'every command with ERR_INVALID_URL' : 'every request with EINVALIDPROXY'}.`,
          fix: `Write \`${key}=${isReg ? 'https' : 'http'}://${v.replace(/^[a-z]+:\/*/i, '')}${isReg && !v.endsWith('/') ? '/' : ''}\`.`,
          source: sourceOf(o),
        }),
      );
    }
    const pc = ctx.pkg?.publishConfig?.registry;
    if (typeof pc === 'string' && !/^https?:\/\//i.test(pc) && ctx.pkgPath) {
      out.push(
        makeFinding('url-missing-scheme', {
          message: `publishConfig.registry "${pc}" in ${ctx.pkgPath} has no scheme: npm publish fails with ERR_INVALID_URL.`,
          fix: `Write "https://${pc}".`,
          source: { file: ctx.pkgPath, line: 0 },
        }),
      );
    }
    return out;
  },
};

export const insecureRegistryUrl: Rule = {
  id: 'insecure-registry-url',
  detect(ctx) {
    return ctx.targets.flatMap((t) => {
      const u = new URL(t.url);
      if (u.protocol !== 'http:' || isLoopback(u.hostname)) return [];
      const key = t.scopes.length ? `${t.scopes[0]}:registry` : 'registry';
      const o = ctx.cfg.origin(key);
      const sendsSecret = t.credential.kind !== 'none';
      return [
        makeFinding('insecure-registry-url', {
          severity: sendsSecret ? 'error' : 'warning',
          registry: t.url,
          message: `${t.url} is plain http${sendsSecret ? `, and npm sends the credential from ${where(ctx, t.credential.origin)} over it in clear text` : ''}.`,
          fix: `Use https: \`${key}=https://${u.host}${u.pathname}\`.`,
          source: sourceOf(o),
        }),
      ];
    });
  },
};

export const strictSslDisabled: Rule = {
  id: 'strict-ssl-disabled',
  detect(ctx) {
    if (ctx.cfg.get('strict-ssl') !== false) return [];
    const o = ctx.cfg.origin('strict-ssl');
    return [
      makeFinding('strict-ssl-disabled', {
        message: `strict-ssl=false (${where(ctx, o)}): npm accepts any certificate, so a machine in the middle can read your tokens.`,
        fix: "Delete the line, and trust your proxy's or registry's CA instead: `cafile=/absolute/path/to/bundle.pem` (the bundle must also contain the public roots).",
        source: sourceOf(o),
      }),
    ];
  },
};

export const cafileProblem: Rule = {
  id: 'cafile-problem',
  detect(ctx) {
    const out: Finding[] = [];
    const o = ctx.cfg.origin('cafile');
    const cafile = ctx.cfg.getString('cafile');
    if (cafile && o && o.where !== 'default') {
      const raw = o.entry ? String(o.entry.value) : cafile;
      let text: string | undefined;
      try {
        text = readFileSync(cafile, 'utf8');
      } catch {
        /* missing */
      }
      if (text === undefined) {
        out.push(
          makeFinding('cafile-problem', {
            message: `cafile=${raw} (${where(ctx, o)}) does not exist${raw !== cafile ? ` (resolved to ${cafile})` : ''}; npm silently ignores it, so your CA is not trusted.`,
            fix: 'Point cafile at an existing PEM bundle by absolute path.',
            source: sourceOf(o),
          }),
        );
      } else if (!text.includes('-----BEGIN CERTIFICATE-----')) {
        out.push(
          makeFinding('cafile-problem', {
            message: `cafile=${cafile} (${where(ctx, o)}) contains no PEM certificate.`,
            fix: 'Convert it to PEM (`openssl x509 -inform der -in ca.cer -out ca.pem`) and point cafile at it.',
            source: sourceOf(o),
          }),
        );
      } else if (
        (text.match(/BEGIN CERTIFICATE/g) ?? []).length < 3 &&
        ctx.targets.some((t) => t.url === ctx.cfg.defaultRegistry)
      ) {
        out.push(
          makeFinding('cafile-problem', {
            severity: 'warning',
            message: `cafile=${cafile} (${where(ctx, o)}) holds only ${(text.match(/BEGIN CERTIFICATE/g) ?? []).length} certificate(s), and it replaces Node's trust store: public registries will fail with SELF_SIGNED_CERT_IN_CHAIN.`,
            fix: `Append the public roots: \`cat /etc/ssl/certs/ca-certificates.crt ${cafile} > ~/.npm-ca.pem\` and set \`cafile=~/.npm-ca.pem\`.`,
            source: sourceOf(o),
          }),
        );
      }
      if (raw && !raw.startsWith('/') && !raw.startsWith('~') && !/^[A-Za-z]:[\\/]/.test(raw)) {
        out.push(
          makeFinding('cafile-problem', {
            severity: 'warning',
            message: `cafile=${raw} (${where(ctx, o)}) is relative: npm resolves it against the directory npm runs in, not the .npmrc's.`,
            fix: `Use an absolute path: \`cafile=${cafile}\`.`,
            source: sourceOf(o),
          }),
        );
      }
    }
    const env = ctx.cfg.env;
    if (env.NODE_EXTRA_CA_CERTS && (cafile || ctx.cfg.get('ca')) && env.NODE_EXTRA_CA_CERTS !== cafile) {
      out.push(
        makeFinding('cafile-problem', {
          severity: 'warning',
          message: `NODE_EXTRA_CA_CERTS=${env.NODE_EXTRA_CA_CERTS} has no effect on npm, because cafile/ca is set (${where(ctx, ctx.cfg.origin(cafile ? 'cafile' : 'ca'))}).`,
          fix: `Add that certificate to the cafile bundle instead.`,
          source: sourceOf(ctx.cfg.origin(cafile ? 'cafile' : 'ca')),
        }),
      );
    }
    if (env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
      out.push(
        makeFinding('cafile-problem', {
          severity: 'warning',
          message:
            'NODE_TLS_REJECT_UNAUTHORIZED=0 is set; npm ignores it (it passes strict-ssl explicitly), and it weakens every other Node program.',
          fix: '`unset NODE_TLS_REJECT_UNAUTHORIZED` and trust the CA with cafile=/absolute/path.pem.',
        }),
      );
    }
    return out;
  },
};

export const proxyMisconfigured: Rule = {
  id: 'proxy-misconfigured',
  detect(ctx) {
    const out: Finding[] = [];
    const env = ctx.cfg.env;
    const httpsTargets = ctx.targets.filter((t) => t.url.startsWith('https:'));
    const npmProxy = ctx.cfg.getString('https-proxy') ?? ctx.cfg.getString('proxy');
    const httpProxy = env.HTTP_PROXY ?? env.http_proxy;
    const httpsProxy = env.HTTPS_PROXY ?? env.https_proxy;
    if (httpsTargets.length && httpProxy && !httpsProxy && !npmProxy) {
      out.push(
        makeFinding('proxy-misconfigured', {
          severity: 'warning',
          message: `HTTP_PROXY is set but HTTPS_PROXY is not: npm goes direct to ${httpsTargets[0].url} (it reads only HTTPS_PROXY for https registries).`,
          fix: `\`export HTTPS_PROXY=${httpProxy}\`, or \`npm config set https-proxy ${httpProxy}\`.`,
        }),
      );
    }
    const { list, from } = noProxyList(ctx.cfg);
    const bad = list.filter((s) => s.includes('*') || /:\d+$/.test(s) || /\/\d+$/.test(s));
    if (bad.length) {
      out.push(
        makeFinding('proxy-misconfigured', {
          severity: 'warning',
          message: `noproxy/NO_PROXY entries ${bad.join(', ')} do not work in npm: it matches host name suffixes only (no *, ports or CIDR).`,
          fix: `Use suffixes: ${bad.map((s) => s.replace(/^\*/, '').replace(/:\d+$/, '')).join(',')}.`,
          source: from ? { file: `environment variable ${from}`, line: 0 } : sourceOf(ctx.cfg.origin('noproxy')),
        }),
      );
    }
    return out;
  },
};

export const lockfileRegistryMismatch: Rule = {
  id: 'lockfile-registry-mismatch',
  detect(ctx) {
    if (!ctx.lockfile || ctx.client !== 'npm') return [];
    const publicHost = hostOf(ctx.cfg.defaultRegistry);
    const replace = String(ctx.cfg.get('replace-registry-host') ?? 'npmjs');
    const byHost = new Map<string, { count: number; line: number; example: string; intended: string }>();
    const defaultRegistry = String(ctx.cfg.get('registry'));
    const hostCache = new Map<string, string | undefined>();
    const cachedHost = (u: string) => {
      if (!hostCache.has(u)) hostCache.set(u, hostOf(u));
      return hostCache.get(u);
    };
    for (const e of ctx.lockfile.entries) {
      // The host is between "//" and the next "/": cheaper than new URL() for thousands of entries.
      const m = /^https?:\/\/([^/]+)/.exec(e.resolved);
      const h = m ? m[1].toLowerCase().replace(/:(443|80)$/, '') : undefined;
      if (!h) continue;
      const scope = e.name.startsWith('@') ? e.name.slice(0, e.name.indexOf('/')) : undefined;
      const registry = (scope && ctx.cfg.getString(`${scope}:registry`)) || defaultRegistry;
      const intended = cachedHost(registry);
      if (h === intended) continue;
      if (
        replace === 'always' ||
        (h === publicHost && replace !== 'never') ||
        replace === h ||
        (replace.includes('://') && e.resolved.startsWith(replace))
      )
        continue;
      const cur = byHost.get(h);
      if (cur) cur.count++;
      else byHost.set(h, { count: 1, line: e.line, example: e.name, intended: registry });
    }
    return [...byHost.entries()].map(([host, info]) => {
      const cred = credentialForRequest(ctx.cfg, `${new URL(info.intended).protocol}//${host}/`);
      const intendedCred = credentialForRequest(ctx.cfg, info.intended);
      const broken = cred.kind === 'none' && intendedCred.kind !== 'none';
      return makeFinding('lockfile-registry-mismatch', {
        severity: broken ? 'error' : 'warning',
        registry: info.intended,
        message:
          `${info.count} package(s) in ${ctx.lockfile!.path} (e.g. ${info.example}) resolve to ${host}, not ${hostOf(info.intended)}; npm fetches them as written` +
          `${cred.kind === 'none' ? ', with no credential' : ''}.`,
        fix: `Regenerate the lockfile against the current registry (\`rm package-lock.json && npm install\`), or set \`replace-registry-host=${host}\` in the project .npmrc.`,
        source: { file: ctx.lockfile!.path, line: info.line },
      });
    });
  },
};

export const registryRules: Rule[] = [
  scopeNotMapped,
  invalidScopeMapping,
  urlMissingScheme,
  insecureRegistryUrl,
  strictSslDisabled,
  cafileProblem,
  proxyMisconfigured,
  lockfileRegistryMismatch,
];
