// Registry-specific credential quirks (reference §7.1, §7.2, rules R23/R24): GitHub Packages and Azure Artifacts.
import { readFileSync } from 'node:fs';
import { makeFinding } from '../../domain/findings.ts';
import type { Finding, FindingSource } from '../../domain/findings.ts';
import type { DoctorContext } from '../context.ts';
import { displayPath } from '../npm-config.ts';
import type { Origin } from '../npm-config.ts';
import { effectiveCredentials, keyHost, sourceOf, where } from './rule.ts';
import type { Rule } from './rule.ts';

/** GitHub Packages: github.com's npm.pkg.github.com, or GHE.com's npm.<subdomain>.ghe.com. */
export function isGitHubPackagesHost(host: string | undefined): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  return h === 'npm.pkg.github.com' || /^npm\.[a-z0-9-]+\.ghe\.com$/.test(h);
}

export interface GitHubRegistry {
  /** What follows `//` in its credential key: `npm.pkg.github.com`, `npm.<sub>.ghe.com` or GHES's `HOST/_registry/npm`. */
  base: string;
  /** The documented registry URL: `https://npm.pkg.github.com`, or `https://HOST/_registry/npm/`. */
  url: string;
  /** An owner appended to the URL (`…/OWNER`): not the documented form, and it breaks pnpm (reference §7.1). */
  owner?: string;
}

/**
 * GitHub Packages for a `host/path` (a registry URL without its scheme, or a credential key without its `//`):
 * npm.pkg.github.com, GHE.com's npm.<sub>.ghe.com, or GHES's path form HOST/_registry/npm/. GHES's other form,
 * npm.HOST, cannot be told from any other registry named npm.<something> by its name alone, so it is not recognised.
 */
export function gitHubPackagesOf(hostPath: string | undefined): GitHubRegistry | undefined {
  const m = hostPath ? /^([^/?#]+)([^?#]*)/.exec(hostPath) : null;
  if (!m) return undefined;
  const host = m[1].toLowerCase();
  let base: string;
  let rest = m[2];
  if (isGitHubPackagesHost(host)) base = host;
  else {
    const g = /^\/_registry\/npm(\/.*)?$/i.exec(rest);
    if (!g) return undefined;
    base = `${host}/_registry/npm`;
    rest = g[1] ?? '';
  }
  const url = base.includes('/') ? `https://${base}/` : `https://${base}`;
  const seg = rest.split('/').find(Boolean);
  // …/download/@o/p/… (tarballs) and …/@scope%2fname (packuments) are paths npm builds, not an owner.
  if (!seg || seg === 'download' || /^(@|%40)/i.test(seg)) return { base, url };
  let owner = seg;
  try {
    owner = decodeURIComponent(seg);
  } catch {
    /* keep it as written */
  }
  return { base, url, owner };
}

/** The same for a registry URL. */
export function gitHubPackagesOfUrl(url: string | undefined): GitHubRegistry | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return gitHubPackagesOf(`${u.host}${u.pathname}`);
  } catch {
    return undefined;
  }
}

/** Azure Artifacts: pkgs.dev.azure.com, or the legacy <org>.pkgs.visualstudio.com. */
export function isAzureArtifactsHost(host: string | undefined): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  return h === 'pkgs.dev.azure.com' || /^[a-z0-9-]+\.pkgs\.visualstudio\.com$/.test(h);
}

/** The feed's `//host/<org>/[<project>/]_packaging/<feed>/npm/` for a feed key or URL path, else undefined. */
export function azureFeedBase(prefix: string): string | undefined {
  const m = /^(\/\/[^/]+\/(?:[^/]+\/)*_packaging\/[^/]+\/npm\/)(?:registry\/)?$/i.exec(prefix);
  return m && isAzureArtifactsHost(keyHost(m[1])) ? m[1] : undefined;
}

/** The feed base (as above) of a registry URL such as https://pkgs.dev.azure.com/o/_packaging/f/npm/registry/. */
export function azureFeedOfUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return azureFeedBase(`//${u.host}${u.pathname.endsWith('/') ? u.pathname : u.pathname + '/'}`);
  } catch {
    return undefined;
  }
}

