// Builds the full and abbreviated ("corgi") packuments from stored state, once per write. The bytes
// carry a placeholder where the registry's public URL goes, so one stored document serves any base URL.
import { createHash } from 'node:crypto';

/** Where the registry's base URL goes in stored packument text (as it appears after JSON.stringify). */
export const BASE_PLACEHOLDER = '\u0001tessera-base\u0001';
export const BASE_PLACEHOLDER_JSON = JSON.stringify(BASE_PLACEHOLDER).slice(1, -1);

export type Manifest = Record<string, unknown> & { name: string; version: string };

export type VersionState = {
  version: string;
  /** The stored manifest; null when its rendered fragments are cached (see cachedFragments) and it was not loaded. */
  manifest: Manifest | null;
  integrity: string;
  shasum: string;
  size: number;
  publishedAt: number;
  publisher: { name: string; email: string } | null;
  deprecated: string | null;
  attestationsUrl?: string;
};

export type PackageState = {
  name: string;
  rev: number;
  createdAt: number;
  modifiedAt: number;
  distTags: Record<string, string>;
  versions: VersionState[];
  /** Versions that were unpublished: kept in `time`, never served. */
  unpublished: { version: string; publishedAt: number }[];
  maintainers: { name: string; email: string }[];
  stars: string[];
};

const ABBREVIATED_FIELDS = ['name', 'version', 'dependencies', 'optionalDependencies', 'devDependencies', 'peerDependencies',
  'peerDependenciesMeta', 'bundleDependencies', 'bundledDependencies', 'bin', 'directories', 'engines', 'os', 'cpu', 'libc',
  'funding', '_hasShrinkwrap', 'acceptDependencies'] as const;

const HOISTED_FIELDS = ['description', 'homepage', 'keywords', 'repository', 'author', 'bugs', 'license'] as const;

export function tarballPath(name: string, version: string): string {
  const base = name.startsWith('@') ? name.slice(name.indexOf('/') + 1) : name;
  return `${name}/-/${base}-${version}.tgz`;
}

function hasInstallScript(m: Manifest): boolean {
  const s = m.scripts as Record<string, unknown> | undefined;
  return Boolean(s && (s.preinstall || s.install || s.postinstall));
}

