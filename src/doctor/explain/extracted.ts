// What the parsers take from pasted output: the facts the ranking weighs and the fixes quote.

export type Client = 'npm' | 'pnpm' | 'yarn1' | 'berry' | 'bun';

export interface Extracted {
  code?: string;
  method?: string;
  url?: string;
  status?: number;
  /** The registry's `error` text (after "- METHOD url - "), or a vendor's body text. */
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
  client: Client;
  npmVersion?: string;
  command?: string;
  /** The command line the user typed, when the paste shows it (`$ npm install --registry …`). */
  commandLine?: string;
  /** A package spec npm names without a URL (`401 Unauthorized: @scope/pkg@^1.0.0`). */
  spec?: string;
  noAuthForUri?: { uri: string; scopedKey?: string };
  networkReason?: string;
  /** pnpm: "No authorization header was set" (false: "An authorization header was used"). */
  pnpmNoAuthHeader?: boolean;
  /** Registry URLs the client says are configured (pnpm's "These authorization settings were found"). */
  configuredRegistries: string[];
  configFiles: string[];
  /** npm printed `npm ERR!` (npm ≤ 10), not `npm error`. */
  errBang?: boolean;
  lines: string[];
}

export function hostOf(url?: string): string {
  try {
    return url ? new URL(url).host : '<registry host>';
  } catch {
    return '<registry host>';
  }
}

export function origin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/`;
  } catch {
    return url;
  }
}

/** The package a URL or spec names: `@scope/name` or `name`; a tarball's file name is never the package. */
export function pkgFrom(x: Extracted): string {
  if (x.url) {
    try {
      const path = decodeURIComponent(new URL(x.url).pathname);
      // Tarballs: …/<name>/-/<file>.tgz, GitHub's …/download/<@scope/name>/<version>/<hash>.
      const dl = /\/download\/(@[^/]+\/[^/]+|[^/@][^/]*)\//.exec(path);
      if (dl) return dl[1];
      const tgz = /\/((?:@[^/]+\/)?[^/]+)\/-\/[^/]+\.tgz$/.exec(path);
      if (tgz) return tgz[1];
      // npm's write API names the package after /-/package/ (dist-tags, access, collaborators); other /-/
      // endpoints (whoami, tokens, login, search) name none: their last segment is not a package.
      const api = /\/-\/package\/((?:@[^/]+\/)?[^/]+)(?:\/|$)/.exec(path);
      if (api) return api[1];
      if (!path.includes('/-/')) {
        const scoped = /\/(@[^/]+\/[^/]+)\/?$/.exec(path);
        if (scoped) return scoped[1];
        const last = path.split('/').filter(Boolean).pop();
        if (last && !last.startsWith('-') && !last.endsWith('.tgz')) return last;
      }
    } catch {
      /* fall through to the spec */
    }
  }
  const spec = x.spec ? /^(@[^/@]+\/[^@]+|[^@]+)/.exec(x.spec)?.[1] : undefined;
  return spec ?? '<package>';
}

export function isScoped(x: Extracted): boolean {
  return pkgFrom(x).startsWith('@') || Boolean(x.url && /\/@[^/]+(%2[fF]|\/)/.test(x.url));
}

export function isTarball(x: Extracted): boolean {
  const u = x.url ?? x.pkgidUrl ?? '';
  return (
    /\.tgz(?:$|\?)/.test(u) || /npm\.pkg\.github\.com\/download\//.test(u) || /__archiveUrl=/.test(x.lines.join('\n'))
  );
}