/** Why a `_password` value is not base64 of a PAT (npm base64-decodes it before sending), or undefined. */
export function passwordNotBase64(value: string): string | undefined {
  const body = value.replace(/=+$/, '');
  if (/[^A-Za-z0-9+/_-]/.test(body) || body.length % 4 === 1) return 'is not base64';
  const decoded = Buffer.from(body, 'base64');
  // A PAT or session token is printable ASCII; a raw PAT "decoded" by npm is binary garbage.
  if (decoded.length === 0 || decoded.some((b) => b < 0x21 || b > 0x7e))
    return 'does not decode to a printable token (it looks like the raw PAT, not its base64)';
  return undefined;
}

export const GITHUB = {
  token:
    'a classic personal access token with read:packages (write:packages to publish), authorized for SSO if the organization enforces it; fine-grained github_pat_ tokens are not accepted',
  /** The credential line for a registry's `base` (see GitHubRegistry): `//npm.pkg.github.com/:_authToken=…`. */
  line: (base: string) => `//${base}/:_authToken=\${NODE_AUTH_TOKEN}`,
};

/** The Azure fix (reference §7.2): base64 PAT in _password, any username and email, at both paths, or vsts-npm-auth. */
export function azureFix(base: string | undefined): string {
  const b = base ?? '//pkgs.dev.azure.com/<org>/_packaging/<feed>/npm/';
  return (
    `Create a PAT with the Packaging (Read, and Write to publish) scope, base64 it (\`printf %s "$PAT" | base64 | tr -d '\\n'\`), and write in ~/.npmrc, for both \`${b}registry/\` and \`${b}\`: ` +
    '`:username=<any non-empty value>`, `:_password=<the base64 of the PAT>` and `:email=<any address>` ' +
    '(six lines in all) — or run `vsts-npm-auth -config .npmrc` (Windows), which writes them for you.'
  );
}

interface FeedLines {
  username?: { value: string; origin: Origin | undefined };
  password?: { value: string; origin: Origin | undefined };
  /** _authToken or _auth: a credential npm sends without username/_password. */
  other?: { field: string; origin: Origin | undefined };
}

function has(l: FeedLines | undefined): boolean {
  return Boolean(l && (l.username?.value || l.password?.value || l.other));
}

function sends(l: FeedLines | undefined): boolean {
  return Boolean(l && (l.other || (l.username?.value && l.password?.value)));
}

function feedsOf(ctx: DoctorContext): Map<string, Map<string, FeedLines>> {
  const feeds = new Map<string, Map<string, FeedLines>>();
  for (const c of effectiveCredentials(ctx)) {
    const base = azureFeedBase(c.prefix);
    if (!base) continue;
    let paths = feeds.get(base);
    if (!paths) feeds.set(base, (paths = new Map()));
    const lines = paths.get(c.prefix) ?? {};
    paths.set(c.prefix, lines);
    if (c.field === 'username') lines.username = { value: c.value, origin: c.origin };
    else if (c.field === '_password') lines.password = { value: c.value, origin: c.origin };
    else if ((c.field === '_authToken' || c.field === '_auth') && c.value)
      lines.other = { field: c.field, origin: c.origin };
  }
  return feeds;
}

