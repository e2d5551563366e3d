// An upstream tarball not yet cached streams to the client that asked for it while it arrives, and is kept
// only once all of it has arrived and matched the integrity the upstream packument gives. A mismatch cuts
// the client's connection before its last bytes (they were not the package's), stores nothing and counts
// against the upstream's breaker. Requests for the same tarball meanwhile do not fetch it again: they wait for it.
import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import ssri from 'ssri';
import { Refusal } from '../domain/reasons.ts';
import type { PackageHead } from '../store/packages.ts';
import { upstreamTarball, type UpstreamTarball } from '../store/proxy-cache.ts';
import { insertProxiedTarball, packageOrigin } from '../store/imports.ts';
import { lockPackage } from '../store/locks.ts';
import type { Store } from '../store/store.ts';
import type { Ctx } from './context.ts';
import { mayServeProxied, proxyPackument, refreshProxied } from './proxy.ts';
import { upstreamRequest } from './upstream.ts';
import { readCache } from './read-cache.ts';

/** One upstream fetch in progress: its stream goes to the first asker, `done` gives everyone the bytes. */
type Flow = { stream?: PassThrough; size?: number; done: Promise<Buffer | undefined> };

const flowsByStore = new WeakMap<Store, Map<string, Promise<Flow>>>();

export type Tarball = Buffer | { stream: Readable; size?: number };

/** Fetches and keeps an upstream tarball: a stream for the request that started the fetch, the stored
 *  bytes for those that came while it ran. The caller has checked that `name` may be proxied, and gives the
 *  package's head as it has just read it (undefined: nothing of that name is kept yet). */
export async function proxyTarball(
  ctx: Ctx,
  name: string,
  version: string,
  head: PackageHead | undefined,
): Promise<Tarball | undefined> {
  let flows = flowsByStore.get(ctx.store);
  if (!flows) {
    flows = new Map();
    flowsByStore.set(ctx.store, flows);
  }
  const key = `${name}\0${version}`;
  const running = flows.get(key);
  if (running) return (await running).done;
  const started = startFlow(ctx, name, version, head);
  flows.set(key, started);
  const forget = () => {
    if (flows.get(key) === started) flows.delete(key);
  };
  started.then((f) => f.done.then(forget, forget), forget);
  const flow = await started;
  const stream = flow.stream;
  if (!stream) return flow.done;
  flow.stream = undefined;
  return { stream, size: flow.size };
}

function startFlow(ctx: Ctx, name: string, version: string, head: PackageHead | undefined): Promise<Flow> {
  return new Promise<Flow>((resolve, reject) => {
    let told = false;
    const tell = (f: Flow) => {
      if (!told) {
        told = true;
        resolve(f);
      }
    };
    const done = fetchTarball(ctx, name, version, head, (stream, size) => tell({ stream, size, done }));
    done.then(
      (data) => tell({ done: Promise.resolve(data) }),
      (e) => {
        if (told) return;
        told = true;
        reject(e);
      },
    );
    // The first asker has the stream; a failure after that reaches it through the stream and the others through `done`.
    done.catch(() => {});
  });
}

/** Versions not found in a fresh copy of their packument, with its ETag: not looked for again until it changes. */
const missedByStore = new WeakMap<Store, Map<string, string>>();

/**
 * A version the kept packument does not name may have been released upstream since it was fetched (a lockfile
 * made elsewhere names it): the packument is fetched again, once, before the version is said to be missing.
 */
async function lookAgain(ctx: Ctx, name: string, version: string, etag: string): Promise<UpstreamTarball | undefined> {
  let missed = missedByStore.get(ctx.store);
  if (!missed) {
    missed = new Map();
    missedByStore.set(ctx.store, missed);
  }
  const key = `${name}\0${version}`;
  if (missed.get(key) === etag) return undefined;
  const fresh = await refreshProxied(ctx, name);
  const source = fresh?.origin === 'proxy' ? await upstreamTarball(ctx.store.db, name, version) : undefined;
  if (!source && fresh) {
    if (missed.size >= 10_000) missed.clear();
    missed.set(key, fresh.etag);
  }
  return source;
}

