// A write that splices the stored documents must leave exactly what a full render of the same state makes:
// same bytes, same ETag. Each case renders the state before, splices the change into a model of the store
// (a shell and its chunks, cut small here so that versions span several), and compares with render().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  joinChunks,
  render,
  type Chunk,
  type PackageState,
  type RenderedWithLayout,
  type Shell,
  type VersionState,
} from '../../src/domain/packument.ts';
import { splice, type Change, type Head } from '../../src/domain/packument-splice.ts';

const CHUNK = 400;
type Model = { shell: Shell; chunks: Map<number, Chunk>; etag: string; readme: string };
const stored = (r: RenderedWithLayout): Model => ({
  shell: r.shell,
  chunks: new Map(r.chunks.map((c) => [c.seq, c])),
  etag: r.etag,
  readme: r.readme,
});
const inOrder = (m: Model) => [...m.chunks.values()].sort((a, b) => a.seq - b.seq);

/** What the store does: hand the splice the last chunk and those holding the named versions, keep what it returns. */
function apply(m: Model, head: Head, changes: Change[], chunkChars = CHUNK): Model | undefined {
  const names = changes.flatMap((c) => ('deprecate' in c ? [c.deprecate] : 'unpublish' in c ? [c.unpublish] : []));
  const all = inOrder(m);
  const touched = all.filter((c) => c.versions.some(([v]) => names.includes(v)));
  const r = splice({ shell: m.shell, last: all.at(-1)!, chunks: touched }, head, changes, chunkChars);
  if (!r) return undefined;
  const chunks = new Map(m.chunks);
  for (const c of r.put) chunks.set(c.seq, c);
  for (const seq of r.drop) chunks.delete(seq);
  return { shell: r.shell, chunks, etag: r.etag, readme: r.readme };
}

function assertSame(m: Model, r: RenderedWithLayout, message?: string) {
  const w = joinChunks(m.shell, inOrder(m));
  assert.equal(w.doc, r.doc, message);
  assert.equal(w.abbrev, r.abbrev, message);
  assert.equal(m.etag, r.etag, message);
  assert.equal(m.readme, r.readme, message);
}

const name = '@s/splice';
const alice = { name: 'alice', email: 'a@x' };

function v(version: string, at: number, extra: Record<string, unknown> = {}): VersionState {
  return {
    version,
    integrity: `sha512-${version}`,
    shasum: `s${version}`,
    size: 1,
    publishedAt: at,
    publisher: alice,
    deprecated: null,
    manifest: {
      name,
      version,
      description: `d${version}`,
      readme: `# ${version}`,
      dependencies: { a: '^1' },
      ...extra,
    },
  };
}

function base(): PackageState {
  return {
    name,
    rev: 1,
    createdAt: 0,
    modifiedAt: 5_000,
    distTags: { latest: '1.2.0', beta: '1.1.0' },
    versions: [v('1.0.0', 1_000), v('1.1.0', 2_000, { scripts: { install: 'x' } }), v('1.2.0', 3_000)],
    unpublished: [
      { version: '0.9.0', publishedAt: 500 },
      { version: '1.0.5', publishedAt: 1_500 },
    ],
    maintainers: [alice],
    stars: ['bob'],
  };
}

function headOf(s: PackageState): Head {
  const latest = s.versions.find((x) => x.version === s.distTags.latest) ?? s.versions.at(-1)!;
  const { versions: _v, unpublished: _u, ...rest } = s;
  return { ...rest, latest: { version: latest.version, manifest: latest.manifest! } };
}

/** Splices `changes` into the render of `before` and checks the result against a render of `after`. */
function same(before: PackageState, after: PackageState, changes: Change[]) {
  for (const chunkChars of [CHUNK, 1 << 20]) {
    const m = apply(stored(render(before, chunkChars)), headOf(after), changes, chunkChars);
    assert.ok(m, 'the splice applies');
    assertSame(m, render(after));
  }
  return render(after);
}

