// Registry-specific credential quirks (reference §7.1, §7.2, rules R23/R24): GitHub Packages and Azure Artifacts.
import { makeFinding } from '../../domain/findings.ts';
import type { Finding } from '../../domain/findings.ts';
import type { DoctorContext } from '../context.ts';
import type { Origin } from '../npm-config.ts';
import { effectiveCredentials, keyHost, sourceOf, where } from './rule.ts';
import type { Rule } from './rule.ts';

/** GitHub Packages: github.com's npm.pkg.github.com, or GHE.com's npm.<subdomain>.ghe.com. */
export function isGitHubPackagesHost(host: string | undefined): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  return h === 'npm.pkg.github.com' || /^npm\.[a-z0-9-]+\.ghe\.com$/.test(h);
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
  if (decoded.length === 0 || decoded.some((b) => b < 0x21 || b > 0x7e)) return 'does not decode to a printable token (it looks like the raw PAT, not its base64)';
  return undefined;
}

export const GITHUB = {
  token: 'a classic personal access token with read:packages (write:packages to publish), authorized for SSO if the organization enforces it; fine-grained github_pat_ tokens are not accepted',
  line: (host: string) => `//${host}/:_authToken=\${NODE_AUTH_TOKEN}`,
};

/** The Azure fix (reference §7.2): base64 PAT in _password, any username and email, at both paths, or vsts-npm-auth. */
export function azureFix(base: string | undefined): string {
  const b = base ?? '//pkgs.dev.azure.com/<org>/_packaging/<feed>/npm/';
  return `Create a PAT with the Packaging (Read, and Write to publish) scope, base64 it (\`printf %s "$PAT" | base64 | tr -d '\\n'\`), and write in ~/.npmrc, for both \`${b}registry/\` and \`${b}\`: ` +
    '`:username=<any non-empty value>`, `:_password=<the base64 of the PAT>` and `:email=<any address>` ' +
    '(six lines in all) — or run `vsts-npm-auth -config .npmrc` (Windows), which writes them for you.';
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
    else if ((c.field === '_authToken' || c.field === '_auth') && c.value) lines.other = { field: c.field, origin: c.origin };
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
          out.push(makeFinding('azure-artifacts-credentials', {
            message: `\`${prefix}:_password\` (${where(ctx, l.password.origin)}) has no ${l.username ? 'non-empty ' : ''}\`${prefix}:username\` beside it, so npm sends no credential to this Azure Artifacts feed (401).`,
            fix, source: sourceOf(l.password.origin),
          }));
        } else if (!l.other && l.username?.value && !l.password?.value) {
          out.push(makeFinding('azure-artifacts-credentials', {
            message: `\`${prefix}:username\` (${where(ctx, l.username.origin)}) has no \`${prefix}:_password\` beside it, so npm sends no credential to this Azure Artifacts feed (401).`,
            fix, source: sourceOf(l.username.origin),
          }));
        }
        const pw = l.password?.value;
        if (pw && !pw.includes('${')) {
          const bad = passwordNotBase64(pw);
          if (bad) {
            out.push(makeFinding('azure-artifacts-credentials', {
              message: `\`${prefix}:_password\` (${where(ctx, l.password!.origin)}) ${bad}: npm base64-decodes _password before sending it, so Azure Artifacts receives garbage and answers 401.`,
              fix, source: sourceOf(l.password!.origin),
            }));
          }
        }
      }
      const feed = `${base}registry/`;
      const atFeed = paths.get(feed);
      const atBase = paths.get(base);
      if (has(atFeed) && !has(atBase)) {
        const o = atFeed!.password?.origin ?? atFeed!.username?.origin ?? atFeed!.other?.origin;
        out.push(makeFinding('azure-artifacts-credentials', {
          severity: 'warning',
          message: `The Azure Artifacts credential at ${where(ctx, o)} is keyed only at \`${feed}\`; the documented layout repeats the lines at \`${base}\`, and requests to the feed outside …/npm/registry/ carry no credential without them.`,
          fix, source: sourceOf(o),
        }));
      } else if (has(atBase) && !has(atFeed)) {
        const o = atBase!.password?.origin ?? atBase!.username?.origin ?? atBase!.other?.origin;
        const publishing = ctx.opts.publish && azureFeedOfUrl(ctx.publishRegistry) === base && sends(atBase);
        out.push(makeFinding('azure-artifacts-credentials', {
          severity: publishing ? 'error' : 'warning',
          message: `The Azure Artifacts credential at ${where(ctx, o)} is keyed only at \`${base}\`, not at \`${feed}\`: installs find it by walking up the path, but npm publish and npm whoami look up exactly \`${feed}\` and stop with ENEEDAUTH.`,
          fix, source: sourceOf(o),
        }));
      }
    }
    return out;
  },
};

export const vendorRules: Rule[] = [azureArtifactsCredentials];