export const azureArtifactsCredentials: Rule = {
  id: 'azure-artifacts-credentials',
  detect(ctx) {
    const out: Finding[] = [];
    for (const [base, paths] of feedsOf(ctx)) {
      const fix = azureFix(base);
      for (const [prefix, l] of paths) {
        // npm sends username + _password only as a pair; either one alone sends nothing.
        if (!l.other && l.password?.value && !l.username?.value) {
          out.push(
            makeFinding('azure-artifacts-credentials', {
              message: `\`${prefix}:_password\` (${where(ctx, l.password.origin)}) has no ${l.username ? 'non-empty ' : ''}\`${prefix}:username\` beside it, so npm sends no credential to this Azure Artifacts feed (401).`,
              fix,
              source: sourceOf(l.password.origin),
            }),
          );
        } else if (!l.other && l.username?.value && !l.password?.value) {
          out.push(
            makeFinding('azure-artifacts-credentials', {
              message: `\`${prefix}:username\` (${where(ctx, l.username.origin)}) has no \`${prefix}:_password\` beside it, so npm sends no credential to this Azure Artifacts feed (401).`,
              fix,
              source: sourceOf(l.username.origin),
            }),
          );
        }
        const pw = l.password?.value;
        if (pw && !pw.includes('${')) {
          const bad = passwordNotBase64(pw);
          if (bad) {
            out.push(
              makeFinding('azure-artifacts-credentials', {
                message: `\`${prefix}:_password\` (${where(ctx, l.password!.origin)}) ${bad}: npm base64-decodes _password before sending it, so Azure Artifacts receives garbage and answers 401.`,
                fix,
                source: sourceOf(l.password!.origin),
              }),
            );
          }
        }
      }
      const feed = `${base}registry/`;
      const atFeed = paths.get(feed);
      const atBase = paths.get(base);
      if (has(atFeed) && !has(atBase)) {
        const o = atFeed!.password?.origin ?? atFeed!.username?.origin ?? atFeed!.other?.origin;
        out.push(
          makeFinding('azure-artifacts-credentials', {
            severity: 'warning',
            message: `The Azure Artifacts credential at ${where(ctx, o)} is keyed only at \`${feed}\`; the documented layout repeats the lines at \`${base}\`, and requests to the feed outside …/npm/registry/ carry no credential without them.`,
            fix,
            source: sourceOf(o),
          }),
        );
      } else if (has(atBase) && !has(atFeed)) {
        const o = atBase!.password?.origin ?? atBase!.username?.origin ?? atBase!.other?.origin;
        const publishing = ctx.opts.publish && azureFeedOfUrl(ctx.publishRegistry) === base && sends(atBase);
        out.push(
          makeFinding('azure-artifacts-credentials', {
            severity: publishing ? 'error' : 'warning',
            message: `The Azure Artifacts credential at ${where(ctx, o)} is keyed only at \`${base}\`, not at \`${feed}\`: installs find it by walking up the path, but npm publish and npm whoami look up exactly \`${feed}\` and stop with ENEEDAUTH.`,
            fix,
            source: sourceOf(o),
          }),
        );
      }
    }
    return out;
  },
};

/** package.json:<line> of the first `"<field>":` (after `"<after>":` if given), for a finding's source. */
function pkgSource(ctx: DoctorContext, field: string, after?: string): FindingSource | undefined {
  if (!ctx.pkgPath) return undefined;
  let lines: string[];
  try {
    lines = readFileSync(ctx.pkgPath, 'utf8').split('\n');
  } catch {
    return { file: ctx.pkgPath, line: 0 };
  }
  const start = after
    ? Math.max(
        0,
        lines.findIndex((l) => l.includes(`"${after}"`)),
      )
    : 0;
  const i = lines.findIndex((l, n) => n >= start && new RegExp(`"${field}"\\s*:`).test(l));
  return { file: ctx.pkgPath, line: i < 0 ? 0 : i + 1 };
}

/**
 * GitHub Packages names and URLs (reference §7.1, R23): a package published there must be scoped to its owner
 * (an unscoped name, or a scope other than the owner the URL names, is refused), and the registry URL is the
 * bare host — an owner appended to it (`…/OWNER`) is not the documented form and breaks pnpm.
 */
