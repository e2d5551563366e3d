// A write that touches one version (publish, deprecate, unpublish) or none (dist-tags, stars) changes the
// stored documents by rewriting their shell and the one chunk of versions' text it touches (packument.ts
// Layout), instead of putting every version together again: its cost does not grow with the package. The
// documents are byte for byte what render() makes from the same state (test/unit/packument-splice.test.ts);
// whenever a splice cannot be sure of that (a layout that does not describe these documents, a version
// published out of order), it answers undefined and the caller renders in full.
import {
  CHUNK_CHARS,
  iso,
  member,
  npmUsers,
  shellOf,
  versionDigest,
  versionEntries,
  xorInto,
  type Chunk,
  type Manifest,
  type Shell,
  type VersionState,
} from './packument.ts';

export type Change =
  | { publish: VersionState }
  | { deprecate: string; message: string | null }
  | { unpublish: string; publishedAt: number };

/** The stored shell, the package's last chunk, and the chunks holding the versions deprecated or unpublished. */
export type Stored = { shell: Shell; last: Chunk; chunks: Chunk[] };

/** The new shell, the chunks to write (new or changed) and the numbers of those left empty. */
export type Spliced = { shell: Shell; etag: string; readme: string; put: Chunk[]; drop: number[] };

/** The package's state apart from its versions, as after the change. `latest` is the version the
 *  `latest` dist-tag names, with its manifest (the documents carry its description and readme). */
export type Head = {
  name: string;
  rev: number;
  createdAt: number;
  modifiedAt: number;
  distTags: Record<string, string>;
  maintainers: { name: string; email: string }[];
  stars: string[];
  latest: { version: string; manifest: Manifest } | null;
};

const TIME_AT = '},"time":';

type Open = { seq: number; full: string[]; abbrev: string[]; versions: string[]; changed: boolean };

type Entry = [version: string, at: string];

/**
 * The `time` entries after `created` and `modified`: unpublished versions first, then live ones. They stay
 * the stored text while a splice only appends (publish, deprecate), since parsing and writing back thousands
 * of entries was most of a big package's publish; an unpublish takes them as entries, parsed once. Version
 * keys are semver (no quotes, never integer-like) and values ISO dates, so `,"<version>":"` starts exactly
 * one entry and each entry holds one `":"`.
 */
class Times {
  #text: string;
  #liveAt: number;
  #live: number;
  readonly #unpublished: number;
  #entries?: { unpublished: Entry[]; live: Entry[] };

  private constructor(text: string, liveAt: number, live: number, unpublished: number) {
    this.#text = text;
    this.#liveAt = liveAt;
    this.#live = live;
    this.#unpublished = unpublished;
  }

  /** From the stored `{"created":…,"modified":…,…}`, or undefined when it is not in that form. */
  static of(json: string, unpublished: number): Times | undefined {
    const m = json.indexOf('","modified":"');
    if (!json.startsWith('{"created":"') || m < 0 || !json.endsWith('}')) return undefined;
    const text = json.slice(json.indexOf('"', m + 14) + 1, -1);
    let at = 0;
    for (let i = 0; i < unpublished; i++) {
      const sep = text.indexOf('":"', at);
      if (sep < 0) return undefined;
      at = text.indexOf('"', sep + 3) + 1;
    }
    let live = 0;
    for (let i = text.indexOf('":"', at); i >= 0; i = text.indexOf('":"', i + 3)) live++;
    return new Times(text, at, live, unpublished);
  }

  get liveCount(): number {
    return this.#entries ? this.#entries.live.length : this.#live;
  }

  get unpublishedCount(): number {
    return this.#entries ? this.#entries.unpublished.length : this.#unpublished;
  }

