// Rendered packument bytes in memory, keyed by the stored ETag: the read path never parses JSON,
// it checks the ETag (one indexed row) and sends bytes. Bounded by total size.
import { BASE_PLACEHOLDER_JSON } from '../domain/packument.ts';
import type { Db } from '../store/store.ts';

type Kind = 'full' | 'abbrev';
type Entry = { etag: string; text: Record<Kind, string[]>; bytes: Map<string, Record<Kind, Buffer>>; size: number };

export class PackumentCache {
  readonly #entries = new Map<string, Entry>();
  readonly #budget: number;
  #size = 0;

  constructor(budgetBytes = 256 * 1024 * 1024) {
    this.#budget = budgetBytes;
  }

  async get(db: Db, name: string, etag: string, kind: Kind, base: string): Promise<Buffer> {
    let e = this.#entries.get(name);
    if (!e || e.etag !== etag) {
      const row = await db.selectFrom('packages').innerJoin('packuments', 'packuments.name', 'packages.name')
        .select(['packuments.doc', 'packuments.abbrev', 'packages.etag']).where('packages.name', '=', name).executeTakeFirstOrThrow();
      if (e) this.#drop(name, e);
      e = {
        etag: row.etag,
        text: { full: row.doc.split(BASE_PLACEHOLDER_JSON), abbrev: row.abbrev.split(BASE_PLACEHOLDER_JSON) },
        bytes: new Map(),
        size: 0,
      };
      this.#entries.set(name, e);
    } else {
      // Most recently used goes last; eviction takes from the front.
      this.#entries.delete(name);
      this.#entries.set(name, e);
    }
    let forBase = e.bytes.get(base);
    if (!forBase) {
      const json = JSON.stringify(base).slice(1, -1);
      forBase = { full: Buffer.from(e.text.full.join(json)), abbrev: Buffer.from(e.text.abbrev.join(json)) };
      e.bytes.set(base, forBase);
      const added = forBase.full.length + forBase.abbrev.length;
      e.size += added;
      this.#size += added;
      this.#evict(name);
    }
    return forBase[kind];
  }

  #drop(name: string, e: Entry): void {
    this.#size -= e.size;
    this.#entries.delete(name);
  }

  #evict(keep: string): void {
    for (const [name, e] of this.#entries) {
      if (this.#size <= this.#budget) return;
      if (name !== keep) this.#drop(name, e);
    }
  }
}
