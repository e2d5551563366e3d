// What the read path keeps in memory, per store: package heads, tarball locations, rendered packument
// bytes (keyed by ETag) and small tarballs (content-addressed). Heads and locations are dropped whenever
// the store's `packages` counter moves — every write bumps it in its own transaction, in any process.
// The counter is read on every request for a while after this process wrote, and otherwise every
// 100 ms: this process's writes are seen at once, other processes' within 100 ms.
import { BASE_PLACEHOLDER_JSON } from '../domain/packument.ts';
import type { Store } from '../store/store.ts';
import { packageHead, storedDocuments, type PackageHead } from '../store/packages.ts';
import { lastLocalWrite } from '../store/counters.ts';
import { tarballOf } from '../store/versions.ts';

type Kind = 'full' | 'abbrev';
/** A document's text, with a placeholder where the base URL goes, and its bytes per base URL, each form made when
 *  first asked for: installers ask for the abbreviated form only, and the full bytes would double what a package
 *  holds. */
type Doc = {
  etag: string;
  text: Record<Kind, string>;
  bytes: Map<string, Partial<Record<Kind, Buffer>>>;
  size: number;
};

const MAX_HEADS = 50_000;
/** Other processes' writes are seen within this; this process's own at once (see lastLocalWrite). */
const POLL_MS = 100;
const LOCAL_WRITE_WINDOW_MS = 2_000;
const MAX_CACHED_TARBALL = 2 * 1024 * 1024;