  lastLive(): Entry | undefined {
    if (this.#entries) return this.#entries.live.at(-1);
    if (this.#live === 0) return undefined;
    const at = this.#text.lastIndexOf(',"');
    return Object.entries(JSON.parse(`{${this.#text.slice(at + 1)}}`) as Record<string, string>)[0];
  }

  has(version: string): boolean {
    if (this.#entries) return [...this.#entries.unpublished, ...this.#entries.live].some(([v]) => v === version);
    return this.#text.includes(`,${JSON.stringify(version)}:"`);
  }

  hasLive(version: string): boolean {
    if (this.#entries) return this.#entries.live.some(([v]) => v === version);
    return this.#text.indexOf(`,${JSON.stringify(version)}:"`, this.#liveAt) >= 0;
  }

  append(version: string, at: string): void {
    if (this.#entries) this.#entries.live.push([version, at]);
    else {
      this.#text += `,${JSON.stringify(version)}:${JSON.stringify(at)}`;
      this.#live++;
    }
  }

  /** The entries, to change in place (an unpublish moves one from live to unpublished). */
  entries(): { unpublished: Entry[]; live: Entry[] } {
    if (!this.#entries) {
      const all = Object.entries(JSON.parse(`{${this.#text.slice(1)}}`) as Record<string, string>);
      const unpublished = this.unpublishedCount;
      this.#entries = { unpublished: all.slice(0, unpublished), live: all.slice(unpublished) };
    }
    return this.#entries;
  }

  json(created: string, modified: string): string {
    const e = this.#entries;
    const rest = e
      ? [...e.unpublished, ...e.live].map(([v, t]) => `,${JSON.stringify(v)}:${JSON.stringify(t)}`).join('')
      : this.#text;
    return `{"created":${JSON.stringify(created)},"modified":${JSON.stringify(modified)}${rest}}`;
  }
}

function open(c: Chunk): Open {
  const o: Open = { seq: c.seq, full: [], abbrev: [], versions: [], changed: false };
  let p = 0;
  let q = 0;
  for (const [v, fl, al] of c.versions) {
    o.versions.push(v);
    o.full.push(c.full.slice(p, p + fl));
    o.abbrev.push(c.abbrev.slice(q, q + al));
    p += fl + 1;
    q += al + 1;
  }
  return o;
}

export function splice(prev: Stored, head: Head, changes: Change[], chunkChars = CHUNK_CHARS): Spliced | undefined {
  const { doc, layout: l } = prev.shell;
  const timeAt = l.at + TIME_AT.length;
  if (l.count === 0 || doc.slice(l.at, timeAt) !== TIME_AT) return undefined;
  const times = Times.of(doc.slice(timeAt, doc.indexOf('}', timeAt) + 1), l.unpublished);
  if (!times || times.liveCount !== l.count) return undefined;
  const chunks = new Map<number, Open>();
  for (const c of [prev.last, ...prev.chunks]) if (!chunks.has(c.seq)) chunks.set(c.seq, open(c));
  const holding = (v: string) => [...chunks.values()].find((c) => c.versions.includes(v));
  const digest = Buffer.from(l.digest, 'hex');
  const maintainersJson = JSON.stringify(head.maintainers);
  const maintainersAt = `,"maintainers":${maintainersJson}`;
  let last = chunks.get(prev.last.seq)!;
  if (last.versions.at(-1) !== times.lastLive()?.[0]) return undefined;

  for (const c of changes) {
    if ('publish' in c) {
      const v = c.publish;
      const [lastVersion, lastIso] = times.lastLive() ?? ['', ''];
      const lastAt = Date.parse(lastIso);
      // render() orders versions by publish time, then by version: only a later one goes at the end.
      if (v.publishedAt < lastAt || (v.publishedAt === lastAt && v.version <= lastVersion)) return undefined;
      if (times.has(v.version)) return undefined;
      const e = versionEntries(head.name, v, maintainersJson, npmUsers()(v.publisher));
      if (last.versions.length && last.full.reduce((n, f) => n + f.length, 0) >= chunkChars) {
        last = { seq: last.seq + 1, full: [], abbrev: [], versions: [], changed: true };
        chunks.set(last.seq, last);
      }
      last.full.push(e.full);
      last.abbrev.push(e.abbrev);
      last.versions.push(v.version);
      last.changed = true;
      times.append(v.version, iso(v.publishedAt));
      xorInto(digest, versionDigest(e.full));
    } else if ('deprecate' in c) {
      const k = holding(c.deprecate);
      if (!k) return undefined;
      const i = k.versions.indexOf(c.deprecate);
      // A version's text ends `,"maintainers":[…]}` or `,"maintainers":[…],"deprecated":"…"}`; the
      // message is a JSON string, so the last `,"maintainers":[…]` is the one render() put there.
      const f = k.full[i];
      const at = f.lastIndexOf(maintainersAt);
      if (at < 0) return undefined;
      const was = f.slice(at + maintainersAt.length, -1);
      const now = c.message ? member('deprecated', c.message) : '';
      const a = k.abbrev[i];
      const script = a.endsWith(',"hasInstallScript":true}') ? ',"hasInstallScript":true' : '';
      const body = a.slice(0, a.length - script.length - 1);
      if (!body.endsWith(was)) return undefined;
      xorInto(digest, versionDigest(f));
      k.full[i] = `${f.slice(0, at)}${maintainersAt}${now}}`;
      k.abbrev[i] = `${body.slice(0, body.length - was.length)}${now}${script}}`;
      k.changed = true;
      xorInto(digest, versionDigest(k.full[i]));
    } else {
      const { live, unpublished } = times.entries();
      const k = holding(c.unpublish);
      const i = live.findIndex(([v]) => v === c.unpublish);
      if (!k || i < 0) return undefined;
      const j = k.versions.indexOf(c.unpublish);
      xorInto(digest, versionDigest(k.full[j]));
      k.full.splice(j, 1);
      k.abbrev.splice(j, 1);
      k.versions.splice(j, 1);
      k.changed = true;
      const [entry] = live.splice(i, 1);
      // Unpublished versions keep their publish time, in the order render() reads them: time, then version.
      let u = unpublished.length;
      while (u > 0) {
        const [pv, pt] = unpublished[u - 1];
        const t = Date.parse(pt);
        if (t < c.publishedAt || (t === c.publishedAt && pv < c.unpublish)) break;
        u--;
      }
      unpublished.splice(u, 0, entry);
    }
  }
  if (times.liveCount === 0) return undefined;
  const latestVersion =
    head.distTags.latest !== undefined && times.hasLive(head.distTags.latest)
      ? head.distTags.latest
      : times.lastLive()![0];
  if (!head.latest || head.latest.version !== latestVersion) return undefined;
  const modified = iso(head.modifiedAt);
  const { etag, readme, ...shell } = shellOf({
    name: head.name,
    rev: head.rev,
    distTags: head.distTags,
    maintainersJson,
    stars: head.stars,
    timeJson: times.json(iso(head.createdAt), modified),
    modified,
    unpublished: times.unpublishedCount,
    count: times.liveCount,
    digest,
    latest: head.latest.manifest,
  });
  const put: Chunk[] = [];
  const drop: number[] = [];
  for (const k of chunks.values()) {
    if (!k.changed) continue;
    if (k.versions.length === 0) {
      drop.push(k.seq);
      continue;
    }
    put.push({
      seq: k.seq,
      full: k.full.join(','),
      abbrev: k.abbrev.join(','),
      versions: k.versions.map((v, i): [string, number, number] => [v, k.full[i].length, k.abbrev[i].length]),
    });
  }
  return { shell, etag, readme, put, drop };
}
