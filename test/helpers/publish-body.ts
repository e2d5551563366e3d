// Builds the body `npm publish` sends, around a real gzipped tarball, so HTTP-level tests can bend it.
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import ssri from 'ssri';

export async function makeTarball(files: Record<string, string>): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-tgz-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const chunks: Buffer[] = [];
    const stream = tar.c({ gzip: true, cwd: dir, portable: true }, Object.keys(files));
    for await (const c of stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function publishBody(
  name: string,
  version: string,
  opts: { tarball?: Buffer; access?: string | null; tag?: string } = {},
) {
  const tgz = opts.tarball ?? (await makeTarball({ 'package/package.json': JSON.stringify({ name, version }) }));
  const base = name.startsWith('@') ? name.split('/')[1] : name;
  return {
    _id: name,
    name,
    'dist-tags': { [opts.tag ?? 'latest']: version },
    versions: {
      [version]: {
        name,
        version,
        _id: `${name}@${version}`,
        dist: {
          integrity: ssri.fromData(tgz, { algorithms: ['sha512'] }).toString(),
          shasum: createHash('sha1').update(tgz).digest('hex'),
          tarball: `http://x/${name}/-/${base}-${version}.tgz`,
        },
      },
    },
    access: opts.access ?? null,
    _attachments: {
      [`${name}-${version}.tgz`]: {
        content_type: 'application/octet-stream',
        data: tgz.toString('base64'),
        length: tgz.length,
      },
    },
  };
}

export function escaped(name: string): string {
  return name.replace('/', '%2f');
}
