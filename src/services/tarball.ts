// Reads package.json out of an uploaded tarball (gzipped tar, npm's layout: package/package.json),
// refusing path traversal in entry names.
import { Parser, type ReadEntry } from 'tar';
import { Refusal } from '../domain/reasons.ts';

const MAX_MANIFEST = 5 * 1024 * 1024;

export async function readTarballManifest(tgz: Buffer): Promise<Record<string, unknown>> {
  let manifestText: string | undefined;
  let badPath: string | undefined;
  let entries = 0;
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        entries++;
        const p = entry.path;
        if (p.split(/[\\/]/).includes('..') || p.startsWith('/')) badPath ??= p;
        // npm packs everything under one top-level folder (usually "package/").
        if (/^[^/]+\/package\.json$/.test(p) && manifestText === undefined && entry.size <= MAX_MANIFEST) {
          const chunks: Buffer[] = [];
          entry.on('data', (c: Buffer) => chunks.push(c));
          entry.on('end', () => { manifestText = Buffer.concat(chunks).toString('utf8'); });
        } else {
          entry.resume();
        }
      },
    });
    parser.on('error', reject);
    parser.on('warn', (_code: string, msg: string) => reject(new Error(msg)));
    parser.on('end', () => resolve());
    parser.end(tgz);
  }).catch((err: Error) => {
    throw new Refusal('tarball-mismatch', { detail: `the attachment is not a readable gzipped tarball (${err.message})` });
  });
  if (badPath !== undefined) throw new Refusal('tarball-mismatch', { detail: `the tarball has an unsafe file name: ${JSON.stringify(badPath)}` });
  if (entries === 0) throw new Refusal('tarball-mismatch', { detail: 'the tarball is empty' });
  if (manifestText === undefined) throw new Refusal('tarball-mismatch', { detail: 'the tarball has no package/package.json' });
  try {
    const m = JSON.parse(manifestText) as unknown;
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw new Error('not an object');
    return m as Record<string, unknown>;
  } catch (e) {
    throw new Refusal('tarball-mismatch', { detail: `package.json inside the tarball is not valid JSON (${(e as Error).message})` });
  }
}