/** A Map used as an LRU: reads move an entry to the end, eviction takes from the front. */
class Lru<V> {
  readonly #map = new Map<string, V>();
  #budget: number;
  readonly #sizeOf: (v: V) => number;
  #size = 0;
  constructor(budget: number, sizeOf: (v: V) => number) {
    this.#budget = budget;
    this.#sizeOf = sizeOf;
  }
  get(k: string): V | undefined {
    const v = this.#map.get(k);
    if (v !== undefined) {
      this.#map.delete(k);
      this.#map.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.delete(k);
    this.#map.set(k, v);
    this.#size += this.#sizeOf(v);
    for (const [key, old] of this.#map) {
      if (this.#size <= this.#budget || key === k) break;
      this.delete(key);
      void old;
    }
  }
  delete(k: string): void {
    const old = this.#map.get(k);
    if (old !== undefined) {
      this.#size -= this.#sizeOf(old);
      this.#map.delete(k);
    }
  }
  /** A new budget; entries beyond it go at once. */
  set budget(bytes: number) {
    this.#budget = bytes;
    for (const key of this.#map.keys()) {
      if (this.#size <= this.#budget) break;
      this.delete(key);
    }
  }
  /** Bytes accounted to all entries. */
  get size(): number {
    return this.#size;
  }
  /** Changes an entry's accounted size after it was mutated in place, and evicts others if over budget. */
  grow(k: string, by: number): void {
    if (!this.#map.has(k)) return; // evicted meanwhile: its size is no longer counted
    this.#size += by;
    for (const key of this.#map.keys()) {
      if (this.#size <= this.#budget || key === k) break;
      this.delete(key);
    }
  }
}

/** Without `publicUrl`, the base URL comes from the Host header: keep bytes for a few, not for any a caller sends. */
const MAX_BASES_PER_DOC = 4;

export class ReadCache {
  readonly #store: Store;
  #seq = '';
  /** The `revocations` counter: remembered read decisions rest on the caller's account too. */
  #accountsSeq = '';
  #checkedAt = 0;
  readonly #heads = new Map<string, PackageHead | null>();
  /** Moves with every keepHead: a head read from the database before one was kept is older than it. */
  #headsKept = 0;
  readonly #tarballs = new Map<string, string>();
  /** May this token read this restricted package? Keyed "<token id>\0<name>". */
  readonly #readable = new Map<string, boolean>();
  readonly #docs = new Lru<Doc>(256 * 1024 * 1024, (d) => d.size);
  readonly #blobs = new Lru<Buffer>(128 * 1024 * 1024, (b) => b.length);
  #tarballBudget = 128 * 1024 * 1024;

  constructor(store: Store) {
    this.#store = store;
  }

  /** The byte budgets (config `cache`): rendered documents, and small tarballs. At 0, only the last document
   *  read is kept, and no tarball. */
  setBudgets(b: { documentBytes: number; tarballBytes: number }): void {
    this.#docs.budget = b.documentBytes;
    this.#blobs.budget = this.#tarballBudget = b.tarballBytes;
  }

  /** What the tarball bytes held in memory amount to (for tests and diagnostics). */
  get tarballBytes(): number {
    return this.#blobs.size;
  }

  #sync(): void {
    const now = Date.now();
    if (now - this.#checkedAt < POLL_MS && now - lastLocalWrite() > LOCAL_WRITE_WINDOW_MS) return;
    this.#checkedAt = now;
    const seq = this.#store.counter('packages');
    if (seq !== this.#seq) {
      this.#seq = seq;
      this.#heads.clear();
      this.#tarballs.clear();
      this.#readable.clear();
    }
    const accounts = this.#store.counter('revocations');
    if (accounts !== this.#accountsSeq) {
      this.#accountsSeq = accounts;
      this.#readable.clear();
    }
  }

  /**
   * Read decisions for restricted packages, per token. Everything they rest on moves a counter: the
   * package (its access, maintainers) and org membership and team grants move `packages`; changes to
   * tokens and accounts move `revocations`. Either clears them here. The token itself (revoked, expired,
   * its address ranges) is checked by the authenticator on every request.
   */
  peekReadable(tokenId: string, name: string): boolean | undefined {
    this.#sync();
    return this.#readable.get(`${tokenId}\0${name}`);
  }

  /** Keeps a decision, unless `packages` moved since `seq` (then it may rest on what changed). */
  rememberReadable(tokenId: string, name: string, readable: boolean, seq: string): void {
    if (seq !== this.seq) return;
    if (this.#readable.size >= MAX_HEADS) this.#readable.clear();
    this.#readable.set(`${tokenId}\0${name}`, readable);
  }

  /** What the rendered documents held in memory amount to (for tests and diagnostics). */
  get documentBytes(): number {
    return this.#docs.size;
  }

  /** Both counters as this cache last saw them: pass it back to rememberReadable. */
  get seq(): string {
    this.#sync();
    return `${this.#seq}/${this.#accountsSeq}`;
  }

  /** The cached head without touching the database: a head, null for "known not to exist", undefined for "not cached". */
  peekHead(name: string): PackageHead | null | undefined {
    this.#sync();
    return this.#heads.get(name);
  }

  async head(name: string): Promise<PackageHead | undefined> {
    const hit = this.peekHead(name);
    if (hit !== undefined) return hit ?? undefined;
    const seq = this.#seq;
    const kept = this.#headsKept;
    const head = await packageHead(this.#store.db, name);
    // Keep it only if nothing moved while we read, here (keepHead) or anywhere (the counter).
    if (seq === this.#seq && kept === this.#headsKept) this.#setHead(name, head ?? null);
    return head;
  }

  /**
   * The head of an upstream copy this process just wrote. Upstream copies do not move the `packages` counter:
   * each refresh would empty every process's caches, and an install's hundreds of first fetches would keep
   * them empty. Other processes keep the copy they had until their own `upstream.cacheTtl` runs out, as
   * they would without this one; a document read that finds a newer copy stored drops their head (document()).
   */
  keepHead(head: PackageHead): void {
    this.#sync();
    this.#headsKept++;
    this.#setHead(head.name, head);
  }

  #setHead(name: string, head: PackageHead | null): void {
    if (this.#heads.size >= MAX_HEADS) this.#heads.clear();
    this.#heads.set(name, head);
  }

  /** The blob key of a published version's tarball, or undefined. */
  peekTarballBlob(name: string, version: string): string | undefined {
    this.#sync();
    return this.#tarballs.get(`${name}@${version}`);
  }

  async tarballBlob(name: string, version: string): Promise<string | undefined> {
    const hit = this.peekTarballBlob(name, version);
    if (hit !== undefined) return hit;
    const key = `${name}@${version}`;
    const seq = this.#seq;
    const row = await tarballOf(this.#store.db, name, version);
    if (!row || row.unpublishedAt !== null || !row.blob) return undefined;
    if (seq !== this.#seq) return row.blob; // something moved while we read: answer, but don't keep it
    if (this.#tarballs.size >= MAX_HEADS) this.#tarballs.clear();
    this.#tarballs.set(key, row.blob);
    return row.blob;
  }

  /** Where a tarball this process just kept is (an upstream copy's): its next read finds it without a query.
   *  A purge or publish after it moves the `packages` counter, which empties this as any other entry. */
  keepTarballBlob(name: string, version: string, blob: string): void {
    this.#sync();
    if (this.#tarballs.size >= MAX_HEADS) this.#tarballs.clear();
    this.#tarballs.set(`${name}@${version}`, blob);
  }

  /** Tarball bytes by content key: immutable, so cached without invalidation (small ones only). */
  peekBlob(key: string): Buffer | undefined {
    return this.#blobs.get(key);
  }

  async blob(key: string): Promise<Buffer | undefined> {
    const hit = this.#blobs.get(key);
    if (hit) return hit;
    const data = await this.#store.blobs.get(key);
    if (data && data.length <= Math.min(MAX_CACHED_TARBALL, this.#tarballBudget)) this.#blobs.set(key, data);
    return data;
  }

  /** Keeps bytes read elsewhere (a streamed store's small tarballs), by the same rule as blob(). */
  keepBlob(key: string, data: Buffer): void {
    if (data.length <= Math.min(MAX_CACHED_TARBALL, this.#tarballBudget)) this.#blobs.set(key, data);
  }

  /** Whether a tarball of this size would be kept in memory (else it is streamed). */
  static keeps(size: number): boolean {
    return size <= MAX_CACHED_TARBALL;
  }

  /** Rendered packument bytes for an ETag and a base URL, if the document is in memory. */
  peekDocument(name: string, etag: string, kind: Kind, base: string): Buffer | undefined {
    const e = this.#docs.get(name);
    if (!e || e.etag !== etag) return undefined;
    return this.#forBase(name, e, base, kind);
  }

  /** Rendered packument bytes for a base URL, and their ETag: the one asked for, or the stored document's
   *  when that is newer than the head the caller had (its head is dropped then, to be read again). Undefined
   *  when nothing is stored any more (removed since the caller read its head, which is dropped too). */
  async document(
    name: string,
    etag: string,
    kind: Kind,
    base: string,
  ): Promise<{ etag: string; body: Buffer } | undefined> {
    let e = this.#docs.get(name);
    if (!e || e.etag !== etag) {
      const stored = await storedDocuments(this.#store.db, name);
      if (!stored) {
        this.#heads.delete(name);
        return undefined;
      }
      e = this.#keep(name, stored);
      if (e.etag !== etag) this.#heads.delete(name);
    }
    return { etag: e.etag, body: this.#forBase(name, e, base, kind) };
  }

  /** Documents just written by this process (an upstream copy kept): the next read need not read them back. */
  keepDocument(name: string, docs: { etag: string; doc: string; abbrev: string }): void {
    this.#keep(name, docs);
  }

  #keep(name: string, row: { etag: string; doc: string; abbrev: string }): Doc {
    // Text is counted at two bytes a character, as V8 may hold it.
    const e: Doc = {
      etag: row.etag,
      text: { full: row.doc, abbrev: row.abbrev },
      bytes: new Map(),
      size: 2 * (row.doc.length + row.abbrev.length),
    };
    this.#docs.set(name, e);
    return e;
  }

  #forBase(name: string, e: Doc, base: string, kind: Kind): Buffer {
    let forBase = e.bytes.get(base);
    if (!forBase) {
      if (e.bytes.size >= MAX_BASES_PER_DOC) {
        const [oldest, old] = e.bytes.entries().next().value!;
        e.bytes.delete(oldest);
        const freed = (old.full?.length ?? 0) + (old.abbrev?.length ?? 0);
        e.size -= freed;
        this.#docs.grow(name, -freed);
      }
      forBase = {};
      e.bytes.set(base, forBase);
    }
    let bytes = forBase[kind];
    if (!bytes) {
      const at = JSON.stringify(base).slice(1, -1);
      // A function, so that a `$` in the base URL is not read as a replacement pattern.
      bytes = Buffer.from(e.text[kind].replaceAll(BASE_PLACEHOLDER_JSON, () => at));
      forBase[kind] = bytes;
      e.size += bytes.length;
      this.#docs.grow(name, bytes.length);
    }
    return bytes;
  }
}

const caches = new WeakMap<Store, ReadCache>();

export function readCache(store: Store): ReadCache {
  let c = caches.get(store);
  if (!c) {
    c = new ReadCache(store);
    caches.set(store, c);
  }
  return c;
}
