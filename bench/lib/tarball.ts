// Builds what `npm publish` sends: a real gzipped tarball (package/package.json and a file or two)
// and the PUT /<name> document that carries it as a base64 attachment.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import ssri from 'ssri';

export type Manifest = Record<string, unknown> & { name: string; version: string };

/** A manifest shaped like a typical small library's: some dependencies, scripts, metadata. */
export function manifestFor(name: string, version: string): Manifest {
  return {
    name,
    version,
    description: `Benchmark package ${name}, a small library with a few dependencies`,
    main: 'index.js',
    types: 'index.d.ts',
    license: 'MIT',
    keywords: ['bench', 'tessera', 'registry'],
    author: { name: 'Bench Author', email: 'bench@example.com' },
    repository: { type: 'git', url: `git+https://example.com/bench/${name}.git` },
    homepage: `https://example.com/bench/${name}#readme`,
    bugs: { url: `https://example.com/bench/${name}/issues` },
    engines: { node: '>=18' },
    scripts: { test: 'node --test', build: 'tsc -p .' },
    dependencies: { 'left-pad': '^1.3.0', semver: '^7.6.0', debug: '^4.3.4' },
    devDependencies: { typescript: '^5.4.0', '@types/node': '^20.0.0' },
    files: ['index.js', 'index.d.ts'],
  };
}

/** `tar.c({gzip: true, cwd}, ['package'])` over a temporary folder holding package/package.json. */
export function makeTarball(manifest: Manifest, scratch?: string): Buffer {
  const dir = scratch ?? mkdtempSync(join(tmpdir(), 'tessera-bench-pkg-'));
  try {
    mkdirSync(join(dir, 'package'), { recursive: true });
    writeFileSync(join(dir, 'package', 'package.json'), JSON.stringify(manifest, null, 2));
    writeFileSync(join(dir, 'package', 'index.js'), `module.exports = () => ${JSON.stringify(manifest.version)};\n`);
    writeFileSync(join(dir, 'package', 'index.d.ts'), 'declare const v: () => string;\nexport = v;\n');
    const chunks: Buffer[] = [];
    // Synchronous packing (about 1 ms per tarball) emits every chunk before c() returns.
    // A fixed mtime and portable headers keep the bytes reproducible.
    const stream = tar.c({ gzip: true, cwd: dir, sync: true, portable: true, mtime: new Date(0) }, ['package']);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    return Buffer.concat(chunks);
  } finally {
    if (!scratch) rmSync(dir, { recursive: true, force: true });
  }
}

/** The document npm PUTs to /<name> for one version. */
export function publishBody(manifest: Manifest, tgz: Buffer, tag = 'latest'): Record<string, unknown> {
  const { name, version } = manifest;
  const integrity = ssri.fromData(tgz, { algorithms: ['sha512'] }).toString();
  const shasum = createHash('sha1').update(tgz).digest('hex');
  const base = name.startsWith('@') ? name.slice(name.indexOf('/') + 1) : name;
  return {
    _id: name,
    name,
    description: manifest.description,
    'dist-tags': { [tag]: version },
    versions: { [version]: { ...manifest, _id: `${name}@${version}`, dist: { integrity, shasum } } },
    access: null,
    _attachments: {
      [`${base}-${version}.tgz`]: {
        content_type: 'application/octet-stream',
        data: tgz.toString('base64'),
        length: tgz.length,
      },
    },
  };
}

/** PUT /<name> over HTTP with a bearer token, as npm does; throws with the server's answer on failure. */
/** One publish PUT; `body` may be the JSON text already, so a caller can build it before timing starts. */
export async function publishOverHttp(
  url: string,
  token: string,
  body: Record<string, unknown> | { name: string; text: string },
): Promise<void> {
  const name = String(body.name);
  const res = await fetch(new URL(name.replace('/', '%2f'), url), {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'npm-command': 'publish' },
    body: typeof body.text === 'string' ? body.text : JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`publish ${name}: HTTP ${res.status} ${await res.text()}`);
  await res.arrayBuffer().catch(() => {});
}
