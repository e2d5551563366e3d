// A hung upstream, as a platform team meets it with npm (and pnpm, Yarn 4): installs from cached packages
// finish with and without a lockfile, stale answers are counted and logged, a miss fails at once with the
// reason once the breaker opened, and after recovery the half-open probe closes the breaker and stale copies
// refresh.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { defaults } from '../../src/config/config.ts';
import { makeNpm, makePackage, makeProject, type NpmEnv } from '../helpers/npm.ts';
import { gatedUpstream, type UpstreamGate } from '../helpers/upstream-gate.ts';
import { makePnpm, makeYarn, writeNpmrc, writeYarnrc } from '../helpers/clients.ts';
import { upstreamHealth } from '../../src/services/upstream.ts';

const upstream = {
  ...defaults.upstream,
  cacheTtlMs: 60_000,
  timeoutMs: 2_000,
  maxStaleMs: 3_600_000,
  breakerFailures: 2,
  breakerCooldownMs: 30_000,
};

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('a hung upstream, with npm', () => {
  let gate: UpstreamGate;
  let up: TestServer;
  let down: TestServer;
  let upNpm: NpmEnv;
  let project: string;
  const metric = async (outcome: string, kind = 'packument') => {
    const text = await (await fetch(`${down.url}-/metrics`, { headers: { authorization: 'Bearer scrape' } })).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`tessera_proxy_requests_total{kind="${kind}",outcome="${outcome}"}`));
    return Number(line?.split(' ').pop() ?? 0);
  };

  before(async () => {
    ({ gate, up, upNpm } = await gatedUpstream([
      ['kind-of', '6.0.2', {}],
      ['kind-of', '6.0.3', {}],
      ['@pub/widget', '1.0.0', { dependencies: { 'kind-of': '^6.0.0' } }],
    ]));
    const metrics = { ...defaults.metrics, allowCidrs: [], allowBearers: ['scrape'] };
    down = await startServer({ upstream: { ...upstream, url: gate.url }, metrics });
    project = makeProject({ '@pub/widget': '^1.0.0' });
    const r = await makeNpm(down.url).run(['install'], { cwd: project });
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await down.close();
    await up.close();
    await gate.close();
  });

  test('installs finish from cached copies with and without a lockfile; stale answers are counted', async () => {
    gate.mode = 'hang';
    down.clock.advance(upstream.cacheTtlMs + 1);
    const ci = await makeNpm(down.url).run(['ci'], { cwd: project });
    assert.equal(ci.code, 0, ci.output);
    rmSync(join(project, 'package-lock.json'));
    rmSync(join(project, 'node_modules'), { recursive: true });
    const install = await makeNpm(down.url).run(['install'], { cwd: project });
    assert.equal(install.code, 0, install.output);
    assert.ok((await metric('stale')) >= 2, 'stale packuments are not counted');
    // The refreshes in the background time out, the breaker opens, and the log says what was served.
    await until('the breaker to open', () => upstreamHealth(down.ctx, gate.url).state === 'open');
    await until('the log line', () => /serving a stale upstream packument/.test(readFileSync(down.logFile, 'utf8')));
  });

  test('pnpm and Yarn 4 install from cached copies too, without a lockfile, while the breaker is open', async () => {
    assert.equal(upstreamHealth(down.ctx, gate.url).state, 'open');
    const forPnpm = makeProject({ '@pub/widget': '^1.0.0' });
    writeNpmrc(forPnpm, down.url);
    const pnpm = await makePnpm().run(['install'], { cwd: forPnpm });
    assert.equal(pnpm.code, 0, pnpm.output);
    const forYarn = makeProject({ '@pub/widget': '^1.0.0' });
    writeYarnrc(forYarn, down.url);
    const yarn = await makeYarn().run(['install'], { cwd: forYarn, timeoutMs: 60_000 });
    assert.equal(yarn.code, 0, yarn.output);
  });

  test('with the breaker open, an uncached tarball fails at once with the reason npm prints', async () => {
    const asked = gate.got.length;
    const r = await makeNpm(down.url).run(['install', 'kind-of@6.0.2', '--fetch-retries=0'], { cwd: makeProject() });
    assert.notEqual(r.code, 0, r.output);
    assert.match(r.output, /502 Bad Gateway/);
    assert.match(r.output, /upstream/i);
    assert.equal(gate.got.length, asked, 'the upstream was asked while its breaker was open');
  });

  test('after recovery the probe closes the breaker and the stale copies refresh', async () => {
    const r = await upNpm.run(['publish'], { cwd: makePackage('kind-of', '6.1.0') });
    assert.equal(r.code, 0, r.output);
    gate.mode = 'pass';
    down.clock.advance(upstream.breakerCooldownMs);
    assert.equal(upstreamHealth(down.ctx, gate.url).state, 'half-open');
    // Served stale at once; the refresh behind it is the probe.
    assert.equal((await fetch(`${down.url}kind-of`)).status, 200);
    await until('the breaker to close', () => upstreamHealth(down.ctx, gate.url).state === 'closed');
    await until('the refreshed copy', async () => {
      const doc = (await (await fetch(`${down.url}kind-of`)).json()) as { 'dist-tags': { latest: string } };
      return doc['dist-tags'].latest === '6.1.0';
    });
    const view = await makeNpm(down.url).run(['view', 'kind-of', 'version']);
    assert.equal(view.stdout.trim(), '6.1.0', view.output);
  });

  test('an audit forwarded to the upstream counts as an audit, not a packument', async () => {
    const packuments = await metric('error');
    const res = await fetch(`${down.url}-/npm/v1/security/advisories/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ 'kind-of': ['6.0.3'] }),
    });
    assert.equal(res.status, 404); // this upstream has no advisory database
    assert.equal(await metric('error', 'audit'), 1);
    assert.equal(await metric('error'), packuments);
  });

  test('npm audit while the upstream fails: npm prints an error, never "found 0 vulnerabilities"', async () => {
    gate.mode = 'fail';
    try {
      for (const args of [['audit'], ['audit', '--json']]) {
        const r = await makeNpm(down.url).run(args, { cwd: project });
        assert.notEqual(r.code, 0, r.output);
        assert.doesNotMatch(r.output, /found 0 vulnerabilities/);
        assert.match(r.output, /audit endpoint returned an error|upstream/i);
      }
    } finally {
      gate.mode = 'pass';
    }
  });

  test('an upstream whose audits fail does not open the breaker for packages', async () => {
    gate.mode = 'fail';
    gate.only = (method) => method === 'POST';
    try {
      for (let i = 0; i < upstream.breakerFailures + 1; i++) {
        const r = await makeNpm(down.url).run(['audit'], { cwd: project });
        assert.notEqual(r.code, 0, r.output);
      }
      assert.equal(upstreamHealth(down.ctx, gate.url).state, 'closed');
      assert.equal((await fetch(`${down.url}never-asked-before`)).status, 404);
    } finally {
      gate.mode = 'pass';
      gate.only = undefined;
    }
  });
});
