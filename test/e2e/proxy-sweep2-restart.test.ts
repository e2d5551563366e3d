// `tessera serve` restarted while its upstream's breaker is open, as an operator does during an upstream
// outage: the breaker is the process's, so the new process starts with it closed and asks the upstream again,
// and meanwhile every cached packument and tarball still answers (stale-while-revalidate), with the ETags it had.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { TestServer } from '../helpers/server.ts';
import { makeNpm, makeProject } from '../helpers/npm.ts';
import { makePnpm, writeNpmrc } from '../helpers/clients.ts';
import { serve, type ServeProcess } from '../helpers/cli.ts';
import { gatedUpstream, type UpstreamGate } from '../helpers/upstream-gate.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { freePort } from '../helpers/ports.ts';

describe('a restart with the upstream breaker open', { skip: onceInSqlitePass }, () => {
  let gate: UpstreamGate;
  let up: TestServer;
  let dir: string;
  const running: ServeProcess[] = [];

  before(async () => {
    ({ gate, up } = await gatedUpstream([
      ['kind-of', '6.0.3'],
      ['@pub/widget', '1.0.0'],
    ]));
    dir = mkdtempSync(join(tmpdir(), 'tessera-restart-'));
    // Every cached copy is stale at once: each read refreshes it in the background.
    const upstream = { url: gate.url, cacheTtl: '0s', timeout: '5s', breakerFailures: 2, breakerCooldown: '10m' };
    writeFileSync(join(dir, 'tessera.yaml'), stringify({ upstream }));
  });
  after(async () => {
    gate.release();
    for (const p of running) if (p.child.exitCode === null) await p.stop('SIGKILL');
    await up.close();
    await gate.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let port = 0;
  // The same address both times, as a restarted service has: the ETags are the same ones.
  const start = async () => {
    port ||= await freePort();
    const args = ['--config', join(dir, 'tessera.yaml'), '--data', join(dir, 'data'), '--listen', `127.0.0.1:${port}`];
    const p = await serve(args);
    running.push(p);
    return p;
  };

  test('the new process starts closed, asks again, and serves stale copies and cached tarballs meanwhile', async () => {
    const a = await start();
    const project = makeProject({ 'kind-of': '^6.0.0', '@pub/widget': '^1.0.0' });
    const npm = makeNpm(a.url);
    const install = await npm.run(['install', '--no-audit'], { cwd: project });
    assert.equal(install.code, 0, install.output);
    writeNpmrc(project, a.url);
    const pnpm = makePnpm();
    const pnpmLock = await pnpm.run(['install', '--lockfile-only'], { cwd: project });
    assert.equal(pnpmLock.code, 0, pnpmLock.output);
    const etags: Record<string, string> = {};
    for (const path of ['kind-of', '@pub%2fwidget']) {
      const res = await fetch(`${a.url}${path}`, { headers: { accept: 'application/vnd.npm.install-v1+json' } });
      assert.equal(res.status, 200);
      etags[path] = res.headers.get('etag')!;
      assert.ok(etags[path], path);
    }

    // The upstream fails: two uncached names open the breaker, and the third is not asked at all.
    gate.mode = 'fail';
    for (const name of ['nope-1', 'nope-2']) assert.equal((await fetch(`${a.url}${name}`)).status, 502);
    const asked = gate.got.length;
    const refused = await fetch(`${a.url}nope-3`);
    assert.equal(refused.status, 502);
    assert.match(await refused.text(), /not asked again for a while/);
    assert.equal(gate.got.length, asked, 'the open breaker still asked the upstream');
    assert.equal((await fetch(`${a.url}kind-of`)).status, 200, 'a stale copy while the breaker is open');
    assert.equal(await a.stop(), 0);

    // Now it hangs: the new process asks it (its breaker is closed) and does not wait for it.
    gate.mode = 'hang';
    const b = await start();
    for (const path of ['kind-of', '@pub%2fwidget', '@pub/widget']) {
      const headers = { accept: 'application/vnd.npm.install-v1+json', 'if-none-match': etags[path] ?? '' };
      const res = await fetch(`${b.url}${path}`, { headers });
      assert.equal(res.status, path === '@pub/widget' ? 200 : 304, `${path} after the restart`);
    }
    assert.ok(gate.held() > 0, 'the restarted process did not ask the upstream again: its breaker stayed open');
    const before = gate.got.length;
    const ci = await makeNpm(b.url).run(['ci', '--no-audit'], { cwd: project });
    assert.equal(ci.code, 0, ci.output);
    writeNpmrc(project, b.url);
    const frozen = await makePnpm().run(['install', '--frozen-lockfile'], { cwd: project });
    assert.equal(frozen.code, 0, frozen.output);
    // Tarballs came from the store; only packument refreshes (held) went out.
    assert.deepEqual(
      gate.got.slice(before).filter((r) => r.includes('.tgz')),
      [],
    );
    // Stopping with refreshes still held by the upstream ends the process, not a hang.
    assert.equal(await b.stop(), 0);
  });
});
