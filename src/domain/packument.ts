// Builds the full and abbreviated ("corgi") packuments from stored state, once per write. The bytes
// carry a placeholder where the registry's public URL goes, so one stored document serves any base URL.
import { createHash } from 'node:crypto';
import { escapeName } from './names.ts';

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

const ABBREVIATED_FIELDS = [
  'name',
  'version',
  'dependencies',
  'optionalDependencies',
  'devDependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'bundleDependencies',
  'bundledDependencies',
  'bin',
  'directories',
  'engines',
  'os',
  'cpu',
  'libc',
  'funding',
  '_hasShrinkwrap',
  'acceptDependencies',
] as const;

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
    d.attestations = {
      url: `${BASE_PLACEHOLDER}/${v.attestationsUrl}`,
      provenance: { predicateType: 'https://slsa.dev/provenance/v1' },
    };
  }
  return d;
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
    readme: _readme,
    readmeFilename: _rf,
    _attachments: _a,
    deprecated: _d,
    _npmUser: _u,
    maintainers: _m,
    ...rest
  } = m;
  const d = dist(name, { ...v, manifest: m });
  const full = JSON.stringify({ ...rest, _id: `${name}@${v.version}`, dist: d }).slice(0, -1);
  const ab: Record<string, unknown> = {};
  for (const f of ABBREVIATED_FIELDS) if (m[f] !== undefined) ab[f] = m[f];
  ab.dist = d;
  const made: Fragments = {
    stamp,
    full,
    abbrev: JSON.stringify(ab).slice(0, -1),
    installScript: hasInstallScript(m),
    published: iso(v.publishedAt),
  };
  if (fragmentChars > MAX_FRAGMENT_CHARS) {
    fragmentCache.clear();
    fragmentChars = 0;
  }
  fragmentCache.set(key, made);
  fragmentChars += full.length + made.abbrev.length;
  return made;
}

export const member = (key: string, value: unknown) => `,${JSON.stringify(key)}:${JSON.stringify(value)}`;

/**
 * How the documents are stored, so that a write touching one version splices text (packument-splice.ts)
 * instead of putting thousands of versions together again, and writes kilobytes instead of megabytes: a
 * shell (the documents with the versions' text cut out at `at` and `abAt`) and the versions' text in
 * chunks of a few dozen kilobytes, in order.
 */
export type Layout = {
  /** The documents this describes: a stored layout is used only while the package's ETag is this one. */
  etag: string;
  /** Where the versions' text goes in the shell of the full and of the abbreviated document. */
  at: number;
  abAt: number;
  /** Live versions, and how many `time` entries after `created` and `modified` are unpublished ones. */
  count: number;
  unpublished: number;
  /** XOR of each live version's digest (versionDigest): the versions' part of the content hash, which an
   *  append or removal updates without reading the other versions. */
  digest: string;
};

/** Consecutive versions' text: entries joined by commas, and each entry's version and lengths. */
export type Chunk = { seq: number; full: string; abbrev: string; versions: [string, number, number][] };

export type Shell = { doc: string; abbrev: string; layout: Layout };

export type RenderedWithLayout = Rendered & { shell: Shell; chunks: Chunk[] };

/** A chunk takes versions until its full text passes this many characters. */
export const CHUNK_CHARS = 48 * 1024;

/** The whole documents from a shell and all its chunks (in `seq` order). */
export function joinChunks(shell: Shell, chunks: Chunk[]): { doc: string; abbrev: string } {
  const { at, abAt } = shell.layout;
  return {
    doc: shell.doc.slice(0, at) + chunks.map((c) => c.full).join(',') + shell.doc.slice(at),
    abbrev: shell.abbrev.slice(0, abAt) + chunks.map((c) => c.abbrev).join(',') + shell.abbrev.slice(abAt),
  };
}

/** A version's text in both documents (`"1.0.0":{…}`), the same in a full render and in a splice. */
export function versionEntries(
  name: string,
  v: VersionState,
  maintainersJson: string,
  npmUser: string,
): { full: string; abbrev: string } {
  const f = fragmentsOf(name, v);
  const key = JSON.stringify(v.version);
  const deprecated = v.deprecated ? member('deprecated', v.deprecated) : '';
  return {
    full: `${key}:${f.full}${npmUser},"maintainers":${maintainersJson}${deprecated}}`,
    abbrev: `${key}:${f.abbrev}${deprecated}${f.installScript ? ',"hasInstallScript":true' : ''}}`,
  };
}

export function versionDigest(fullEntry: string): Buffer {
  return createHash('sha256').update(fullEntry).digest().subarray(0, 16);
}

export function xorInto(acc: Buffer, d: Buffer): void {
  for (let i = 0; i < acc.length; i++) acc[i] ^= d[i];
}

/** What a document's shell is made of; render() and the splices share this step. */
export type Parts = {
  name: string;
  rev: number;
  distTags: Record<string, string>;
  maintainersJson: string;
  stars: string[];
  /** The `time` object as JSON, and its `modified` entry (the abbreviated document's `modified`). */
  timeJson: string;
  modified: string;
  unpublished: number;
  count: number;
  digest: Buffer;
  latest: Manifest | null;
};

