// `tessera import verdaccio`: brings a Verdaccio storage folder and its htpasswd users into Tessera.
// Verdaccio keeps one folder per package (`<name>/package.json` and its tarballs, scoped ones under
// `@scope/`), lists what was published to it in `.verdaccio-db.json`, and marks what it only cached from
// an uplink in `_uplinks` and `_distfiles`. Each version is checked against its integrity before it is
// written; what is already here is left alone, so running it again changes nothing.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename as fileName, dirname, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import ssri from 'ssri';
import semver from 'semver';
import { parse as parseYaml } from 'yaml';
import { isReadableName, scopeOf } from '../domain/names.ts';
import { IMPORTED_PREFIX, parseHtpasswd } from '../domain/htpasswd.ts';
import { renderProxied } from '../domain/packument.ts';
import {
  importLocalPackage,
  importProxiedPackage,
  importTarget,
  packageOrigin,
  userIds,
  type ImportedVersion,
} from '../store/imports.ts';
import { userRowBy } from '../store/user-reads.ts';
import { pickLatest } from '../store/packages.ts';
import { createImportedUser } from './accounts.ts';
import { unpackedLimit } from '../config/config.ts';
import { readTarballManifest } from './tarball.ts';
import type { Ctx } from './context.ts';

export type ImportOptions = { storage: string; htpasswd?: string; config?: string; keepProxied?: boolean };
export type ImportLine = { what: 'user' | 'package' | 'version'; name: string; done: boolean; why?: string };
export type ImportReport = {
  lines: ImportLine[];
  users: number;
  packages: number;
  versions: number;
  skipped: number;
  /** Packages whose import failed with an error (not a reason to skip): the command exits 1. */
  failed: number;
};

type Doc = Record<string, unknown> & {
  versions?: Record<string, Record<string, unknown>>;
  time?: Record<string, string>;
  'dist-tags'?: Record<string, string>;
  _uplinks?: Record<string, { fetched?: number }>;
  _distfiles?: Record<string, { url?: string; registry?: string }>;
  users?: Record<string, unknown>;
  maintainers?: unknown;
  readme?: unknown;
};

/** One `packages:` rule of Verdaccio's config: a glob, and who may read and publish what it matches. */
type Rule = { re: RegExp; access: string[]; publish: string[] };

const words = (v: unknown): string[] =>
  (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(/\s+/) : []).filter(Boolean);

// Verdaccio matches rules with minimatch, first match wins: `**` spans slashes, `*` does not.
function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('**')
    .map((part) =>
      part
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*'),
    )
    .join('.*');
  return new RegExp(`^${body}$`);
}

