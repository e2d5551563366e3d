// The doctor scenarios of BRIEF.md, end to end through the real `tessera` binary, asserting the words
// a person reads (human report) and the exit status.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepare, tessera } from './harness.ts';
import { startServer } from '../../helpers/server.ts';
import { makeCerts } from '../../unit/doctor/certs.ts';

const servers: net.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});
function listen(s: net.Server): Promise<number> {
  servers.push(s);
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));
}

async function doctorOn(fixture: string, args: string[], extraEnv: Record<string, string> = {}) {
  const p = prepare(fixture, extraEnv);
  const r = await tessera(['doctor', ...args, ...(p.case.args ?? [])], { cwd: p.cwd, env: p.env });
  return { ...r, p };
}

// Each scenario spawns the binary; three at a time keeps the run short on two cores.
describe('BRIEF.md doctor scenarios', { concurrency: 3 }, () => {
  it('1. project .npmrc overrides the user token: both files named, and which line wins', async () => {
    const { stdout, code, p } = await doctorOn('credential-overridden', ['--offline']);
    assert.equal(code, 0);
    assert.match(stdout, /credential-overridden/);
    assert.ok(stdout.includes('~/.npmrc:2'), stdout);
    assert.ok(stdout.includes(`${p.root}/project/.npmrc:2`), stdout);
    assert.match(stdout, /npm sends the one from .*project\/\.npmrc:2 \(project beats user\)/);
  });

  it('2. ${NPM_TOKEN} referenced but unset: the literal is sent, and how to export it', async () => {
    const { stdout, code } = await doctorOn('unexpanded-env-var', ['--offline']);
    assert.equal(code, 1);
    assert.match(stdout, /npm sends the literal text `\$\{NPM_TOKEN\}`/);
    assert.match(stdout, /export NPM_TOKEN=/);
  });

  it('3. token line for a different host: shows the key npm would need', async () => {
    const { stdout, code } = await doctorOn('token-host-mismatch', ['--offline']);
    assert.equal(code, 1);
    assert.match(stdout, /keyed for \/\/old-registry\.example\.com\//);
    assert.match(stdout, /`\/\/registry\.example\.com\/:_authToken=\$\{NPM_TOKEN\}`/);
  });

  it('4. scoped package without scope mapping: goes to the default registry', async () => {
    const { stdout } = await doctorOn('scope-not-mapped', ['--offline']);
    assert.match(stdout, /@other\/tool has no `@other:registry` mapping, so npm requests it from the default registry/);
    assert.match(stdout, /@other:registry=https:\/\/<your registry>\//);
  });

  it('5. truncated token: caught without any network (--offline)', async () => {
    const { stdout, code } = await doctorOn('token-checksum-invalid', ['--offline']);
    assert.equal(code, 1);
    assert.match(stdout, /token-checksum-invalid/);
    assert.match(stdout, /truncated or mistyped/);
  });

  it('6. plain-text token in a git-tracked .npmrc: security finding suggesting ${NPM_TOKEN}', async () => {
    const { stdout, code } = await doctorOn('plaintext-token-in-repo', ['--offline']);
    assert.equal(code, 1);
    assert.match(stdout, /plaintext-token-in-repo/);
    assert.match(stdout, /tracked by git/);
    assert.match(stdout, /\$\{NPM_TOKEN\}/);
    assert.ok(!stdout.includes('tsr_ulYo9g3slY31crW3eeMvrVTCuSSDhM0AonnH'), 'the token itself is never printed');
  });

  it('7. lockfile resolved URLs pointing at another registry', async () => {
    const { stdout, code } = await doctorOn('lockfile-registry-mismatch', ['--offline']);
    assert.equal(code, 1);
    assert.match(stdout, /resolve to old-registry\.example\.com/);
    assert.match(stdout, /package-lock\.json:17/);
  });

  it('8a. strict-ssl=false, http:// registry, missing cafile, proxy without https', async () => {
    const cases: [string, RegExp][] = [
      ['strict-ssl-disabled', /strict-ssl=false/],
      ['insecure-registry-url', /plain http, and npm sends the credential/],
      ['cafile-problem', /does not exist/],
      ['proxy-misconfigured', /HTTP_PROXY is set but HTTPS_PROXY is not/],
    ];
    for (const [fixture, re] of cases) {
      const { stdout } = await doctorOn(fixture, ['--offline']);
      assert.match(stdout, re, fixture);
    }
  });

  it('8b. self-signed chain and a proxy answering 407, probed live', async () => {
    const certs = makeCerts();
    const tlsPort = await listen(
      https.createServer({ key: certs.chained.key, cert: certs.chained.cert }, (_q, s) => s.end('{}')),
    );
    const proxyPort = await listen(
      net.createServer((s) =>
        s.once('data', () => s.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n')),
      ),
    );
    const p = prepare('strict-ssl-disabled');
    writeFileSync(
      join(p.cwd, '.npmrc'),
      `registry=https://127.0.0.1:${tlsPort}/\n@corp:registry=https://corp.example.com/\nnoproxy=127.0.0.1\n`,
    );
    writeFileSync(join(p.home, '.npmrc'), `https-proxy=http://127.0.0.1:${proxyPort}\n`);
    const r = await tessera(['doctor', '--json', '--timeout', '3000'], { cwd: p.cwd, env: p.env });
    const json = JSON.parse(r.stdout);
    const chain = json.findings.find((f: any) => f.id === 'tls-untrusted-chain');
    assert.ok(chain, r.stdout);
    assert.match(chain.message, /Doctor Test Root CA/);
    const proxy = json.findings.find((f: any) => f.id === 'proxy-misconfigured');
    assert.ok(proxy, r.stdout);
    assert.equal(proxy.registry, 'https://corp.example.com/');
    assert.deepEqual(proxy.source, { file: join(p.home, '.npmrc'), line: 1 });
    assert.equal(r.code, 1);
  });

  it('9. pasted E403: PUT is a publish-permission problem, GET is install/network/registry config', async () => {
    const p = prepare('ok-scoped-optional-var');
    const put = await tessera(['explain', '-'], {
      cwd: p.cwd,
      env: p.env,
      input:
        'npm ERR! code E403\nnpm ERR! 403 403 Forbidden - PUT https://registry.example.com/left-pad - You do not have permission to publish "left-pad". Are you logged in as the correct user?\n',
    });
    assert.equal(put.code, 1);
    assert.match(put.stdout, /this is about publish permission/);
    assert.match(put.stdout, /1\. not-maintainer \(most likely\)/);
    assert.match(put.stdout, /npm owner ls left-pad/);
    const get = await tessera(['explain', '--json'], {
      cwd: p.cwd,
      env: p.env,
      input:
        'npm error code E403\nnpm error 403 403 Forbidden - GET https://registry.example.com/left-pad - Forbidden\n',
    });
    const j = JSON.parse(get.stdout);
    assert.deepEqual(
      [j.code, j.method, j.status, j.url],
      ['E403', 'GET', 403, 'https://registry.example.com/left-pad'],
    );
    assert.ok(!j.causes.some((c: any) => ['not-maintainer', 'read-only-token'].includes(c.id)));
    assert.ok(
      j.causes.some((c: any) => c.id === 'proxy-misconfigured') &&
        j.causes.some((c: any) => c.id === 'scope-not-mapped'),
    );
  });

  it('9b. explain joins the live config: which line the credential for the failing URL comes from', async () => {
    const p = prepare('unexpanded-env-var');
    const r = await tessera(['explain', '-'], {
      cwd: p.cwd,
      env: p.env,
      input:
        'npm error code E401\nnpm error 401 Unauthorized - GET https://registry.example.com/left-pad - Unauthorized\n',
    });
    assert.match(r.stdout, new RegExp(`comes from ${p.root}/project/\\.npmrc line 2`));
    assert.match(r.stdout, /1\. unexpanded-env-var \(most likely\)/);
  });

  it('10. a Tessera token expiring in 3 days: warns, with the rotation command', async () => {
    const s = await startServer();
    try {
      await s.addUser('alice');
      const token = await s.token({
        user: 'alice',
        kind: 'granular',
        name: 'ci',
        expiresInMs: 3 * 86_400_000,
        grants: {
          packagesAll: false,
          packages: [],
          scopes: ['@acme'],
          permission: 'read-write',
          orgs: [],
          orgsPermission: 'no-access',
        },
      });
      const p = prepare('ok-scoped-optional-var', { TESSERA_TOKEN: token });
      writeFileSync(join(p.home, '.npmrc'), `registry=${s.url}\n//${s.host}/:_authToken=\${TESSERA_TOKEN}\n`);
      writeFileSync(join(p.cwd, '.npmrc'), '');
      const r = await tessera(['doctor'], { cwd: p.cwd, env: p.env });
      assert.equal(r.code, 0, r.stdout);
      assert.match(r.stdout, /! warning token-expiring-soon {2}~\/\.npmrc:2/);
      assert.match(r.stdout, /expires in 3 day/);
      assert.ok(
        r.stdout.includes(
          `npm token create --registry=${s.url} --name ci --scopes @acme --packages-and-scopes-permission read-write --expires 3`,
        ),
        r.stdout,
      );
      assert.match(r.stdout, /`export TESSERA_TOKEN=<new token>`/);
      assert.match(r.stdout, /`npm token revoke [0-9a-f-]{36} --registry=/);
      assert.match(r.stdout, /whoami on .*: alice/);
      assert.ok(!r.stdout.includes(token));
    } finally {
      await s.close();
    }
  });

  it('usage errors exit 2', async () => {
    const p = prepare('ok-npmjs-user-token');
    assert.equal((await tessera(['doctor', '--client', 'bun'], { cwd: p.cwd, env: p.env })).code, 2);
    assert.equal((await tessera(['doctor', '--nope'], { cwd: p.cwd, env: p.env })).code, 2);
    assert.equal((await tessera(['explain', '/no/such/file'], { cwd: p.cwd, env: p.env })).code, 2);
  });
});