export function shellOf(p: Parts): Shell & { etag: string; readme: string } {
  const distTagsJson = JSON.stringify(p.distTags);
  const { timeJson } = p;
  const usersJson = JSON.stringify(Object.fromEntries(p.stars.map((s) => [s, true])));
  const digest = p.digest.toString('hex');
  const contentHash = createHash('sha256')
    .update(digest)
    .update(distTagsJson)
    .update(p.maintainersJson)
    .update(usersJson)
    .update(timeJson)
    .digest('hex')
    .slice(0, 32);
  const lm = p.latest;
  const readme = typeof lm?.readme === 'string' ? lm.readme : '';
  let tail = '';
  if (lm) for (const f of HOISTED_FIELDS) if (lm[f] !== undefined) tail += member(f, lm[f]);
  if (readme) tail += member('readme', readme);
  if (typeof lm?.readmeFilename === 'string') tail += member('readmeFilename', lm.readmeFilename);
  const nameJson = JSON.stringify(p.name);
  const head =
    `{"_id":${nameJson},"_rev":${JSON.stringify(`${p.rev}-${contentHash}`)},"name":${nameJson}` +
    `,"dist-tags":${distTagsJson},"versions":{`;
  const abHead =
    `{"name":${nameJson},"modified":${JSON.stringify(p.modified)}` + `,"dist-tags":${distTagsJson},"versions":{`;
  const etag = `"${p.rev}-${contentHash}"`;
  return {
    doc: `${head}},"time":${timeJson},"maintainers":${p.maintainersJson},"users":${usersJson}${tail}}`,
    abbrev: `${abHead}}}`,
    etag,
    readme,
    layout: { etag, at: head.length, abAt: abHead.length, count: p.count, unpublished: p.unpublished, digest },
  };
}

/** Versions' entries cut into chunks, numbered from `seq`: a chunk takes versions until it passes chunkChars. */
export function chunksOf(
  versions: string[],
  full: string[],
  abbrev: string[],
  seq = 0,
  chunkChars = CHUNK_CHARS,
): Chunk[] {
  const out: Chunk[] = [];
  for (let from = 0; from < versions.length; ) {
    let to = from;
    for (let size = 0; to < versions.length && size < chunkChars; to++) size += full[to].length;
    out.push({
      seq: seq++,
      full: full.slice(from, to).join(','),
      abbrev: abbrev.slice(from, to).join(','),
      versions: versions
        .slice(from, to)
        .map((v, i): [string, number, number] => [v, full[from + i].length, abbrev[from + i].length]),
    });
    from = to;
  }
  return out;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** One `_npmUser` member per publisher, made once per write. */
export function npmUsers(): (p: { name: string; email: string } | null) => string {
  const made = new Map<string, string>();
  return (p) => {
    if (!p) return '';
    const k = `${p.name}\0${p.email}`;
    let j = made.get(k);
    if (j === undefined) {
      j = member('_npmUser', p);
      made.set(k, j);
    }
    return j;
  };
}

export function render(state: PackageState, chunkChars = CHUNK_CHARS): RenderedWithLayout {
  const time: Record<string, string> = { created: iso(state.createdAt), modified: iso(state.modifiedAt) };
  for (const u of state.unpublished) time[u.version] = iso(u.publishedAt);
  const maintainersJson = JSON.stringify(state.maintainers);
  const npmUser = npmUsers();
  const full: string[] = [];
  const abbrev: string[] = [];
  const digest = Buffer.alloc(16);
  for (const v of state.versions) {
    const e = versionEntries(state.name, v, maintainersJson, npmUser(v.publisher));
    full.push(e.full);
    abbrev.push(e.abbrev);
    xorInto(digest, versionDigest(e.full));
    time[v.version] = fragmentsOf(state.name, v).published;
  }
  const latest = state.versions.find((v) => v.version === state.distTags.latest) ?? state.versions.at(-1);
  if (latest && !latest.manifest) {
    throw new Error(`render: the manifest of ${state.name}@${latest.version} (latest) was not loaded`);
  }
  const { etag, readme, ...shell } = shellOf({
    name: state.name,
    rev: state.rev,
    distTags: state.distTags,
    maintainersJson,
    stars: state.stars,
    timeJson: JSON.stringify(time),
    modified: time.modified,
    unpublished: state.unpublished.length,
    count: state.versions.length,
    digest,
    latest: latest?.manifest ?? null,
  });
  const chunks = chunksOf(
    state.versions.map((v) => v.version),
    full,
    abbrev,
    0,
    chunkChars,
  );
  return { ...joinChunks(shell, chunks), etag, readme, shell, chunks };
}

/** An upstream registry's full packument, re-pointed at this registry: tarball and provenance URLs are
 *  rewritten and the original tarball URLs returned, so tarballs can be fetched and cached on demand. */
export function renderProxied(
  upstream: Record<string, unknown>,
  name: string,
): Rendered & { tarballs: Record<string, { url: string; integrity?: string }> } {
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
    // Provenance is asked of this registry too, which forwards it (a client must not leave the registry it
    // was given, and cannot in a closed network).
    const att = d.attestations as Record<string, unknown> | null | undefined;
    if (att && typeof att === 'object' && typeof att.url === 'string') {
      d.attestations = { ...att, url: `${BASE_PLACEHOLDER}/-/npm/v1/attestations/${escapeName(name)}@${v}` };
    }
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
  const abbrev = {
    name,
    modified: time.modified ?? new Date(0).toISOString(),
    'dist-tags': upstream['dist-tags'] ?? {},
    versions: abbrevVersions,
  };
  const docText = JSON.stringify(doc);
  const etag = `"p-${createHash('sha256').update(docText).digest('hex').slice(0, 32)}"`;
  return {
    doc: docText,
    abbrev: JSON.stringify(abbrev),
    etag,
    readme: typeof upstream.readme === 'string' ? upstream.readme : '',
    tarballs,
  };
}
