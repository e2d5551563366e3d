// Trusted publishing: a package's trust configurations, and whether an OIDC id token's claims match
// one. Pure; the signature, issuer, audience and times are checked before this (services/oidc.ts).

export type TrustType = 'github' | 'gitlab' | 'circleci' | 'generic';
export const TRUST_PERMISSIONS = ['createPackage', 'createStagedPackage'] as const;
export type TrustPermission = (typeof TRUST_PERMISSIONS)[number];

/** A claim rule: an exact string, a list the claim must contain, or `{file}`: the file name inside a ref claim. */
export type ClaimRule = string | string[] | { file: string };

export type TrustConfig = {
  id: string;
  type: TrustType;
  /** For `generic`, the configured issuer's name; built-in types use their own issuer. */
  issuer: string | null;
  claims: Record<string, ClaimRule>;
  permissions: TrustPermission[];
};

/** The file name inside a ref claim: `o/r/.github/workflows/publish.yml@refs/heads/main` → `publish.yml`. */
export function fileOfRef(ref: string): string {
  const path = ref.split('@')[0];
  return path.slice(path.lastIndexOf('/') + 1);
}

const CIRCLE = 'oidc.circleci.com/';

/** The claims each built-in type must configure, and how a token's claim is compared. */
export const REQUIRED_CLAIMS: Record<Exclude<TrustType, 'generic'>, string[]> = {
  github: ['repository', 'workflow_ref'],
  gitlab: ['project_path', 'ci_config_ref_uri'],
  circleci: [`${CIRCLE}org-id`, `${CIRCLE}project-id`, `${CIRCLE}pipeline-definition-id`, `${CIRCLE}vcs-origin`],
};

export type Mismatch = { claim: string; got: string };

function asText(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined ? '(missing)' : JSON.stringify(v);
}

/** Claims whose values GitHub treats without case: owner and repository names, environment names. The id token
 *  spells them as GitHub shows them, `npm trust github` as the person typed them; both name the same thing.
 *  A workflow's file name is a path in the repository, whose case matters, and is compared exactly. */
const CASELESS: Partial<Record<TrustType, ReadonlySet<string>>> = {
  github: new Set(['repository', 'repository_owner', 'environment']),
};

/** The first claim that does not match, or null when every configured rule holds. Matching is exact and
 *  case-sensitive, but for the claims the provider itself compares without case (CASELESS). */
export function firstMismatch(config: TrustConfig, claims: Record<string, unknown>): Mismatch | null {
  for (const [name, rule] of Object.entries(config.claims)) {
    const caseless = CASELESS[config.type]?.has(name) ?? false;
    const same = (a: unknown, b: string) =>
      typeof a === 'string' && (caseless ? a.toLowerCase() === b.toLowerCase() : a === b);
    const got = claims[name];
    if (typeof rule === 'string') {
      if (!same(got, rule)) return { claim: name, got: asText(got) };
    } else if (Array.isArray(rule)) {
      // An empty list would match every token; configProblem refuses it, and so does matching.
      if (rule.length === 0) return { claim: name, got: asText(got) };
      const have: unknown[] = Array.isArray(got) ? got : typeof got === 'string' ? [got] : [];
      const missing = rule.find((r) => !have.some((h) => same(h, r)));
      if (missing !== undefined) return { claim: name, got: asText(got) };
    } else if (rule && typeof rule === 'object' && typeof rule.file === 'string') {
      if (typeof got !== 'string' || fileOfRef(got) !== rule.file) return { claim: name, got: asText(got) };
    } else {
      return { claim: name, got: asText(got) };
    }
  }
  return null;
}

/** Validates a configuration as `npm trust` (or an administrator) sends it. Returns a problem, or null. */
export function configProblem(c: {
  type?: unknown;
  claims?: unknown;
  permissions?: unknown;
  issuer?: unknown;
}): string | null {
  if (!['github', 'gitlab', 'circleci', 'generic'].includes(c.type as string))
    return 'type must be github, gitlab, circleci or generic';
  if (!c.claims || typeof c.claims !== 'object' || Array.isArray(c.claims)) return 'claims must be an object';
  const claims = c.claims as Record<string, unknown>;
  for (const [k, v] of Object.entries(claims)) {
    // An empty list or file name would match any token: the claim would be configured in name only.
    if (Array.isArray(v) && v.length === 0) return `claim ${k} is an empty list, which would match any id token`;
    const ok =
      (typeof v === 'string' && v.length > 0) ||
      (Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0)) ||
      (v !== null &&
        typeof v === 'object' &&
        !Array.isArray(v) &&
        typeof (v as { file?: unknown }).file === 'string' &&
        (v as { file: string }).file.length > 0);
    if (!ok) return `claim ${k} must be a non-empty string, a list of non-empty strings or {file}`;
  }
  if (c.type === 'generic') {
    if (typeof c.issuer !== 'string' || !c.issuer) return 'a generic configuration names its issuer';
    if (Object.keys(claims).length === 0) return 'a generic configuration needs at least one claim rule';
  } else {
    const missing = REQUIRED_CLAIMS[c.type as Exclude<TrustType, 'generic'>].filter((k) => !(k in claims));
    if (missing.length) return `claims ${missing.join(', ')} are required for ${String(c.type)}`;
  }
  if (
    !Array.isArray(c.permissions) ||
    c.permissions.length === 0 ||
    !c.permissions.every((p) => (TRUST_PERMISSIONS as readonly string[]).includes(p))
  ) {
    return `permissions must list ${TRUST_PERMISSIONS.join(' and/or ')}`;
  }
  return null;
}
