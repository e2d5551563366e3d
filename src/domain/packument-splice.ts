// A write that touches one version (publish, deprecate, unpublish) or none (dist-tags, stars) changes the
// stored documents by splicing text at the places their layout records, instead of putting every version
// together again: its cost does not grow with the package. The result is byte for byte what render()
// would make from the same state (test/unit/packument-splice.test.ts); whenever a splice cannot be sure
// of that (a layout that does not describe these documents, a version published out of order), it
// answers undefined and the caller renders in full.
import {
  assemble, iso, member, npmUsers, versionDigest, versionEntries, xorInto,
  type Layout, type Manifest, type RenderedWithLayout, type VersionState,
} from './packument.ts';

export type Change =
  | { publish: VersionState }
  | { deprecate: string; message: string | null }
  | { unpublish: string; publishedAt: number };

export type Stored = { doc: string; abbrev: string; layout: Layout };

/** The package's state apart from its versions, as after the change. `latest` is the version the
 *  `latest` dist-tag names, with its manifest (the documents carry its description and readme). */
export type Head = {
  name: string; rev: number; createdAt: number; modifiedAt: number; distTags: Record<string, string>;
  maintainers: { name: string; email: string }[]; stars: string[];
  latest: { version: string; manifest: Manifest } | null;
};

const TIME_AT = '},"time":';

export function splice(prev: Stored, head: Head, changes: Change[]): RenderedWithLayout | undefined {
  const l = prev.layout;
  if (prev.doc.length !== l.docLen || prev.abbrev.length !== l.abbrevLen || l.versions.length === 0) return undefined;
  const full: string[] = [];
  const abbrev: string[] = [];
  let p = l.at;
  let q = l.abAt;
  for (const [, fl, al] of l.versions) {
    full.push(prev.doc.slice(p, p + fl));
    abbrev.push(prev.abbrev.slice(q, q + al));
    p += fl + 1;
    q += al + 1;
  }
  const timeAt = p - 1 + TIME_AT.length;
  if (prev.doc.slice(p - 1, timeAt) !== TIME_AT) return undefined;
  const old = JSON.parse(prev.doc.slice(timeAt, prev.doc.indexOf('}', timeAt) + 1)) as Record<string, string>;
  const entries = Object.entries(old).slice(2);
  const unpublished = entries.slice(0, l.unpublished);
  const live = entries.slice(l.unpublished);
  if (live.length !== l.versions.length || live.some(([v], i) => v !== l.versions[i][0])) return undefined;
  const versions = l.versions.map(([v]) => v);
  const digest = Buffer.from(l.digest, 'hex');
  const maintainersJson = JSON.stringify(head.maintainers);
  const maintainersAt = `,"maintainers":${maintainersJson}`;

  for (const c of changes) {
    if ('publish' in c) {
      const v = c.publish;
      const [lastVersion, lastIso] = live.at(-1) ?? ['', ''];
      const last = Date.parse(lastIso);
      // render() orders versions by publish time, then by version: only a later one goes at the end.
      if (v.publishedAt < last || (v.publishedAt === last && v.version <= lastVersion)) return undefined;
      if (v.version in old) return undefined;
      const e = versionEntries(head.name, v, maintainersJson, npmUsers()(v.publisher));
      full.push(e.full);
      abbrev.push(e.abbrev);
      versions.push(v.version);
      live.push([v.version, iso(v.publishedAt)]);
      xorInto(digest, versionDigest(e.full));
    } else if ('deprecate' in c) {
      const i = versions.indexOf(c.deprecate);
      if (i < 0) return undefined;
      // A version's text ends `,"maintainers":[…]}` or `,"maintainers":[…],"deprecated":"…"}`; the
      // message is a JSON string, so the last `,"maintainers":[…]` is the one render() put there.
      const f = full[i];
      const at = f.lastIndexOf(maintainersAt);
      if (at < 0) return undefined;
      const was = f.slice(at + maintainersAt.length, -1);
      const now = c.message ? member('deprecated', c.message) : '';
      const a = abbrev[i];
      const script = a.endsWith(',"hasInstallScript":true}') ? ',"hasInstallScript":true' : '';
      const body = a.slice(0, a.length - script.length - 1);
      if (!body.endsWith(was)) return undefined;
      xorInto(digest, versionDigest(f));
      full[i] = `${f.slice(0, at)}${maintainersAt}${now}}`;
      abbrev[i] = `${body.slice(0, body.length - was.length)}${now}${script}}`;
      xorInto(digest, versionDigest(full[i]));
    } else {
      const i = versions.indexOf(c.unpublish);
      if (i < 0) return undefined;
      xorInto(digest, versionDigest(full[i]));
      full.splice(i, 1);
      abbrev.splice(i, 1);
      versions.splice(i, 1);
      const [entry] = live.splice(i, 1);
      // Unpublished versions keep their publish time, in the order render() reads them: time, then version.
      const at = c.publishedAt;
      let j = unpublished.length;
      while (j > 0) {
        const [pv, pt] = unpublished[j - 1];
        const t = Date.parse(pt);
        if (t < at || (t === at && pv < c.unpublish)) break;
        j--;
      }
      unpublished.splice(j, 0, entry);
    }
  }
  if (versions.length === 0) return undefined;
  const latestVersion = head.distTags.latest !== undefined && versions.includes(head.distTags.latest)
    ? head.distTags.latest : versions.at(-1);
  if (!head.latest || head.latest.version !== latestVersion) return undefined;
  const time: Record<string, string> = { created: iso(head.createdAt), modified: iso(head.modifiedAt) };
  for (const [v, t] of unpublished) time[v] = t;
  for (const [v, t] of live) time[v] = t;
  return assemble({
    name: head.name, rev: head.rev, distTags: head.distTags, maintainersJson, stars: head.stars, time,
    unpublished: unpublished.length, full, abbrev, digest, latest: head.latest.manifest,
  });
}