function dist(name: string, v: VersionState & { manifest: Manifest }): Record<string, unknown> {
  const d: Record<string, unknown> = {
    integrity: v.integrity,
    shasum: v.shasum,
    tarball: `${BASE_PLACEHOLDER}/${tarballPath(name, v.version)}`,
  };
  const fromManifest = v.manifest.dist as Record<string, unknown> | undefined;
  if (fromManifest?.fileCount !== undefined) d.fileCount = fromManifest.fileCount;
  if (fromManifest?.unpackedSize !== undefined) d.unpackedSize = fromManifest.unpackedSize;
  if (v.attestationsUrl) {
    d.attestations = { url: `${BASE_PLACEHOLDER}/${v.attestationsUrl}`, provenance: { predicateType: 'https://slsa.dev/provenance/v1' } };
  }
  return d;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export type Rendered = { doc: string; abbrev: string; etag: string; readme: string };

// A version's part of the documents depends only on what was published (versions are never re-published
// or edited), except for its deprecation, its publisher's name and e-mail and the package's maintainers,
// which are added when the documents are put together. So each version's part is made once, kept here,
// and a write to a package of thousands of versions joins text instead of parsing and serializing them
// all. The JSON texts lack their closing brace, for those additions.
// An entry is used only for the same tarball published at the same time (several stores in one process,
// as in tests, may hold the same name and version).
type Fragments = { stamp: string; full: string; abbrev: string; installScript: boolean; published: string };
const fragmentCache = new Map<string, Fragments>();
let fragmentChars = 0;
const MAX_FRAGMENT_CHARS = 64 * 1024 * 1024;

/** True when a version's fragments are cached, so render() does not need its manifest. */
export function hasCachedFragments(name: string, version: string, integrity: string, publishedAt: number): boolean {
  return fragmentCache.get(`${name}\0${version}`)?.stamp === `${integrity} ${publishedAt}`;
}

function fragmentsOf(name: string, v: VersionState): Fragments {
  const key = `${name}\0${v.version}`;
  const stamp = `${v.integrity} ${v.publishedAt}`;
  const hit = fragmentCache.get(key);
  if (hit && hit.stamp === stamp) return hit;
  const m = v.manifest;
  if (!m) throw new Error(`render: the manifest of ${name}@${v.version} was not loaded and is not cached`);
  const {
    readme: _readme, readmeFilename: _rf, _attachments: _a, deprecated: _d, _npmUser: _u, maintainers: _m, ...rest
  } = m;
  const d = dist(name, { ...v, manifest: m });
  const full = JSON.stringify({ ...rest, _id: `${name}@${v.version}`, dist: d }).slice(0, -1);
  const ab: Record<string, unknown> = {};
  for (const f of ABBREVIATED_FIELDS) if (m[f] !== undefined) ab[f] = m[f];
  ab.dist = d;
  const made: Fragments = {
    stamp, full, abbrev: JSON.stringify(ab).slice(0, -1), installScript: hasInstallScript(m), published: iso(v.publishedAt),
  };
  if (fragmentChars > MAX_FRAGMENT_CHARS) { fragmentCache.clear(); fragmentChars = 0; }
  fragmentCache.set(key, made);
  fragmentChars += full.length + made.abbrev.length;
  return made;
}

const member = (key: string, value: unknown) => `,${JSON.stringify(key)}:${JSON.stringify(value)}`;

export function render(state: PackageState): Rendered {
  const time: Record<string, string> = { created: iso(state.createdAt), modified: iso(state.modifiedAt) };
  for (const u of state.unpublished) time[u.version] = iso(u.publishedAt);
  const maintainersJson = JSON.stringify(state.maintainers);
  const publishers = new Map<string, string>();
  const npmUser = (p: { name: string; email: string }) => {
    const k = `${p.name}\0${p.email}`;
    let j = publishers.get(k);
    if (j === undefined) { j = member('_npmUser', p); publishers.set(k, j); }
    return j;
  };
  const full: string[] = [];
  const abbrev: string[] = [];
  for (const v of state.versions) {
    const f = fragmentsOf(state.name, v);
    const key = JSON.stringify(v.version);
    const deprecated = v.deprecated ? member('deprecated', v.deprecated) : '';
    full.push(`${key}:${f.full}${v.publisher ? npmUser(v.publisher) : ''},"maintainers":${maintainersJson}${deprecated}}`);
    abbrev.push(`${key}:${f.abbrev}${deprecated}${f.installScript ? ',"hasInstallScript":true' : ''}}`);
    time[v.version] = f.published;
  }
  const versionsJson = `{${full.join(',')}}`;
  const distTagsJson = JSON.stringify(state.distTags);
  const timeJson = JSON.stringify(time);
  const usersJson = JSON.stringify(Object.fromEntries(state.stars.map((s) => [s, true])));
  const contentHash = createHash('sha256').update(versionsJson).update(distTagsJson).update(maintainersJson).update(usersJson).update(timeJson)
    .digest('hex').slice(0, 32);
  const latest = state.versions.find((v) => v.version === state.distTags.latest) ?? state.versions.at(-1);
  const lm = latest?.manifest ?? null;
  if (latest && !lm) throw new Error(`render: the manifest of ${state.name}@${latest.version} (latest) was not loaded`);
  const readme = typeof lm?.readme === 'string' ? lm.readme : '';
  let tail = '';
  if (lm) for (const f of HOISTED_FIELDS) if (lm[f] !== undefined) tail += member(f, lm[f]);
  if (readme) tail += member('readme', readme);
  if (typeof lm?.readmeFilename === 'string') tail += member('readmeFilename', lm.readmeFilename);
  const nameJson = JSON.stringify(state.name);
  const doc = `{"_id":${nameJson},"_rev":${JSON.stringify(`${state.rev}-${contentHash}`)},"name":${nameJson},"dist-tags":${distTagsJson}` +
    `,"versions":${versionsJson},"time":${timeJson},"maintainers":${maintainersJson},"users":${usersJson}${tail}}`;
  const abbrevDoc = `{"name":${nameJson},"modified":${JSON.stringify(time.modified)},"dist-tags":${distTagsJson},"versions":{${abbrev.join(',')}}}`;
  return { doc, abbrev: abbrevDoc, etag: `"${state.rev}-${contentHash}"`, readme };
}

/** An upstream registry's full packument, re-pointed at this registry: tarball URLs are rewritten and
 *  the originals returned, so tarballs can be fetched and cached on demand. */
export function renderProxied(upstream: Record<string, unknown>, name: string):
  Rendered & { tarballs: Record<string, { url: string; integrity?: string }> } {
  const versions = (upstream.versions ?? {}) as Record<string, Record<string, unknown>>;
  const tarballs: Record<string, { url: string; integrity?: string }> = {};
  const abbrevVersions: Record<string, unknown> = {};
  const outVersions: Record<string, unknown> = {};
  for (const [v, m] of Object.entries(versions)) {
    const d = { ...((m.dist ?? {}) as Record<string, unknown>) };
    if (typeof d.tarball === 'string') {
      tarballs[v] = { url: d.tarball, integrity: typeof d.integrity === 'string' ? d.integrity : undefined };
    }
    d.tarball = `${BASE_PLACEHOLDER}/${tarballPath(name, v)}`;
    const full = { ...m, dist: d };
    outVersions[v] = full;
    const ab: Record<string, unknown> = {};
    for (const f of ABBREVIATED_FIELDS) if (m[f] !== undefined) ab[f] = m[f];
    ab.dist = d;
    if (m.deprecated) ab.deprecated = m.deprecated;
    if (hasInstallScript(m as Manifest)) ab.hasInstallScript = true;
    abbrevVersions[v] = ab;
  }
  const doc = { ...upstream, versions: outVersions };
  const time = (upstream.time ?? {}) as Record<string, string>;
  const abbrev = { name, modified: time.modified ?? new Date(0).toISOString(), 'dist-tags': upstream['dist-tags'] ?? {}, versions: abbrevVersions };
  const docText = JSON.stringify(doc);
  const etag = `"p-${createHash('sha256').update(docText).digest('hex').slice(0, 32)}"`;
  return { doc: docText, abbrev: JSON.stringify(abbrev), etag, readme: typeof upstream.readme === 'string' ? upstream.readme : '', tarballs };
}
