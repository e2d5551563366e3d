// Reads package.json out of an uploaded tarball (gzipped tar, npm's layout: package/package.json),
// refusing path traversal in the entry names before it. The tarball is streamed, never unpacked in one piece:
// Node's zlib inflates it on the thread pool in small chunks, each handed to tar's parser as it comes, so the
// event loop keeps answering other requests. Reading stops at the first package.json, or once
// `maxUnpackedBytes` were unpacked: what follows the manifest is never inflated.
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { Refusal } from '../domain/reasons.ts';

/** A package.json larger than this is not a manifest anyone meant to publish. */
export const MAX_MANIFEST = 5 * 1024 * 1024;
/** Unpacked bytes per step: small enough for the event loop, large enough not to crawl. */
const CHUNK = 64 * 1024;

/** tar's parser would inflate a gzip or zstd stream itself, synchronously: a tarball compressed twice is refused. */
function compressedAgain(head: Buffer): boolean {
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  return gzip || (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd);
}

function unreadable(why: string): Refusal {
  return new Refusal('tarball-mismatch', { detail: `the attachment is not a readable gzipped tarball (${why})` });
}

/**
 * The package.json of the first `<top>/package.json` entry. The names of the entries up to it are checked,
 * and every unpacked byte counts against `maxUnpackedBytes` (past it: `tarball-too-large`).
 */
export async function readTarballManifest(tgz: Buffer, maxUnpackedBytes: number): Promise<Record<string, unknown>> {
  let manifestText: string | undefined;
  let badPath: string | undefined;
  let entries = 0;
  await new Promise<void>((resolve, reject) => {
    const gunzip = createGunzip({ chunkSize: CHUNK });
    let unpacked = 0;
    let settled = false;
    let eof = false;
    const finish = (err?: Refusal) => {
      if (settled) return;
      settled = true;
      // Stops the inflation at once: whatever is left of the attachment is never unpacked.
      gunzip.destroy();
      if (err) reject(err);
      else resolve();
    };
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        entries++;
        const p = entry.path;
        if (manifestText !== undefined) return entry.resume();
        if (p.split(/[\\/]/).includes('..') || p.startsWith('/')) badPath ??= p;
        // npm packs everything under one top-level folder (usually "package/").
        if (/^[^/]+\/package\.json$/.test(p) && manifestText === undefined) {
          if (entry.size > MAX_MANIFEST) {
            const detail = `${p} is ${entry.size} bytes; at most ${MAX_MANIFEST} are accepted`;
            finish(new Refusal('tarball-too-large', { detail }));
            return;
          }
          const chunks: Buffer[] = [];
          entry.on('data', (c: Buffer) => chunks.push(c));
          entry.on('end', () => {
            manifestText = Buffer.concat(chunks).toString('utf8');
            finish(); // the rest of the tarball is never unpacked
          });
        } else {
          entry.resume();
        }
      },
    });
    parser.on('error', (e: Error) => finish(unreadable(e.message)));
    parser.on('warn', (_code: string, msg: string) => finish(unreadable(msg)));
    parser.on('end', () => finish());
    // The tar ends at two empty blocks; tar's parser would keep what follows in one growing buffer.
    parser.on('eof', () => {
      eof = true;
      gunzip.destroy();
      parser.end();
    });
    gunzip.on('data', (chunk: Buffer) => {
      if (settled || eof) return;
      if (unpacked === 0 && compressedAgain(chunk)) return finish(unreadable('the tar inside is compressed again'));
      unpacked += chunk.length;
      if (unpacked > maxUnpackedBytes) {
        const detail = `it unpacks to more than ${maxUnpackedBytes} bytes (maxUnpackedBytes)`;
        return finish(new Refusal('tarball-too-large', { detail }));
      }
      parser.write(chunk);
    });
    gunzip.on('end', () => {
      if (!settled && !eof) parser.end();
    });
    gunzip.on('error', (e: Error) => finish(unreadable(e.message)));
    gunzip.end(tgz);
  });
  if (badPath !== undefined)
    throw new Refusal('tarball-mismatch', {
      detail: `the tarball has an unsafe file name: ${JSON.stringify(badPath)}`,
    });
  if (entries === 0) throw new Refusal('tarball-mismatch', { detail: 'the tarball is empty' });
  if (manifestText === undefined)
    throw new Refusal('tarball-mismatch', { detail: 'the tarball has no package/package.json' });
  try {
    const m = JSON.parse(manifestText) as unknown;
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw new Error('not an object');
    return m as Record<string, unknown>;
  } catch (e) {
    throw new Refusal('tarball-mismatch', {
      detail: `package.json inside the tarball is not valid JSON (${(e as Error).message})`,
    });
  }
}
