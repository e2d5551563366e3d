// /-/metrics read as strictly as a Prometheus server reads the text format (0.0.4), after traffic a test
// suite does not usually make: odd URLs, quotes and newlines in what callers send, refused credentials of
// each kind, a private package's reads. Every line must be a comment of a known kind or a sample of a family
// declared before it; label values escaped; no sample twice; histograms cumulative, with +Inf = _count.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { escaped, publishBody } from '../helpers/publish-body.ts';

const BEARER = 'scrape-secret-abcdefghijklmnop';
const PRIVATE = '@zed/quiet-thing';

type Family = { type: string; help: boolean };
type Sample = { name: string; labels: [string, string][]; value: number };

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label pairs of `{…}`, failing on anything the format does not allow (unescaped quote, raw newline…). */
function labelsOf(body: string, line: string): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  while (i < body.length) {
    const eq = body.indexOf('=', i);
    assert.ok(eq > i, `a label name in ${line}`);
    const name = body.slice(i, eq);
    assert.match(name, LABEL, line);
    assert.equal(body[eq + 1], '"', `a quoted value in ${line}`);
    let j = eq + 2;
    let value = '';
    for (; body[j] !== '"'; j++) {
      assert.ok(j < body.length, `a closed value in ${line}`);
      if (body[j] === '\\') {
        const next = body[++j];
        assert.ok(next === '\\' || next === '"' || next === 'n', `a known escape in ${line}`);
        value += next === 'n' ? '\n' : next;
      } else value += body[j];
    }
    out.push([name, value]);
    i = j + 1;
    if (body[i] === ',') i++;
    else assert.equal(i, body.length, `labels separated by commas in ${line}`);
  }
  return out;
}

