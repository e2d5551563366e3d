// A loopback registry standing in for the public one: a few hundred generated packages whose packuments
// carry real-sized version histories and whose installed versions have real gzipped tarballs, served over
// keep-alive HTTP with a fixed delay before each new connection is served (a TLS handshake on a real
// network). It counts the connections it accepts.
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import * as tar from 'tar';
import ssri from 'ssri';

export type Upstream = { url: string; connections(): number; requests(): number; close(): Promise<void> };
export type Fixture = { names: string[]; roots: string[]; docs: Map<string, Buffer>; tarballs: Map<string, Buffer> };

/** Deterministic pseudo-random numbers, so every run serves the same packages. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function tarballOf(name: string, version: string, bytes: number, rand: () => number): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-up-'));
  try {
    mkdirSync(join(dir, 'package', 'lib'), { recursive: true });
    const manifest = { name, version, main: 'lib/index.js' };
    writeFileSync(join(dir, 'package', 'package.json'), JSON.stringify(manifest, null, 2));
    // Source-like text that compresses about as real JavaScript does (3–4×).
    const words = [
      'function',
      'return',
      'const',
      'value',
      'options',
      'callback',
      'module',
      'exports',
      'length',
      'undefined',
    ];
    let text = '';
    while (text.length < bytes) text += `${words[Math.floor(rand() * 10)]}_${Math.floor(rand() * 1e6).toString(36)} `;
    writeFileSync(join(dir, 'package', 'lib', 'index.js'), text);
    const chunks: Buffer[] = [];
    const stream = tar.c({ gzip: true, cwd: dir, sync: true, portable: true, mtime: new Date(0) }, ['package']);
    stream.on('data', (c: Buffer) => chunks.push(c));
    return Buffer.concat(chunks);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `count` packages `bench-up-<i>`; package i depends on up to three packages after it, so the install of
 * the roots (every tenth package) pulls in all of them. Each packument has 10–60 versions of about 1.5 kB
 * (a few have 400, as popular packages do); the newest version, the one installed, has a 5–80 kB tarball.
 */
export function makeFixture(count: number, base: string): Fixture {
  const rand = rng(17);
  const names = Array.from({ length: count }, (_, i) => `bench-up-${i}`);
  const docs = new Map<string, Buffer>();
  const tarballs = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const name = names[i];
    const deps: Record<string, string> = {};
    for (let k = 0; k < 3; k++) {
      const j = i + 1 + Math.floor(rand() * 12);
      if (j < count && rand() < 0.8) deps[names[j]] = '^1.0.0';
    }
    const n = i % 50 === 7 ? 400 : 10 + Math.floor(rand() * 50);
    const versions: Record<string, unknown> = {};
    const time: Record<string, string> = { created: new Date(2020, 0, 1).toISOString() };
    let latest = '';
    for (let v = 0; v < n; v++) {
      const version = v === n - 1 ? '1.0.0' : `0.${Math.floor(v / 10)}.${v % 10}`;
      latest = version;
      const file = `${name}-${version}.tgz`;
      let integrity = `sha512-${createHash('sha512').update(file).digest('base64')}`;
      let shasum = createHash('sha1').update(file).digest('hex');
      if (v === n - 1) {
        const tgz = tarballOf(name, version, 15_000 + Math.floor(rand() * 250_000), rand);
        tarballs.set(`/${name}/-/${file}`, tgz);
        integrity = ssri.fromData(tgz, { algorithms: ['sha512'] }).toString();
        shasum = createHash('sha1').update(tgz).digest('hex');
      }
      versions[version] = {
        name,
        version,
        description: `The ${name} library: utilities for things, version ${version}`,
        main: 'lib/index.js',
        license: 'MIT',
        keywords: ['bench', 'utility', 'proxy'],
        author: { name: 'Bench', email: 'bench@example.com' },
        repository: { type: 'git', url: `git+https://example.com/${name}.git` },
        bugs: { url: `https://example.com/${name}/issues` },
        homepage: `https://example.com/${name}#readme`,
        engines: { node: '>=18' },
        dependencies: v === n - 1 ? deps : { [names[(i + 1) % count]]: '^0.1.0' },
        devDependencies: { typescript: '^5.4.0', mocha: '^10.0.0', eslint: '^9.0.0' },
        scripts: { test: 'mocha', lint: 'eslint .' },
        _id: `${name}@${version}`,
        _npmUser: { name: 'bench', email: 'bench@example.com' },
        maintainers: [{ name: 'bench', email: 'bench@example.com' }],
        dist: { integrity, shasum, tarball: `${base}/${name}/-/${file}`, fileCount: 2, unpackedSize: 20_000 },
      };
      time[version] = new Date(2020, 0, 1 + v).toISOString();
    }
    time.modified = time[latest];
    docs.set(
      `/${name}`,
      Buffer.from(
        JSON.stringify({
          _id: name,
          name,
          'dist-tags': { latest },
          versions,
          time,
          readme: `# ${name}\n\n${'Some documentation. '.repeat(100)}`,
          maintainers: [{ name: 'bench', email: 'bench@example.com' }],
        }),
      ),
    );
  }
  return { names, roots: names.filter((_, i) => i % 10 === 0), docs, tarballs };
}

/** Serves a fixture; `setupMs` passes before a new connection's first byte is read, and `rttMs` before each
 *  answer (a round trip across a real network; 0, the default, models none). */
export async function startUpstream(
  make: (base: string) => Fixture,
  setupMs: number,
  rttMs = 0,
): Promise<Upstream & { fixture: Fixture }> {
  let fixture: Fixture | undefined;
  let connections = 0;
  let requests = 0;
  const server: Server = createServer({ keepAlive: true }, (req, res) => {
    requests++;
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]).replace(/%2f/gi, '/');
    const body = fixture!.docs.get(path) ?? fixture!.tarballs.get(path);
    if (!body) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const type = path.endsWith('.tgz') ? 'application/octet-stream' : 'application/json';
    const answer = () => res.writeHead(200, { 'content-type': type, 'content-length': body.length }).end(body);
    if (rttMs > 0) setTimeout(answer, rttMs);
    else answer();
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket) => {
    connections++;
    socket.pause();
    setTimeout(() => socket.resume(), setupMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fixture = make(url);
  return {
    url,
    fixture,
    connections: () => connections,
    requests: () => requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
