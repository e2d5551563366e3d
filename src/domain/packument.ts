// Builds the full and abbreviated ("corgi") packuments from stored state, once per write. The bytes
// carry a placeholder where the registry's public URL goes, so one stored document serves any base URL.
import { createHash } from 'node:crypto';

/** Where the registry's base URL goes in stored packument text (as it appears after JSON.stringify). */
export const BASE_PLACEHOLDER = '\u0001tessera-base\u0001';
export const BASE_PLACEHOLDER_JSON = JSON.stringify(BASE_PLACEHOLDER).slice(1, -1);

export type Manifest = Record<string, unknown> & { name: string; version: string };

export type VersionState = {
  version: string;
  manifest: Manifest;
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

function dist(name: string, v: VersionState): Record<string, unknown> {
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

export function render(state: PackageState): Rendered {
  const versions: Record<string, unknown> = {};
  const abbrevVersions: Record<string, unknown> = {};
  const time: Record<string, string> = { created: iso(state.createdAt), modified: iso(state.modifiedAt) };
  const sorted = [...state.versions];
  for (const u of state.unpublished) time[u.version] = iso(u.publishedAt);
  for (const v of sorted) {
    const { readme: _readme, readmeFilename: _rf, _attachments: _a, ...rest } = v.manifest;
    const full: Record<string, unknown> = { ...rest, _id: `${state.name}@${v.version}`, dist: dist(state.name, v) };
    if (v.publisher) full._npmUser = v.publisher;
    full.maintainers = state.maintainers;
    if (v.deprecated) full.deprecated = v.deprecated;
    else delete full.deprecated;
    versions[v.version] = full;
    time[v.version] = iso(v.publishedAt);

    const ab: Record<string, unknown> = {};
    for (const f of ABBREVIATED_FIELDS) if (v.manifest[f] !== undefined) ab[f] = v.manifest[f];
    ab.dist = full.dist;
    if (v.deprecated) ab.deprecated = v.deprecated;
    if (hasInstallScript(v.manifest)) ab.hasInstallScript = true;
    abbrevVersions[v.version] = ab;
  }
  const latest = state.versions.find((v) => v.version === state.distTags.latest) ?? state.versions.at(-1);
  const readme = typeof latest?.manifest.readme === 'string' ? latest.manifest.readme : '';
  const contentHash = createHash('sha256').update(JSON.stringify([versions, state.distTags, state.maintainers, state.stars, time]))
    .digest('hex').slice(0, 32);
  const doc: Record<string, unknown> = {
    _id: state.name,
    _rev: `${state.rev}-${contentHash}`,
    name: state.name,
    'dist-tags': state.distTags,
    versions,
    time,
    maintainers: state.maintainers,
    users: Object.fromEntries(state.stars.map((s) => [s, true])),
  };
  if (latest) for (const f of HOISTED_FIELDS) if (latest.manifest[f] !== undefined) doc[f] = latest.manifest[f];
  if (readme) doc.readme = readme;
  if (typeof latest?.manifest.readmeFilename === 'string') doc.readmeFilename = latest.manifest.readmeFilename;
  const abbrev = { name: state.name, modified: time.modified, 'dist-tags': state.distTags, versions: abbrevVersions };
  return { doc: JSON.stringify(doc), abbrev: JSON.stringify(abbrev), etag: `"${state.rev}-${contentHash}"`, readme };
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