function parseStrict(text: string): { families: Map<string, Family>; samples: Sample[] } {
  const families = new Map<string, Family>();
  const samples: Sample[] = [];
  assert.ok(text.endsWith('\n'), 'the text ends with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment;
      assert.match(name, NAME, line);
      const f = families.get(name) ?? { type: 'untyped', help: false };
      if (kind === 'HELP') {
        assert.ok(!f.help, `one HELP for ${name}`);
        assert.doesNotMatch(rest, /\\(?![\\n])/, `HELP escapes only \\ and newline: ${line}`);
        f.help = true;
      } else {
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest), line);
        assert.ok(
          !samples.some((s) => s.name === name || s.name.startsWith(`${name}_`)),
          `TYPE before samples: ${line}`,
        );
        f.type = rest;
      }
      families.set(name, f);
      continue;
    }
    assert.ok(!line.startsWith('#') || line.startsWith('# '), line);
    if (line.startsWith('#')) continue;
    const m = /^([^{\s]+)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    assert.ok(m, `a sample: ${JSON.stringify(line)}`);
    assert.match(m[1], NAME, line);
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : m[3] === 'NaN' ? Number.NaN : Number(m[3]);
    assert.ok(m[3] === 'NaN' || !Number.isNaN(value), `a number: ${line}`);
    samples.push({ name: m[1], labels: labelsOf(m[2] ?? '', line), value });
  }
  const seen = new Set<string>();
  for (const s of samples) {
    const key = `${s.name}{${s.labels.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
    assert.ok(!seen.has(key), `one sample ${key}`);
    seen.add(key);
    const family = [...families.keys()].find(
      (f) => s.name === f || ['_bucket', '_sum', '_count', '_total', '_created'].some((x) => s.name === f + x),
    );
    assert.ok(family, `${s.name} belongs to a declared family`);
  }
  return { families, samples };
}

describe('/-/metrics in the strict text format', () => {
  let s: TestServer;
  let text = '';
  before(async () => {
    s = await startServer({ metrics: { allowCidrs: [], allowBearers: [BEARER] } });
    await s.addUser('zed');
    const token = await s.token({ user: 'zed' });
    const res = await fetch(`${s.url}${escaped(PRIVATE)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(await publishBody(PRIVATE, '1.0.0', { access: 'restricted' })),
    });
    assert.equal(res.status, 201, await res.text());
    const odd = [
      `${s.url}%22quoted%22`,
      `${s.url}a%0Ab/-/a%0Ab-1.0.0.tgz`,
      `${s.url}-/v1/search?text=%22%5C%0A`,
      `${s.url}@zed%2fquiet-thing`,
      `${s.url}@zed%2fquiet-thing/-/quiet-thing-1.0.0.tgz`,
      `${s.url}-/whoami`,
    ];
    for (const url of odd) {
      for (const authorization of [
        undefined,
        `Bearer ${token}`,
        'Bearer tsr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        `Basic ${Buffer.from('zed:"wr0ng\npass').toString('base64')}`,
        'Weird "scheme"',
      ]) {
        await (await fetch(url, { headers: authorization ? { authorization } : {} })).arrayBuffer();
      }
    }
    await (await fetch(`${s.url}x`, { method: 'PROPFIND' }).catch(() => new Response())).arrayBuffer();
    const scraped = await fetch(`${s.url}-/metrics`, { headers: { authorization: `Bearer ${BEARER}` } });
    assert.equal(scraped.status, 200);
    assert.match(scraped.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    text = await scraped.text();
  });
  after(async () => {
    await s.close();
  });

  test('every line parses; families are declared once, before their samples; no sample twice', () => {
    const { families } = parseStrict(text);
    for (const f of [
      'tessera_http_request_duration_seconds',
      'tessera_refusals_total',
      'tessera_authentications_total',
    ])
      assert.ok(families.has(f), f);
  });

  test('histograms are cumulative, end at +Inf, and +Inf equals _count', () => {
    const { families, samples } = parseStrict(text);
    for (const [name, f] of families) {
      if (f.type !== 'histogram') continue;
      const series = new Map<string, Sample[]>();
      for (const s of samples.filter((x) => x.name === `${name}_bucket`)) {
        const key = JSON.stringify(s.labels.filter(([k]) => k !== 'le'));
        series.set(key, [...(series.get(key) ?? []), s]);
      }
      for (const [key, buckets] of series) {
        const les = buckets.map((b) => b.labels.find(([k]) => k === 'le')?.[1]);
        assert.equal(les.at(-1), '+Inf', `${name}${key} ends at +Inf`);
        for (let i = 1; i < buckets.length; i++) {
          assert.ok(Number(les[i]) > Number(les[i - 1]) || les[i] === '+Inf', `${name}${key} le ascending`);
          assert.ok(buckets[i].value >= buckets[i - 1].value, `${name}${key} cumulative`);
        }
        const count = samples.find((x) => x.name === `${name}_count` && JSON.stringify(x.labels) === key);
        assert.equal(count?.value, buckets.at(-1)?.value, `${name}${key}: +Inf = _count`);
      }
    }
  });

  test('no label value holds what a caller sent: names, paths, credentials, schemes', () => {
    const { samples } = parseStrict(text);
    for (const s of samples)
      for (const [k, v] of s.labels) {
        assert.doesNotMatch(v, /zed|quiet|quoted|wr0ng|Weird|tsr_|@|\/|"|\n/, `${s.name} ${k}=${v}`);
        assert.ok(v.length <= 64, `${s.name} ${k} is short: ${v}`);
      }
  });
});

describe('metrics.allow by address behind a proxy', () => {
  const scrape = async (s: TestServer, xff?: string) =>
    (await fetch(`${s.url}-/metrics`, { headers: xff ? { 'x-forwarded-for': xff } : {} })).status;

  test('X-Forwarded-For counts only from trustedProxies, and only its last untrusted address', async () => {
    const direct = await startServer({ metrics: { allowCidrs: ['10.0.0.0/8'], allowBearers: [] } });
    const proxied = await startServer({
      metrics: { allowCidrs: ['10.0.0.0/8'], allowBearers: [] },
      trustedProxies: ['127.0.0.1'],
    });
    try {
      assert.equal(await scrape(direct, '10.1.2.3'), 404, 'a caller names its own address: not believed');
      assert.equal(await scrape(proxied, '10.1.2.3'), 200, 'the trusted proxy says the scraper is in 10/8');
      assert.equal(await scrape(proxied, '10.1.2.3, 203.0.113.9'), 404, 'the proxy appended the real caller');
      assert.equal(await scrape(proxied), 404, 'the proxy itself is not in 10/8');
    } finally {
      await direct.close();
      await proxied.close();
    }
  });
});
