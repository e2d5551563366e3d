// Metrics, liveness and readiness: /-/metrics scraped while real clients work (every family there,
// counters moving, no private package name, user name or token in a label), scrapers refused with the
// plain 404 of an unknown URL, readiness failing by part and while `tessera serve` shuts down.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { escaped, publishBody } from '../helpers/publish-body.ts';
import { makeNpm, makeProject } from '../helpers/npm.ts';
import { serve } from '../helpers/cli.ts';
import { blobsAway } from '../helpers/blobs-away.ts';
import { defaults } from '../../src/config/config.ts';

const BEARER = 'scrape-secret-0123456789';
const PRIVATE = '@alice/secret-formula';

type Sample = { name: string; labels: Record<string, string>; value: number };

function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of the samples named `name` whose labels include `want`. */
function total(samples: Sample[], name: string, want: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

async function scrape(s: TestServer, headers: Record<string, string> = { authorization: `Bearer ${BEARER}` }) {
  const res = await fetch(`${s.url}-/metrics`, { headers });
  return { res, text: await res.text() };
}

async function publish(s: TestServer, token: string, name: string, version: string, access: string | null = null) {
  const res = await fetch(`${s.url}${escaped(name)}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(await publishBody(name, version, { access })),
  });
  assert.equal(res.status, 201, await res.text());
}

describe('metrics', () => {
  let up: TestServer;
  let s: TestServer;
  let token: string;

  before(async () => {
    up = await startServer();
    await up.addUser('upstreamer');
    await publish(up, await up.token({ user: 'upstreamer' }), 'from-upstream', '1.0.0');
    s = await startServer({
      metrics: { allowCidrs: [], allowBearers: [BEARER] },
      upstream: { ...defaults.upstream, url: up.url, cacheTtlMs: 60_000, timeoutMs: 5_000 },
    });
    await s.addUser('alice');
    token = await s.token({ user: 'alice' });
    await publish(s, token, 'open-pkg', '1.0.0');
    await publish(s, token, PRIVATE, '1.0.0', 'restricted');
  });
  after(async () => {
    await s.close();
    await up.close();
  });

  test('every family is there once requests were made, the install path included', async () => {
    const npm = makeNpm(s.url);
    npm.setToken(s.host, token);
    const r = await npm.run(['install', 'open-pkg', PRIVATE, 'from-upstream'], { cwd: makeProject() });
    assert.equal(r.code, 0, r.output);
    // A second read of a proxied package comes from its cache; bad credentials and a hidden name are refused.
    assert.equal((await fetch(`${s.url}from-upstream`)).status, 200);
    assert.equal(
      (await fetch(`${s.url}open-pkg`, { headers: { authorization: 'Bearer tsr_not_a_token' } })).status,
      401,
    );
    const basic = `Basic ${Buffer.from('alice:wrong-password').toString('base64')}`;
    assert.equal((await fetch(`${s.url}-/whoami`, { headers: { authorization: basic } })).status, 401);
    assert.equal((await fetch(`${s.url}${escaped(PRIVATE)}`)).status, 404);
    const tag = await fetch(`${s.url}-/package/open-pkg/dist-tags/stable`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '"1.0.0"',
    });
    assert.equal(tag.status, 201);

    const { res, text } = await scrape(s);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const m = parse(text);
    const families = [
      'tessera_http_requests_total',
      'tessera_http_request_duration_seconds_bucket',
      'tessera_refusals_total',
      'tessera_authentications_total',
      'tessera_package_events_total',
      'tessera_proxy_requests_total',
      'tessera_proxy_upstream_duration_seconds_count',
      'tessera_read_cache_requests_total',
      'tessera_nodejs_eventloop_lag_p99_seconds',
      'tessera_process_resident_memory_bytes',
      'tessera_nodejs_heap_size_used_bytes',
      'tessera_db_query_duration_seconds_count',
      'tessera_blob_operation_duration_seconds_count',
    ];
    for (const f of families)
      assert.ok(
        m.some((x) => x.name === f),
        `${f} is missing`,
      );
    assert.ok(total(m, 'tessera_http_requests_total', { family: 'packument', method: 'GET', status: '200' }) >= 3);
    assert.ok(total(m, 'tessera_http_requests_total', { family: 'tarball', method: 'GET', status: '200' }) >= 2);
    assert.ok(total(m, 'tessera_http_requests_total', { family: 'publish', method: 'PUT', status: '201' }) >= 2);
    assert.ok(total(m, 'tessera_http_requests_total', { family: 'dist-tags', method: 'PUT', status: '201' }) >= 1);
    assert.ok(total(m, 'tessera_refusals_total', { reason: 'token-invalid' }) >= 1);
    assert.ok(total(m, 'tessera_refusals_total', { reason: 'not-found' }) >= 1);
    assert.ok(total(m, 'tessera_authentications_total', { kind: 'session', outcome: 'ok' }) >= 3);
    assert.ok(total(m, 'tessera_authentications_total', { kind: 'token', outcome: 'token-invalid' }) >= 1);
    assert.ok(total(m, 'tessera_authentications_total', { kind: 'password', outcome: 'password-wrong' }) >= 1);
    assert.ok(total(m, 'tessera_package_events_total', { event: 'publish' }) >= 2);
    assert.ok(total(m, 'tessera_package_events_total', { event: 'dist-tag' }) >= 1);
    assert.ok(total(m, 'tessera_proxy_requests_total', { kind: 'packument', outcome: 'ok' }) >= 1);
    assert.ok(total(m, 'tessera_proxy_requests_total', { kind: 'packument', outcome: 'cache-hit' }) >= 1);
    assert.ok(total(m, 'tessera_db_query_duration_seconds_count', { op: 'select' }) > 0);
    assert.ok(total(m, 'tessera_blob_operation_duration_seconds_count', { op: 'put' }) >= 2);
  });

  test('counters move as requests are made, answers from memory included', async () => {
    await fetch(`${s.url}open-pkg`).then((r) => r.arrayBuffer());
    const before = parse((await scrape(s)).text);
    const n = 25;
    for (let i = 0; i < n; i++)
      assert.equal(
        await fetch(`${s.url}open-pkg`).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        }),
        200,
      );
    const after = parse((await scrape(s)).text);
    const moved = (name: string, want: Record<string, string>) => total(after, name, want) - total(before, name, want);
    const get = { family: 'packument', method: 'GET', status: '200' };
    assert.ok(moved('tessera_http_requests_total', get) >= n);
    assert.ok(moved('tessera_http_request_duration_seconds_count', get) >= n);
    assert.ok(moved('tessera_http_request_duration_seconds_bucket', { ...get, le: '+Inf' }) >= n);
    // The requests were answered before Fastify (install-reads.ts): the read cache counts them as hits.
    assert.ok(moved('tessera_read_cache_requests_total', { result: 'hit' }) >= n);
    assert.ok(moved('tessera_http_requests_total', { family: 'ops', method: 'GET', status: '200' }) >= 1);
  });

  test('no label carries a private package name, a user name or a token', async () => {
    const { text } = await scrape(s);
    for (const secret of [
      PRIVATE,
      'secret-formula',
      'alice',
      token,
      token.slice(4),
      'tsr_not_a_token',
      'wrong-password',
      BEARER,
    ]) {
      assert.ok(!text.includes(secret), `the metrics mention ${secret}`);
    }
    for (const x of parse(text))
      for (const v of Object.values(x.labels)) assert.doesNotMatch(v, /open-pkg|from-upstream|@|\//);
  });

  test('a scraper without the secret gets the plain 404 of an unknown URL', async () => {
    const unknown = await fetch(`${s.url}-/no-such-endpoint`);
    const unknownBody = (await unknown.json()) as Record<string, unknown>;
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer wrong-secret-0123456789' },
      { authorization: `Bearer ${token}` },
      { authorization: `Basic ${Buffer.from(`x:${BEARER}`).toString('base64')}` },
    ]) {
      const { res, text } = await scrape(s, headers);
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('x-tessera-reason'), 'route-not-found');
      const body = JSON.parse(text) as Record<string, unknown>;
      assert.deepEqual({ ...body, help: undefined }, { ...unknownBody, help: undefined });
    }
  });
});

describe('metrics.allow by address', () => {
  test('never served by default, even with a secret; served to allowed ranges only', async () => {
    const plain = await startServer();
    const elsewhere = await startServer({ metrics: { allowCidrs: ['10.0.0.0/8', '::1/128'], allowBearers: [] } });
    const local = await startServer({ metrics: { allowCidrs: ['127.0.0.0/8'], allowBearers: [] } });
    try {
      assert.equal(defaults.metrics.allowCidrs.length + defaults.metrics.allowBearers.length, 0);
      assert.equal((await scrape(plain)).res.status, 404);
      assert.equal((await scrape(plain, {})).res.status, 404);
      assert.equal((await scrape(elsewhere, {})).res.status, 404);
      const ok = await scrape(local, {});
      assert.equal(ok.res.status, 200);
      assert.match(ok.text, /^# HELP tessera_/m);
    } finally {
      await plain.close();
      await elsewhere.close();
      await local.close();
    }
  });
});

describe('health', () => {
  test('healthz answers; readyz names the blob store, then the database, when they fail', async () => {
    const s = await startServer();
    try {
      const health = await fetch(`${s.url}-/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      let ready = await fetch(`${s.url}-/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: 'ok' });

      const blobsBack = await blobsAway(s);
      ready = await fetch(`${s.url}-/readyz`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { status: 'unavailable', failing: ['blobs'] });
      await blobsBack();
      assert.equal((await fetch(`${s.url}-/readyz`)).status, 200);

      await s.ctx.store.db.destroy();
      ready = await fetch(`${s.url}-/readyz`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { status: 'unavailable', failing: ['database'] });
      assert.equal((await fetch(`${s.url}-/healthz`)).status, 200);
    } finally {
      await s.close().catch(() => {});
    }
  });

  test('tessera serve: readyz answers 503 shutting-down from SIGTERM until it stops', async () => {
    const data = mkdtempSync(join(tmpdir(), 'tessera-health-'));
    const config = join(data, 'tessera.yaml');
    writeFileSync(config, 'shutdownDelay: 2s\nlogLevel: warn\n');
    const srv = await serve(['--data', data, '--config', config]);
    assert.equal((await fetch(`${srv.url}-/readyz`)).status, 200);
    const started = Date.now();
    const stopped = srv.stop('SIGTERM');
    let ready: Response | undefined;
    for (let i = 0; i < 40 && ready?.status !== 503; i++) {
      await new Promise((r) => setTimeout(r, 25));
      ready = await fetch(`${srv.url}-/readyz`);
    }
    assert.equal(ready?.status, 503);
    assert.deepEqual(await ready?.json(), { status: 'unavailable', failing: ['shutting-down'] });
    // Still serving meanwhile: only readiness says it is going away.
    assert.equal((await fetch(`${srv.url}-/healthz`)).status, 200);
    assert.equal(await stopped, 0);
    assert.ok(Date.now() - started >= 1900, 'the server stopped before shutdownDelay');
  });
});