const next = (s: PackageState, patch: Partial<PackageState>): PackageState => ({
  ...s,
  rev: s.rev + 1,
  modifiedAt: s.modifiedAt + 1_000,
  ...patch,
});

test('publish appends: versions, time and modified, dist-tags, latest and its readme move', () => {
  const s = base();
  const added = v('2.0.0', 9_000, { description: 'new', deprecated: 'ignored: the column decides' });
  const after = next(s, { versions: [...s.versions, added], distTags: { ...s.distTags, latest: '2.0.0' } });
  const r = same(s, after, [{ publish: added }]);
  const doc = JSON.parse(r.doc);
  assert.equal(doc.time['2.0.0'], new Date(9_000).toISOString());
  assert.equal(doc.time.modified, new Date(6_000).toISOString());
  assert.equal(doc.readme, '# 2.0.0');
  assert.equal(JSON.parse(r.abbrev).modified, doc.time.modified);
  assert.notEqual(r.etag, render(s).etag);
});

test('publish under another tag leaves latest; a provenance-carrying version; an older publish time falls back', () => {
  const s = base();
  const added = { ...v('3.0.0-rc.1', 9_000, { scripts: { postinstall: 'y' } }), attestationsUrl: 'x/att' };
  const tagged = next(s, { versions: [...s.versions, added], distTags: { ...s.distTags, next: '3.0.0-rc.1' } });
  same(s, tagged, [{ publish: added }]);
  const m0 = stored(render(s, CHUNK));
  const early = v('1.1.5', 2_500);
  const after = next(s, { versions: [s.versions[0], s.versions[1], early, s.versions[2]] });
  assert.equal(apply(m0, headOf(after), [{ publish: early }]), undefined, 'render() would put it in the middle');
  const tie = v('1.1.9', 3_000);
  assert.equal(apply(m0, headOf(next(s, {})), [{ publish: tie }]), undefined, 'same time, lower version');
});

test('deprecate and undeprecate one version, with and without an install script', () => {
  const s = base();
  const dep = (st: PackageState, version: string, msg: string | null) =>
    next(st, {
      versions: st.versions.map((x) => (x.version === version ? { ...x, deprecated: msg } : x)),
    });
  const s1 = dep(s, '1.1.0', 'use "2", not this');
  same(s, s1, [{ deprecate: '1.1.0', message: 'use "2", not this' }]);
  const s2 = dep(s1, '1.0.0', 'old ,"maintainers":[] too');
  same(s1, s2, [{ deprecate: '1.0.0', message: 'old ,"maintainers":[] too' }]);
  const s3 = dep(s2, '1.1.0', 'changed');
  same(s2, s3, [{ deprecate: '1.1.0', message: 'changed' }]);
  same(s3, dep(s3, '1.1.0', null), [{ deprecate: '1.1.0', message: null }]);
});

test('unpublish a middle version: its time joins the unpublished ones in order; latest moves when it goes', () => {
  const s = base();
  const s1 = next(s, {
    versions: [s.versions[0], s.versions[2]],
    distTags: { latest: '1.2.0' },
    unpublished: [s.unpublished[0], s.unpublished[1], { version: '1.1.0', publishedAt: 2_000 }],
  });
  const r = same(s, s1, [{ unpublish: '1.1.0', publishedAt: 2_000 }]);
  const order = ['created', 'modified', '0.9.0', '1.0.5', '1.1.0', '1.0.0', '1.2.0'];
  assert.deepEqual(Object.keys(JSON.parse(r.doc).time), order);
  const s2 = next(s1, {
    versions: [s1.versions[1]],
    distTags: { latest: '1.2.0' },
    unpublished: [s.unpublished[0], { version: '1.0.0', publishedAt: 1_000 }, ...s1.unpublished.slice(1)],
  });
  same(s1, s2, [{ unpublish: '1.0.0', publishedAt: 1_000 }]);
  const s3 = next(s, {
    versions: s.versions.slice(0, 2),
    distTags: { latest: '1.1.0', beta: '1.1.0' },
    unpublished: [...s.unpublished, { version: '1.2.0', publishedAt: 3_000 }],
  });
  same(s, s3, [{ unpublish: '1.2.0', publishedAt: 3_000 }]);
  // A publish then an unpublish in one write: the times appended as text are then taken as entries.
  const added = v('1.3.0', 4_000);
  const s4 = next(s, {
    versions: [s.versions[0], s.versions[2], added],
    distTags: { latest: '1.3.0' },
    unpublished: [s.unpublished[0], s.unpublished[1], { version: '1.1.0', publishedAt: 2_000 }],
  });
  same(s, s4, [{ publish: added }, { unpublish: '1.1.0', publishedAt: 2_000 }]);
  const none = next(s, { versions: [], unpublished: [], distTags: {} });
  const gone: Change[] = s.versions.map((x) => ({ unpublish: x.version, publishedAt: x.publishedAt }));
  const m0 = stored(render(s, CHUNK));
  assert.equal(apply(m0, { ...headOf(s), ...none, latest: null }, gone), undefined, 'no version left: render in full');
});

