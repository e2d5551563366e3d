// A package's full document with only some of its versions, for webhook payloads: read from the stored
// shell and only the chunks that hold the versions wanted, so its cost does not grow with the package.
import type { Chunk, Layout } from '../domain/packument.ts';
import type { Db } from './store.ts';

/**
 * The stored full document of `name` (base URL still a placeholder) whose `versions` hold those `pick`
 * chooses from all live versions in publish order; undefined without a document. A document stored
 * without a current layout comes back whole: the caller trims it.
 */
export async function documentExcerpt(
  db: Db,
  name: string,
  pick: (versions: string[]) => Set<string>,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('packages')
    .innerJoin('packuments', 'packuments.name', 'packages.name')
    .select(['packuments.doc', 'packuments.layout', 'packages.etag'])
    .where('packages.name', '=', name)
    .executeTakeFirst();
  if (!row) return undefined;
  const layout = row.layout ? (JSON.parse(row.layout) as Layout) : undefined;
  if (!layout || layout.etag !== row.etag) return row.doc;
  const lists = (
    await db
      .selectFrom('packument_chunks')
      .select(['seq', 'versions'])
      .where('name', '=', name)
      .orderBy('seq')
      .execute()
  ).map((l) => ({ seq: l.seq, versions: JSON.parse(l.versions) as Chunk['versions'] }));
  const wanted = pick(lists.flatMap((l) => l.versions.map(([v]) => v)));
  const seqs = lists.filter((l) => l.versions.some(([v]) => wanted.has(v))).map((l) => l.seq);
  const texts = new Map<number, string>();
  if (seqs.length) {
    const rows = await db
      .selectFrom('packument_chunks')
      .select(['seq', 'doc'])
      .where('name', '=', name)
      .where('seq', 'in', seqs)
      .execute();
    for (const r of rows) texts.set(r.seq, r.doc);
  }
  const entries: string[] = [];
  for (const l of lists) {
    const text = texts.get(l.seq);
    if (text === undefined) continue;
    // A chunk's text is its entries joined by commas; the lengths say where each one ends.
    let at = 0;
    for (const [v, length] of l.versions) {
      if (wanted.has(v)) entries.push(text.slice(at, at + length));
      at += length + 1;
    }
  }
  return row.doc.slice(0, layout.at) + entries.join(',') + row.doc.slice(layout.at);
}
