// Tells a store that cannot be reached (the database, the blob store) from a fault in the code, so the HTTP
// edge can answer 503 `store-unavailable` naming the part, not a bare 500. A request that failed this way
// wrote nothing: the blob comes before the rows, and the rows' transaction rolled back.
import type { BlobStore } from './blobs/filesystem.ts';

/** Which part of the store failed, in the words the refusal uses. */
export type StorePart = 'database' | 'blob store';

/** A blob store operation failed (a folder, a mount, an S3 endpoint), or no database connection could be had. */
export class StoreUnavailable extends Error {
  readonly part: StorePart;
  constructor(part: StorePart, cause: unknown) {
    super(`${part} unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.part = part;
  }
}

/** Node's network and file-system errors a lost connection or mount gives. */
const SYSTEM = /^(ECONNREFUSED|ECONNRESET|ECONNABORTED|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)$/;
/** PostgreSQL's SQLSTATEs for a connection that failed, a server going down or not taking connections yet,
 *  too many connections (class 08, 57P01–57P03, 53300), and a server that takes no writes (25006: a standby
 *  after a failover, or default_transaction_read_only). */
const PG = /^(08...|57P0[123]|53300|25006)$/;
/** node-postgres's own words for a connection that went away or never came. */
const PG_TEXT =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;
/** SQLite busy or locked past the busy timeout, a database it may not write (a file system remounted
 *  read-only, permissions changed), an I/O error, a full disk, a file it cannot open. */
const SQLITE = new Set([5, 6, 8, 10, 13, 14]);

/** Whether `err` is a failure of the database connection itself (the network, the server going away or
 *  turning connections down), not of a statement; asked only of errors from a PostgreSQL connection. */
export function connectionFailure(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  return SYSTEM.test(code) || PG.test(code) || (typeof e.message === 'string' && PG_TEXT.test(e.message));
}

/** The part of the store `err` says is unreachable, or undefined for any other error. Network errors count
 *  only as StoreUnavailable, thrown where they come from: a bare ECONNREFUSED may be any server's. */
export function unavailablePart(err: unknown): StorePart | undefined {
  if (err instanceof StoreUnavailable) return err.part;
  const e = err as { code?: unknown; errcode?: unknown } | null;
  if (e?.code === 'ERR_SQLITE_ERROR' && typeof e.errcode === 'number' && SQLITE.has(e.errcode & 0xff)) {
    return 'database';
  }
  return undefined;
}

/** The blob store whose request-path operations throw StoreUnavailable for any failure. */
export function guardBlobs(blobs: BlobStore): BlobStore {
  const guard =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      try {
        return await f(...a);
      } catch (e) {
        throw e instanceof StoreUnavailable ? e : new StoreUnavailable('blob store', e);
      }
    };
  return {
    ...blobs,
    put: guard(blobs.put.bind(blobs)),
    get: guard(blobs.get.bind(blobs)),
    check: blobs.check && guard(blobs.check.bind(blobs)),
    open: blobs.open && guard(blobs.open.bind(blobs)),
    url: blobs.url && guard(blobs.url.bind(blobs)),
  };
}
