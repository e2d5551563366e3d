// /-/metrics read against docs/operations.md, as an operator writes dashboards and alerts from the page: every
// family the table lists is served with exactly the labels it lists, every `family` label value is one the page
// names, and a hook delivery moves the counter the table promises.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { publishBody, escaped } from '../helpers/publish-body.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { HOOK_EVENTS } from '../../src/config/ops.ts';

const DOC = readFileSync(join(import.meta.dirname, '../../docs/operations.md'), 'utf8');
const BEARER = 'ops2-metrics-bearer-0123456789';

/** The table's rows: family name → its type and label names. */
function documentedFamilies(): Map<string, { type: string; labels: string[] }> {
  const out = new Map<string, { type: string; labels: string[] }>();
  for (const m of DOC.matchAll(/^\| `(tessera_[a-z_]+)` \| (counter|histogram) \| ([^|]*) \|/gm)) {
    out.set(m[1], { type: m[2], labels: [...m[3].matchAll(/`([a-z_]+)`/g)].map((l) => l[1]).sort() });
  }
  return out;
}

/** The route families the page lists after "Route families:". */
function documentedRouteFamilies(): Set<string> {
  const para = /Route families: ([\s\S]*?)\n\n/.exec(DOC)?.[1] ?? '';
  return new Set([...para.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]));
}

type Sample = { name: string; labels: Record<string, string>; value: number };
function parse(text: string): Sample[] {
  return text
    .split('\n')
    .map((line) => /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line))
    .filter((m) => m !== null)
    .map((m) => ({
      name: m[1],
      labels: Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]])),
      value: Number(m[3]),
    }));
}

describe('/-/metrics as docs/operations.md describes it', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  let receiver: Server;
  let token = '';
  let delivered = 0;
  before(async () => {
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        delivered++;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as { port: number }).port;
    s = await startServer({
      metrics: { allowCidrs: [], allowBearers: [BEARER] },
      hooks: [
        {
          name: 'ops',
          url: `http://127.0.0.1:${port}/`,
          secret: 'ops2-metrics-hook-secret',
          events: [...HOOK_EVENTS],
          package: null,
          scope: null,
          owner: null,
        },
      ],
    });
    await s.addUser('mira');
    token = await s.token({ user: 'mira' });
  });
  after(async () => {
    await s.close();
    await new Promise((r) => receiver.close(r));
  });

  test('every documented family is served with its documented labels; route families are the listed ones', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const put = await fetch(`${s.url}${escaped('metered')}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(await publishBody('metered', '1.0.0')),
    });
    assert.equal(put.status, 201, await put.text());
    // One request of many families: hooks, web pages, search, the sign-in page, a URL no route serves.
    for (const path of ['-/npm/v1/hooks', '-/web/', '-/v1/search?text=metered', '-/web/signin', '-/nope', '-/ping']) {
      await (await fetch(`${s.url}${path}`, { headers: auth })).arrayBuffer();
    }
    const deadline = Date.now() + 20_000;
    while (delivered === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(delivered > 0, 'the hook heard the publish');

    const res = await fetch(`${s.url}-/metrics`, { headers: { authorization: `Bearer ${BEARER}` } });
    assert.equal(res.status, 200);
    const text = await res.text();
    const samples = parse(text);
    const documented = documentedFamilies();
    assert.ok(documented.size >= 11, `the table was read (${documented.size} families)`);
    for (const [family, { type, labels }] of documented) {
      // Declared from the start; a labelled series appears once something is counted in it (no proxy here).
      assert.match(text, new RegExp(`^# TYPE ${family} ${type}$`, 'm'), `${family} is a ${type}`);
      const series = samples.filter((x) => x.name === family || x.name.startsWith(`${family}_`));
      for (const x of series) {
        const names = Object.keys(x.labels)
          .filter((l) => l !== 'le')
          .sort();
        assert.deepEqual(names, labels, `${x.name} has the labels the table lists`);
      }
    }
    const routeFamilies = documentedRouteFamilies();
    assert.ok(routeFamilies.has('packument') && routeFamilies.has('other'), 'the route families were read');
    const seen = new Set(samples.filter((x) => x.name === 'tessera_http_requests_total').map((x) => x.labels.family));
    for (const f of seen) assert.ok(routeFamilies.has(f), `route family "${f}" is documented`);
    const hooks = samples.find((x) => x.name === 'tessera_hook_deliveries_total' && x.labels.outcome === 'delivered');
    assert.ok(hooks && hooks.value >= 1, 'tessera_hook_deliveries_total{outcome="delivered"} counted the delivery');
  });
});