function readConfig(file: string): { rules: Rule[]; htpasswd?: string } {
  let y: Record<string, unknown>;
  try {
    y = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch (e) {
    // The parser's message goes on with a code frame over several lines: its first line says where.
    throw new Error(`${file} is not valid YAML: ${(e as Error).message.split('\n')[0].replace(/:$/, '')}`);
  }
  const pkgs = (y.packages ?? {}) as Record<string, Record<string, unknown>>;
  // `allow` and `allow_publish` are Sinopia's words for them, which Verdaccio still adds in.
  const rules = Object.entries(pkgs).map(([glob, r]) => ({
    re: globToRegExp(glob),
    access: [...words(r?.allow), ...words(r?.access)],
    publish: [...words(r?.allow_publish), ...words(r?.publish)],
  }));
  const auth = (y.auth ?? {}) as { htpasswd?: { file?: string } };
  const htpasswd = auth.htpasswd?.file ? resolve(dirname(file), auth.htpasswd.file) : undefined;
  return { rules, htpasswd };
}

/** Every package folder under the storage: `name/package.json` and `@scope/name/package.json`. */
function packageFolders(storage: string): string[] {
  const names: string[] = [];
  for (const d of readdirSync(storage, { withFileTypes: true })) {
    if (!d.isDirectory() || d.name.startsWith('.')) continue;
    if (d.name.startsWith('@')) {
      for (const s of readdirSync(join(storage, d.name), { withFileTypes: true })) {
        if (s.isDirectory() && existsSync(join(storage, d.name, s.name, 'package.json')))
          names.push(`${d.name}/${s.name}`);
      }
    } else if (existsSync(join(storage, d.name, 'package.json'))) names.push(d.name);
  }
  return names.sort();
}

/** Whether `dir` is a Verdaccio storage folder: its list of packages, or a package folder in it. */
export function isVerdaccioStorage(dir: string): boolean {
  return (
    ['.verdaccio-db.json', '.sinopia-db.json'].some((f) => existsSync(join(dir, f))) || packageFolders(dir).length > 0
  );
}

const time = (iso: unknown, fallback: number) => {
  const t = typeof iso === 'string' ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(t) ? fallback : t;
};

export async function importVerdaccio(ctx: Ctx, opts: ImportOptions): Promise<ImportReport> {
  const report: ImportReport = { lines: [], users: 0, packages: 0, versions: 0, skipped: 0, failed: 0 };
  const say = (what: ImportLine['what'], name: string, done: boolean, why?: string) => {
    report.lines.push({ what, name, done, why });
    if (!done) report.skipped++;
  };
  const config = opts.config ? readConfig(opts.config) : { rules: [] as Rule[], htpasswd: undefined };
  const htpasswdFile = opts.htpasswd ?? config.htpasswd;

  if (htpasswdFile) {
    for (const u of parseHtpasswd(readFileSync(htpasswdFile, 'utf8'))) {
      // A hash no password matched in Verdaccio either is not kept: an administrator sets a password.
      const stored = u.algorithm === 'unknown' ? null : `${IMPORTED_PREFIX}${u.hash}`;
      const existing = await userRowBy(ctx.store.db, { name: u.name });
      if (existing) {
        say(
          'user',
          u.name,
          false,
          stored !== null && existing.password_hash === stored
            ? 'already imported'
            : 'a user of that name already exists',
        );
        continue;
      }
      // htpasswd keeps no e-mail address; the user sets one with `npm profile set email`.
      const r = await createImportedUser(ctx, {
        name: u.name,
        email: `${u.name}@users.invalid`,
        passwordHash: stored,
        via: 'verdaccio',
      });
      if (r.created) {
        report.users++;
        say(
          'user',
          u.name,
          true,
          stored === null
            ? "its hash is of no kind Verdaccio's htpasswd plugin checks (no login worked with it there either); " +
                `no password kept: set one with \`tessera user passwd ${u.name} --password-stdin\``
            : `${u.algorithm} hash, replaced at the first login`,
        );
      } else say('user', u.name, false, r.why);
    }
  }

  // Verdaccio keeps using the list of the Sinopia it began as, when there is one.
  const dbFile =
    ['.sinopia-db.json', '.verdaccio-db.json'].map((f) => join(opts.storage, f)).find((f) => existsSync(f)) ?? '';
  const listed = new Set(dbFile ? ((JSON.parse(readFileSync(dbFile, 'utf8')) as { list?: string[] }).list ?? []) : []);
  const folders = packageFolders(opts.storage);
  for (const name of listed)
    if (!folders.includes(name)) say('package', name, false, `listed in ${fileName(dbFile)} but its folder is missing`);

  for (const name of folders) {
    let doc: Doc;
    try {
      doc = JSON.parse(readFileSync(join(opts.storage, name, 'package.json'), 'utf8')) as Doc;
    } catch (e) {
      say('package', name, false, `package.json is not readable JSON (${(e as Error).message})`);
      continue;
    }
    if (doc.name !== name || !isReadableName(name)) {
      say('package', name, false, 'package.json names another package');
      continue;
    }
    const uplinks = Object.keys(doc._uplinks ?? {});
    // Without Verdaccio's list (a copy that left its dotfiles behind), a version whose tarball did not come
    // from the uplink (not in `_distfiles`) says the package was published there.
    const cachedOnly = uplinks.length > 0 && !listed.has(name) && (dbFile !== '' || !publishedThere(doc));
    if (cachedOnly) {
      if (opts.keepProxied) await keepProxied(ctx, opts.storage, name, doc, say);
      else say('package', name, false, `only cached from the uplink ${uplinks.join(', ')} (--keep-proxied keeps it)`);
      continue;
    }
    try {
      await importPackage(ctx, opts.storage, name, doc, config.rules, say, report);
    } catch (e) {
      // One package's transaction either landed whole or not at all: the others still come in.
      say('package', name, false, `failed: ${(e as Error).message}; nothing of it was imported`);
      report.failed++;
    }
  }
  return report;
}

type Say = (what: ImportLine['what'], name: string, done: boolean, why?: string) => void;

/** Whether a version of the document has a tarball Verdaccio did not fetch from an uplink. */
function publishedThere(doc: Doc): boolean {
  return Object.values(doc.versions ?? {}).some((m) => {
    const url = (m.dist as { tarball?: unknown } | undefined)?.tarball;
    return typeof url === 'string' && !doc._distfiles?.[fileName(new URL(url, 'x:/').pathname)];
  });
}

async function importPackage(
  ctx: Ctx,
  storage: string,
  name: string,
  doc: Doc,
  rules: Rule[],
  say: Say,
  report: ImportReport,
) {
  const rule = rules.find((r) => r.re.test(name));
  const isPublic = !rule || rule.access.some((a) => ['$all', '$anonymous', '@all', '@anonymous'].includes(a));
  // Who read it there, said in the report: here a restricted package is read by its maintainers and grantees.
  const readers = rule?.access.join(', ') || 'nobody';
  if (!isPublic && !scopeOf(name)) {
    say(
      'package',
      name,
      false,
      `Verdaccio let only ${readers} read it, and an unscoped package is public here: publish it under a scope`,
    );
    return;
  }
  const target = await importTarget(ctx.store.db, name);
  // A cached upstream copy gives way whole (importLocalPackage drops its versions): none of them counts here.
  if (target.head && target.head.origin !== 'local') target.versions.clear();
  if (target.head?.deleted_at != null) {
    say('package', name, false, 'it was unpublished on this registry');
    return;
  }
  const versions = doc.versions ?? {};
  const times = doc.time ?? {};
  const now = ctx.clock.now();
  if (
    target.head?.origin === 'local' &&
    ![...target.versions].some(([v, i]) => versions[v] && sameTarball(versions[v], i))
  ) {
    say('package', name, false, 'a package of that name was published on this registry');
    return;
  }
  const distfiles = doc._distfiles ?? {};
  const found: ImportedVersion[] = [];
  const valid = Object.entries(versions).filter(([version]) => {
    if (semver.valid(version) === version) return true;
    say('version', `${name}@${version}`, false, `"${version}" is not a version`);
    return false;
  });
  for (const [version, m] of valid.sort(([a], [b]) => semver.compare(a, b))) {
    const id = `${name}@${version}`;
    const dist = (m.dist ?? {}) as { tarball?: string; integrity?: string; shasum?: string };
    const file = fileName(new URL(dist.tarball ?? `x:/${version}.tgz`, 'x:/').pathname);
    if (distfiles[file]) {
      say('version', id, false, `cached from the uplink ${distfiles[file].registry ?? ''}`.trim());
      continue;
    }
    const known = target.versions.get(version);
    if (known !== undefined) {
      say(
        'version',
        id,
        false,
        sameTarball(m, known) ? 'already imported' : 'another tarball is published here as this version',
      );
      continue;
    }
    if (target.claims.get(version) === 'staged') {
      say('version', id, false, 'staged on this registry');
      continue;
    }
    const path = join(storage, name, file);
    if (!existsSync(path)) {
      say('version', id, false, `its tarball ${file} is missing`);
      continue;
    }
    const tgz = readFileSync(path);
    const shasum = createHash('sha1').update(tgz).digest('hex');
    const checked = dist.integrity ? ssri.checkData(tgz, dist.integrity) !== false : dist.shasum === shasum;
    if (!checked || (dist.shasum !== undefined && dist.shasum !== shasum)) {
      say('version', id, false, `${file} does not match its integrity`);
      continue;
    }
    const inner = await readTarballManifest(tgz, unpackedLimit(ctx.config)).catch(
      () => ({}) as Record<string, unknown>,
    );
    if (inner.name !== name || inner.version !== version) {
      say('version', id, false, `${file} holds another package`);
      continue;
    }
    const manifest: Record<string, unknown> = { ...m, dist: { ...dist, tarball: undefined } };
    delete manifest._attachments;
    const publisher = (m._npmUser as { name?: string } | undefined)?.name;
    found.push({
      version,
      manifest,
      integrity: ssri.fromData(tgz, { algorithms: ['sha512'] }).toString(),
      shasum,
      size: tgz.length,
      blob: await ctx.store.blobs.put(tgz),
      publishedBy: publisher ? ((await userIds(ctx.store.db, [publisher])).get(publisher) ?? null) : null,
      publishedAt: time(times[version], now),
      deprecated: typeof m.deprecated === 'string' && m.deprecated ? m.deprecated : null,
    });
  }
  if (found.length === 0 && target.head?.origin === 'local') return;
  if (found.length === 0) {
    say('package', name, false, 'no version of it could be imported');
    return;
  }

  // Maintainers: those the document names, and the users a `publish:` rule names (not groups like $authenticated).
  const named = new Set<string>();
  for (const m of [doc.maintainers, ...Object.values(versions).map((v) => v.maintainers)]) {
    if (Array.isArray(m))
      for (const x of m)
        if (typeof (x as { name?: unknown })?.name === 'string') named.add((x as { name: string }).name);
  }
  for (const p of rule?.publish ?? []) if (!/^[$@]/.test(p)) named.add(p);
  const ids = await userIds(ctx.store.db, [...named]);
  const stars = await userIds(ctx.store.db, Object.keys(doc.users ?? {}));
  const { tags, moveTags, notes } = keptTags(doc['dist-tags'] ?? {}, target, found);
  // Verdaccio keeps the readme on the package; Tessera shows the latest version's: the one latest names here.
  const readmeOf = found.find((f) => f.version === tags.latest)?.manifest;
  if (readmeOf && typeof doc.readme === 'string' && readmeOf.readme === undefined) readmeOf.readme = doc.readme;
  await importLocalPackage(ctx.store.db, {
    name,
    access: isPublic ? 'public' : 'restricted',
    createdAt: time(times.created, now),
    versions: found,
    tags,
    moveTags,
    maintainerIds: [...ids.values()],
    starIds: [...stars.values()],
    modifiedAt: time(times.modified, now),
  });
  if (target.head?.origin !== 'local') report.packages++;
  report.versions += found.length;
  for (const f of found) say('version', `${name}@${f.version}`, true);
  const missing = [...named].filter((n) => !ids.has(n));
  const who = ids.size
    ? `maintainers ${[...ids.keys()].join(', ')}`
    : 'no maintainer known: an administrator adds one (npm owner add)';
  const access = isPublic
    ? 'public'
    : `restricted (Verdaccio let ${readers} read it; here its maintainers do, and whoever is granted it)`;
  const strangers = missing.length ? `; not users here: ${missing.join(', ')}` : '';
  say('package', name, true, [`${access}; ${who}${strangers}`, ...notes].join('; '));
}

/**
 * The dist-tags that come in: those naming a version held here after this import. A tag naming a version
 * imported now is moved to it (a re-run that finds a lost tarball); one naming a version that is not here
 * is dropped, said in the report, and `latest`, which npm installs by, then names the highest version
 * here on a first import, as after an unpublish.
 */
function keptTags(
  wanted: Record<string, string>,
  target: Awaited<ReturnType<typeof importTarget>>,
  found: ImportedVersion[],
): { tags: Record<string, string>; moveTags: string[]; notes: string[] } {
  const added = new Set(found.map((f) => f.version));
  const held = [...target.versions.keys(), ...added];
  const tags: Record<string, string> = {};
  const notes: string[] = [];
  for (const [tag, version] of Object.entries(wanted)) {
    if (held.includes(version)) tags[tag] = version;
    else if (tag !== 'latest') notes.push(`dist-tag ${tag} names ${version}, not imported: dropped`);
  }
  if (!tags.latest && target.head?.origin !== 'local') {
    tags.latest = pickLatest(held, semver.compare, (v) => semver.prerelease(v) !== null)!;
    const was = wanted.latest ? `was ${wanted.latest}, not imported` : 'was not set';
    notes.push(`dist-tag latest ${was}: latest is ${tags.latest} here`);
  }
  return { tags, moveTags: Object.keys(tags).filter((t) => added.has(tags[t])), notes };
}

/** Whether a version of the document is the tarball held here: by its integrity, or by the SHA-1 `shasum`
 *  that is all a version published before npm 5 records. */
function sameTarball(m: Record<string, unknown>, held: { integrity: string; shasum: string }): boolean {
  const d = (m.dist ?? {}) as { integrity?: string; shasum?: string };
  const sri = typeof d.integrity === 'string' ? ssri.parse(d.integrity) : undefined;
  if (sri?.sha512) return sri.match(ssri.parse(held.integrity)) !== false;
  // An older document: an integrity in SHA-1 only, or just the `shasum`; the SHA-1 is recorded here too.
  const digest = sri?.sha1?.[0]?.digest;
  const sha1 = digest ? Buffer.from(digest, 'base64').toString('hex') : d.shasum;
  return typeof sha1 === 'string' && sha1 === held.shasum;
}

async function keepProxied(ctx: Ctx, storage: string, name: string, doc: Doc, say: Say) {
  const origin = await packageOrigin(ctx.store.db, name);
  if (origin !== undefined) {
    say('package', name, false, origin === 'proxy' ? 'already kept as proxied' : 'a package of that name is here');
    return;
  }
  // The upstream's own tarball URLs are in _distfiles; the documents' point at Verdaccio.
  const upstream: Record<string, unknown> = { ...doc };
  for (const k of ['_uplinks', '_distfiles', '_attachments', '_rev']) delete upstream[k];
  const r = renderProxied(upstream, name);
  for (const t of Object.values(r.tarballs)) {
    const file = fileName(new URL(t.url, 'x:/').pathname);
    const real = doc._distfiles?.[file]?.url;
    if (real) t.url = real;
  }
  const fetched = Math.max(0, ...Object.values(doc._uplinks ?? {}).map((u) => u.fetched ?? 0)) || ctx.clock.now();
  const cached: { version: string; integrity: string; size: number; blob: string }[] = [];
  for (const [version, t] of Object.entries(r.tarballs)) {
    const path = join(storage, name, fileName(new URL(t.url, 'x:/').pathname));
    if (!existsSync(path)) continue;
    const tgz = readFileSync(path);
    if (t.integrity && !ssri.checkData(tgz, t.integrity)) {
      say('version', `${name}@${version}`, false, 'cached tarball does not match its integrity');
      continue;
    }
    cached.push({
      version,
      integrity: ssri.fromData(tgz, { algorithms: ['sha512'] }).toString(),
      size: tgz.length,
      blob: await ctx.store.blobs.put(tgz),
    });
  }
  await importProxiedPackage(ctx.store.db, name, r, JSON.stringify({ tarballs: r.tarballs }), fetched, cached);
  say('package', name, true, `kept as proxied, with ${cached.length} cached tarball(s)`);
}