export const gitHubPackagesConfig: Rule = {
  id: 'github-packages-config',
  detect(ctx) {
    const out: Finding[] = [];
    const pkg = ctx.pkg;
    const fromPkg =
      typeof pkg?.publishConfig?.registry === 'string' ? (pkg.publishConfig.registry as string) : undefined;
    // Registry URLs with the owner appended: every registry= / @scope:registry= in effect, and publishConfig.registry.
    const urls: { key: string; value: string; where: string; source: FindingSource | undefined }[] = [];
    for (const key of ctx.cfg.keys()) {
      if (key !== 'registry' && !/^@[^:]+:registry$/.test(key)) continue;
      const v = ctx.cfg.get(key);
      if (typeof v !== 'string') continue;
      const o = ctx.cfg.origin(key);
      urls.push({ key, value: v, where: where(ctx, o), source: sourceOf(o) });
    }
    if (fromPkg) {
      const source = pkgSource(ctx, 'registry', 'publishConfig');
      urls.push({
        key: 'publishConfig.registry',
        value: fromPkg,
        where: source ? `${displayPath(source.file, ctx.cfg.home)}:${source.line}` : 'package.json',
        source,
      });
    }
    for (const u of urls) {
      const gh = gitHubPackagesOfUrl(u.value);
      if (!gh?.owner) continue;
      const owner = `@${gh.owner.toLowerCase()}`;
      const scope = u.key.endsWith(':registry') ? u.key.slice(0, -':registry'.length) : undefined;
      const shown =
        u.key === 'publishConfig.registry' ? `"publishConfig": { "registry": "${u.value}" }` : `${u.key}=${u.value}`;
      let fix: string;
      if (u.key === 'registry')
        fix = `Write \`registry=${gh.url}\` and map the owner's scope: \`${owner}:registry=${gh.url}\`.`;
      else if (scope)
        fix = `Write \`${scope}:registry=${gh.url}\`${scope.toLowerCase() !== owner ? ` (packages of the owner ${gh.owner} are scoped \`${owner}\`: map \`${owner}:registry=${gh.url}\` for them)` : ''}.`;
      else
        fix = `Write \`"publishConfig": { "registry": "${gh.url}" }\` (or drop it) and map the owner's scope in .npmrc: \`${owner}:registry=${gh.url}\`.`;
      out.push(
        makeFinding('github-packages-config', {
          severity: ctx.client === 'pnpm' ? 'error' : 'warning',
          registry: u.value,
          message: `\`${shown}\` (${u.where}) appends the owner to the GitHub Packages URL: that is not the documented form (the owner comes from the package scope), and pnpm cannot use it (pnpm/pnpm #2933).`,
          fix,
          source: u.source,
        }),
      );
    }
    // The package this project publishes: with --publish, or when publishConfig.registry says where it goes.
    const name = typeof pkg?.name === 'string' ? (pkg.name as string) : undefined;
    const target = ctx.opts.publish ? ctx.publishRegistry : pkg?.private === true ? undefined : fromPkg;
    const gh = gitHubPackagesOfUrl(target);
    if (name && gh) {
      const scope = /^(@[^/]+)\//.exec(name)?.[1];
      const owner = gh.owner ? `@${gh.owner.toLowerCase()}` : undefined;
      if (!scope) {
        const o = owner ?? '@<owner>';
        out.push(
          makeFinding('github-packages-config', {
            registry: target,
            message: `package.json names the package "${name}", unscoped, and it would be published to GitHub Packages (${target}): GitHub Packages only hosts packages scoped to their owner (\`@owner/name\`), so the publish is refused.`,
            fix: `Rename it to \`${o}/${name}\`${owner ? '' : ' (the lowercase GitHub user or organization that owns it)'} and map the scope in .npmrc: \`${o}:registry=${gh.url}\`.`,
            source: pkgSource(ctx, 'name'),
          }),
        );
      } else if (owner && scope.toLowerCase() !== owner) {
        out.push(
          makeFinding('github-packages-config', {
            registry: target,
            message: `package.json's "${name}" would be published to GitHub Packages (${target}), which names the owner ${gh.owner}: GitHub Packages needs the package scoped to its owner, \`${owner}\`, not \`${scope}\`.`,
            fix: `Rename it to \`${owner}/${name.slice(scope.length + 1)}\` and map \`${owner}:registry=${gh.url}\` (or, if ${scope.slice(1)} is the owner, write \`${scope}:registry=${gh.url}\`).`,
            source: pkgSource(ctx, 'name'),
          }),
        );
      }
    }
    return out;
  },
};

export const vendorRules: Rule[] = [azureArtifactsCredentials, gitHubPackagesConfig];
