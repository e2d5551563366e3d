// The `family` label of request metrics: named after npm's command families, from the route's pattern
// (never from the URL, which carries package and user names and sometimes secrets).
import { parsePackagePath } from './package-path.ts';

const PREFIXES: [string, string][] = [
  ['/-/package/:pkg/dist-tags', 'dist-tags'],
  ['/-/package/:pkg/trust', 'trust'],
  ['/-/npm/v1/oidc/', 'trust'],
  ['/-/package/', 'access'],
  ['/-/npm/v1/tokens', 'tokens'],
  ['/-/npm/v1/hooks', 'hooks'],
  ['/-/npm/v1/user', 'profile'],
  ['/-/npm/v1/security/', 'audit'],
  ['/-/npm/v1/keys', 'audit'],
  ['/-/npm/v1/attestations/', 'attestations'],
  ['/-/tessera/v1/auth/explain', 'explain'],
  ['/-/tessera/v1/', 'accounts'],
  ['/-/user/', 'accounts'],
  ['/-/v1/login', 'accounts'],
  ['/-/whoami', 'accounts'],
  ['/-/org/', 'orgs'],
  ['/-/team/', 'orgs'],
  ['/-/stage', 'stage'],
  ['/-/v1/search', 'search'],
  ['/-/_view/', 'stars'],
  ['/-/help/', 'help'],
  ['/-/ping', 'ping'],
  ['/-/metrics', 'ops'],
  ['/-/healthz', 'ops'],
  ['/-/readyz', 'ops'],
];

const known = new Map<string, string>();

/** `pattern` is Fastify's route URL (undefined when no route matched); `url` is read only for `/*`. */
export function routeFamily(pattern: string | undefined, method: string, url: string, publishing: boolean): string {
  if (pattern === undefined) return 'unmatched';
  if (pattern === '/*') {
    if (method === 'PUT') return publishing ? 'publish' : 'package-write';
    if (method === 'DELETE') return 'unpublish';
    const kind = parsePackagePath(url)?.kind;
    return kind === 'tarball'
      ? 'tarball'
      : kind === 'version'
        ? 'version'
        : kind === 'document'
          ? 'packument'
          : 'other';
  }
  let family = known.get(pattern);
  if (family === undefined) {
    family = PREFIXES.find(([prefix]) => pattern.startsWith(prefix))?.[1] ?? 'other';
    if (known.size < 1000) known.set(pattern, family);
  }
  return family;
}
