// Bad input gets a clear 4xx with a reason, loses nothing, and the server keeps serving.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeTarball, publishBody, escaped } from '../helpers/publish-body.ts';

describe('bad input', () => {
  let s: TestServer;
  let token: string;
  const put = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${s.url}${path}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body),
    });
  async function expectRefusal(res: Response, status: number, reason: string, text?: RegExp) {
    const body = (await res.json()) as { error: string };
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(res.headers.get('x-tessera-reason'), reason);
    assert.equal(typeof body.error, 'string');
    if (text) assert.match(body.error, text);
  }
  async function versionsOf(name: string): Promise<string[]> {
    const res = await fetch(`${s.url}${escaped(name)}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status === 404) return [];
    return Object.keys(((await res.json()) as { versions: object }).versions);
  }

  before(async () => {
    s = await startServer({ maxBodyBytes: 64 * 1024 });
    await s.addUser('alice');
    token = await s.token({ user: 'alice' });
    const ok = await put('good', await publishBody('good', '1.0.0'));
    assert.equal(ok.status, 201);
  });
  after(async () => {
    await s.close();
  });

  test('malformed JSON', async () => {
    await expectRefusal(await put('good', '{"name": "good", '), 400, 'bad-json', /not valid JSON/);
  });

  test('prototype-poisoning keys in a JSON body are refused', async () => {
    await expectRefusal(await put('good', '{"name": "good", "__proto__": {"admin": true}}'), 400, 'bad-json');
    await expectRefusal(
      await put('good', '{"name": "good", "constructor": {"prototype": {"admin": true}}}'),
      400,
      'bad-json',
    );
  });

  test('an empty body with a JSON content type is no body, not bad JSON', async () => {
    const t = await s.token({ user: 'alice' });
    const res = await fetch(`${s.url}-/user/token/${t}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
    });
    assert.equal(res.status, 200, await res.text());
    const after = await fetch(`${s.url}-/whoami`, { headers: { authorization: `Bearer ${t}` } });
    assert.equal(after.status, 401);
  });

  test('a JSON body that is not an object', async () => {
    await expectRefusal(await put('good', '[1,2]'), 400, 'bad-json');
  });

  test('a body over the configured size', async () => {
    const big = await publishBody('good', '1.0.1', { tarball: Buffer.alloc(100 * 1024, 1) });
    await expectRefusal(await put('good', big), 413, 'body-too-large', /65536 bytes/);
  });

  test('a tarball whose package.json names another package', async () => {
    const tgz = await makeTarball({ 'package/package.json': JSON.stringify({ name: 'other', version: '1.0.1' }) });
    await expectRefusal(
      await put('good', await publishBody('good', '1.0.1', { tarball: tgz })),
      400,
      'tarball-mismatch',
      /other@1\.0\.1, not good@1\.0\.1/,
    );
  });

  test('a tarball that does not match its integrity, shasum or length', async () => {
    const body = await publishBody('good', '1.0.1');
    const v = body.versions['1.0.1'] as { dist: { integrity: string; shasum: string } };
    const bad1 = structuredClone(body);
    (bad1.versions['1.0.1'] as typeof v).dist.integrity = 'sha512-' + Buffer.alloc(64).toString('base64');
    await expectRefusal(await put('good', bad1), 400, 'tarball-mismatch', /integrity/);
    // An integrity in another algorithm is checked by hashing with it.
    const bad4 = structuredClone(body);
    (bad4.versions['1.0.1'] as typeof v).dist.integrity = 'sha1-' + Buffer.alloc(20).toString('base64');
    await expectRefusal(await put('good', bad4), 400, 'tarball-mismatch', /integrity/);
    const bad2 = structuredClone(body);
    (bad2.versions['1.0.1'] as typeof v).dist.shasum = '0'.repeat(40);
    await expectRefusal(await put('good', bad2), 400, 'tarball-mismatch', /shasum/);
    const bad3 = structuredClone(body);
    (bad3._attachments['good-1.0.1.tgz'] as { length: number }).length += 1;
    await expectRefusal(await put('good', bad3), 400, 'tarball-mismatch', /length/);
  });

  test('a tarball whose integrity the client gave in sha1 only is checked and kept under its sha512', async () => {
    const body = await publishBody('sha1-given', '1.0.7');
    const v = body.versions['1.0.7'] as { dist: { integrity: string } };
    const tgz = Buffer.from((body._attachments['sha1-given-1.0.7.tgz'] as { data: string }).data, 'base64');
    v.dist.integrity = `sha1-${createHash('sha1').update(tgz).digest('base64')}`;
    const res = await put('sha1-given', body);
    assert.equal(res.status, 201, await res.text());
    const auth = { authorization: `Bearer ${token}` };
    const doc = (await (await fetch(`${s.url}sha1-given`, { headers: auth })).json()) as {
      versions: Record<string, typeof v>;
    };
    const sha512 = `sha512-${createHash('sha512').update(tgz).digest('base64')}`;
    assert.equal(doc.versions['1.0.7'].dist.integrity, sha512);
    const back = Buffer.from(
      await (await fetch(`${s.url}sha1-given/-/sha1-given-1.0.7.tgz`, { headers: auth })).arrayBuffer(),
    );
    assert.ok(back.equals(tgz));
  });

  test('an attachment that is not a tarball', async () => {
    await expectRefusal(
      await put('good', await publishBody('good', '1.0.1', { tarball: Buffer.from('not a tarball at all') })),
      400,
      'tarball-mismatch',
      /not a readable gzipped tarball/,
    );
  });

  test('path traversal in tarball entries and names', async () => {
    const tgz = await makeTarball({ 'package/package.json': JSON.stringify({ name: 'good', version: '1.0.1' }) });
    // Rewrite the tar header's path by hand: "package/../../evil" cannot be made by tar.c.
    // The entry comes before package.json: reading stops at the manifest, and names up to it are checked.
    const evil = await makeTarball({
      'package/xx/evil.txt': 'x',
      'package/package.json': JSON.stringify({ name: 'good', version: '1.0.1' }),
    });
    const { gunzipSync } = await import('node:zlib');
    const raw = gunzipSync(evil);
    const idx = raw.indexOf('package/xx/evil.txt');
    raw.write('package/../evil.txt', idx, 'latin1');
    // fix the header checksum
    const hdr = idx - (idx % 512);
    raw.fill(' ', hdr + 148, hdr + 156);
    let sum = 0;
    for (let i = hdr; i < hdr + 512; i++) sum += raw[i];
    raw.write(`${sum.toString(8).padStart(6, '0')}\0 `, hdr + 148, 'latin1');
    await expectRefusal(
      await put('good', await publishBody('good', '1.0.1', { tarball: gzipSync(raw) })),
      400,
      'tarball-mismatch',
      /unsafe file name/,
    );
    assert.ok(tgz.length > 0);
    for (const path of ['..%2f..%2fetc%2fpasswd', '%2e%2e', '@scope%2f..%2f..']) {
      const res = await fetch(`${s.url}${path}`);
      assert.equal(res.status, 404, path);
    }
    const traversal = await put('..%2fevil', await publishBody('../evil', '1.0.0'));
    assert.ok([400, 404].includes(traversal.status));
  });

  test("invalid package names are refused with npm's own rules", async () => {
    await expectRefusal(
      await put('Has-Caps', await publishBody('Has-Caps', '1.0.0')),
      400,
      'invalid-name',
      /capital letters/,
    );
    await expectRefusal(await put('.hidden', await publishBody('.hidden', '1.0.0')), 400, 'invalid-name');
    await expectRefusal(
      await put('node_modules', await publishBody('node_modules', '1.0.0')),
      400,
      'invalid-name',
      /blocklisted|not a valid/,
    );
  });

  test('invalid semver', async () => {
    const body = await publishBody('good', '1.0.1');
    const bad = {
      ...body,
      'dist-tags': { latest: 'one.two' },
      versions: { 'one.two': { ...body.versions['1.0.1'], version: 'one.two' } },
    };
    await expectRefusal(await put('good', bad), 400, 'invalid-version', /one\.two/);
  });

  test('more than one version in one publish', async () => {
    const a = await publishBody('good', '1.0.1');
    const b = await publishBody('good', '1.0.2');
    await expectRefusal(
      await put('good', { ...a, versions: { ...a.versions, ...b.versions } }),
      400,
      'invalid-publish',
      /exactly one version/,
    );
  });

  test('a document whose name differs from the URL', async () => {
    await expectRefusal(
      await put('good', await publishBody('other', '1.0.0')),
      400,
      'invalid-publish',
      /names "other"/,
    );
  });

  test('unknown routes and methods', async () => {
    let res = await fetch(`${s.url}-/no/such/endpoint`);
    await expectRefusal(res, 404, 'route-not-found');
    res = await fetch(`${s.url}good/-/good-1.0.0.tgz`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}` },
      body: '{}',
    });
    await expectRefusal(res, 405, 'method-not-allowed');
  });

  test('a gzip body that is not gzip', async () => {
    const res = await fetch(`${s.url}-/npm/v1/security/advisories/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: 'plain text',
    });
    assert.ok(res.status >= 400 && res.status < 500, String(res.status));
    const ok = await fetch(`${s.url}-/npm/v1/security/advisories/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync('{"good":["1.0.0"]}'),
    });
    // Inflated and parsed; with no upstream to forward the audit to, the answer is the reason.
    assert.equal(ok.status, 404);
    assert.equal(ok.headers.get('x-tessera-reason'), 'audit-unavailable');
  });

  test('a broken gzip body on a request whose body is never read (GET) does not take the server down', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${s.url}-/ping`,
        { method: 'GET', headers: { 'content-encoding': 'gzip', 'content-length': '5' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('abcde');
    });
    assert.ok(status < 500, String(status));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await fetch(`${s.url}-/ping`)).status, 200);
  });

  test('nothing was half-written and the server still serves', async () => {
    assert.deepEqual(await versionsOf('good'), ['1.0.0']);
    assert.deepEqual(await versionsOf('other'), []);
    const ok = await put('good', await publishBody('good', '1.0.1'));
    assert.equal(ok.status, 201);
    assert.deepEqual(await versionsOf('good'), ['1.0.0', '1.0.1']);
  });

  test('provenance bundles are kept and served; a bundle that is not JSON is refused', async () => {
    const body = await publishBody('proven', '1.0.0');
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      predicateType: 'https://slsa.dev/provenance/v1',
      subject: [{ name: 'pkg:npm/proven@1.0.0' }],
    };
    const bundle = {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      dsseEnvelope: {
        payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
        payloadType: 'application/vnd.in-toto+json',
        signatures: [],
      },
    };
    const bad = {
      ...body,
      _attachments: {
        ...body._attachments,
        'proven-1.0.0.sigstore': { content_type: bundle.mediaType, data: '{not json', length: 9 },
      },
    };
    await expectRefusal(await put('proven', bad), 400, 'invalid-publish', /not a JSON sigstore bundle/);
    const data = JSON.stringify(bundle);
    const ok = {
      ...body,
      _attachments: {
        ...body._attachments,
        'proven-1.0.0.sigstore': { content_type: bundle.mediaType, data, length: data.length },
      },
    };
    assert.equal((await put('proven', ok)).status, 201);
    const doc = (await (await fetch(`${s.url}proven`)).json()) as {
      versions: Record<string, { dist: { attestations?: { url: string } } }>;
    };
    const url = doc.versions['1.0.0'].dist.attestations?.url;
    assert.equal(url, `${s.url}-/npm/v1/attestations/proven@1.0.0`);
    const res = await fetch(url!);
    assert.equal(res.status, 200);
    const served = (await res.json()) as { attestations: { predicateType: string; bundle: unknown }[] };
    assert.equal(served.attestations[0].predicateType, 'https://slsa.dev/provenance/v1');
    assert.deepEqual(served.attestations[0].bundle, bundle);
    assert.equal((await fetch(`${s.url}-/npm/v1/attestations/good@1.0.0`)).status, 404);
  });

  test('packuments: ETag and 304, weak ETag for the abbreviated form, HEAD without a body', async () => {
    const full = await fetch(`${s.url}good`);
    const etag = full.headers.get('etag')!;
    assert.match(etag, /^"\d+-[0-9a-f]+"$/);
    assert.equal(full.headers.get('vary'), 'Accept, Authorization');
    assert.equal(Number(full.headers.get('content-length')), (await full.arrayBuffer()).byteLength);
    const again = await fetch(`${s.url}good`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal((await again.arrayBuffer()).byteLength, 0);
    const corgi = await fetch(`${s.url}good`, {
      headers: { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*' },
    });
    assert.equal(corgi.headers.get('content-type'), 'application/vnd.npm.install-v1+json');
    assert.equal(corgi.headers.get('etag'), `W/${etag}`);
    const head = await fetch(`${s.url}good`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal((await head.arrayBuffer()).byteLength, 0);
    const tgz = await fetch(`${s.url}good/-/good-1.0.0.tgz`);
    assert.equal(tgz.status, 200);
    assert.equal(tgz.headers.get('content-type'), 'application/octet-stream');
    assert.equal(Number(tgz.headers.get('content-length')), (await tgz.arrayBuffer()).byteLength);
  });

  test('concurrent publishes of the same version: exactly one wins', async () => {
    const body = await publishBody('race', '1.0.0');
    const results = await Promise.all(Array.from({ length: 8 }, () => put('race', body)));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 403, 403, 403, 403, 403, 403, 403]);
    assert.deepEqual(await versionsOf('race'), ['1.0.0']);
  });
});