test('dist-tags and stars alone, then a long run of writes, stay identical to a full render', () => {
  let s = base();
  same(s, next(s, { distTags: { latest: '1.2.0' }, stars: ['bob', 'carol'] }), []);
  let m = stored(render(s, CHUNK));
  let chunked = 0;
  for (let i = 0; i < 60; i++) {
    let after: PackageState;
    let change: Change;
    const live = s.versions;
    if (i % 5 === 3 && live.length > 2) {
      const gone = live[1 + (i % (live.length - 1))];
      const versions = live.filter((x) => x !== gone);
      const latest = s.distTags.latest === gone.version ? versions.at(-1)!.version : s.distTags.latest;
      after = next(s, {
        versions,
        distTags: { latest },
        unpublished: [...s.unpublished, { version: gone.version, publishedAt: gone.publishedAt }].sort(
          (a, b) => a.publishedAt - b.publishedAt || (a.version < b.version ? -1 : 1),
        ),
      });
      change = { unpublish: gone.version, publishedAt: gone.publishedAt };
    } else if (i % 5 === 1) {
      const target = live[i % live.length].version;
      after = next(s, { versions: live.map((x) => (x.version === target ? { ...x, deprecated: `d${i}` } : x)) });
      change = { deprecate: target, message: `d${i}` };
    } else {
      const added = v(`4.0.${i}`, 10_000 + i, i % 2 ? { scripts: { install: 'z' } } : {});
      after = next(s, { versions: [...live, added], distTags: { ...s.distTags, latest: added.version } });
      change = { publish: added };
    }
    const r = apply(m, headOf(after), [change]);
    assert.ok(r, `write ${i} splices`);
    assertSame(r, render(after), `write ${i}`);
    chunked = Math.max(chunked, r.chunks.size);
    m = r;
    s = after;
  }
  assert.ok(chunked > 3, 'the versions spanned several chunks');
});

test('a layout that does not describe the documents is not used', () => {
  const s = base();
  const r0 = render(s, CHUNK);
  const added = v('2.0.0', 9_000);
  const after = next(s, { versions: [...s.versions, added], distTags: { latest: '2.0.0' } });
  const last = r0.chunks.at(-1)!;
  const shifted = { ...r0.shell, layout: { ...r0.shell.layout, at: r0.shell.layout.at + 1 } };
  assert.equal(splice({ shell: shifted, last, chunks: [] }, headOf(after), [{ publish: added }]), undefined);
  const counted = { ...r0.shell, layout: { ...r0.shell.layout, count: 4 } };
  assert.equal(splice({ shell: counted, last, chunks: [] }, headOf(after), [{ publish: added }]), undefined);
  const notLast = { shell: r0.shell, last: r0.chunks[0], chunks: [] };
  assert.equal(splice(notLast, headOf(after), [{ publish: added }]), undefined, 'a chunk that is not the last');
});