async function fetchTarball(
  ctx: Ctx,
  name: string,
  version: string,
  known: PackageHead | undefined,
  flowing: (s: PassThrough, size?: number) => void,
): Promise<Buffer | undefined> {
  // A tarball asked for before its packument (`npm ci` from a lockfile) has the packument fetched first.
  const head = known ?? (await proxyPackument(ctx, name, undefined));
  if (head?.origin !== 'proxy') return undefined;
  let source = await upstreamTarball(ctx.store.db, name, version);
  if (!source && known) source = await lookAgain(ctx, name, version, head.etag);
  if (!source) return undefined;
  const expected = source.integrity ? ssri.parse(source.integrity).pickAlgorithm() : 'sha512';
  const data = await upstreamRequest(ctx, source.url, { accept: '*/*' }, async (res) => {
    if (res.status === 404) {
      await res.discard();
      return undefined;
    }
    if (!res.ok) {
      throw new Refusal('upstream-unavailable', { detail: `upstream answered ${res.status} for the tarball` });
    }
    const out = new PassThrough();
    flowing(out, res.length || undefined);
    const hash = createHash(expected);
    // The integrity kept is sha512's, whatever the upstream gave: hashed as the bytes come, not again after.
    const sha512 = expected === 'sha512' ? hash : createHash('sha512');
    const chunks: Buffer[] = [];
    // The last chunk is held back until all the bytes are checked and kept: a client never has a whole
    // tarball that was refused.
    let last: Buffer | undefined;
    try {
      for await (const c of res.body as AsyncIterable<Buffer>) {
        hash.update(c);
        if (sha512 !== hash) sha512.update(c);
        chunks.push(c);
        if (last) out.write(last);
        last = c;
      }
    } catch (e) {
      out.destroy(e as Error);
      throw e;
    }
    const got = `${expected}-${hash.digest('base64')}`;
    const integrity = sha512 === hash ? got : `sha512-${sha512.digest('base64')}`;
    if (source.integrity && !ssri.parse(source.integrity).match(got)) {
      // Not a Refusal: the breaker counts it, as it counts any other broken answer.
      const err = new Error(`the upstream tarball of ${name}@${version} fails its integrity check`);
      out.destroy(err);
      throw err;
    }
    return { data: Buffer.concat(chunks), integrity, out, last };
  });
  if (!data) return undefined;
  // A local publish of the name, or its scope taken here, while the bytes came: the upstream's tarball is not
  // its, and the client does not get its last bytes. A purge meanwhile is not that: the name is still public,
  // the bytes matched, and those asking get them (not kept: the purge forgot the versions they would go with).
  if ((await packageOrigin(ctx.store.db, name)) === 'local' || !(await mayServeProxied(ctx, name))) {
    data.out.destroy(new Error(`${name} is no longer an upstream package`));
    return undefined;
  }
  // The bytes matched their integrity: the first asker has them all now, without waiting for them to be
  // kept (a write to S3 takes tens of milliseconds). Requests that came meanwhile wait for `done`, which
  // settles once they are kept, so none of them fetches the tarball again.
  data.out.end(data.last);
  let kept = false;
  let origin: string | undefined;
  try {
    const blob = await ctx.store.blobs.put(data.data, data.integrity);
    const { integrity } = data;
    kept = await ctx.store.transaction(async (trx) => {
      // Checked again under the package's lock: a publish or purge that won it keeps the name.
      await lockPackage(trx, name);
      origin = await packageOrigin(trx, name);
      if (origin !== 'proxy') return false;
      await insertProxiedTarball(trx, name, version, integrity, data.data.length, blob, ctx.clock.now());
      return true;
    });
    // The next read (the warm install's) finds where they are, and the bytes in memory, without reading back
    // what was just written.
    if (kept) readCache(ctx.store).keepTarballBlob(name, version, blob);
    if (kept && !ctx.store.blobs.url) readCache(ctx.store).keepBlob(blob, data.data);
  } catch (e) {
    // Served but not kept: the next request fetches it again. The store's own health shows in /-/ready.
    ctx.log?.warn({ package: name, version, error: (e as Error).message }, 'an upstream tarball could not be kept');
    return data.data;
  }
  // Not kept because the name became local meanwhile: those waiting get what a local package without the version
  // gives. Not kept because it was purged: they get the bytes, and the next read fetches them again.
  return kept || origin !== 'local' ? data.data : undefined;
}
