// Configuration cases users meet: a .npmrc (or NPM_CONFIG_USERCONFIG) that is a folder, NO_PROXY entries npm
// cannot use when `noproxy` is unset, a plain-text _password, an escaped \${VAR} in a credential, a SOCKS proxy,
// `--package` specs with a version or an npm: alias.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDoctor } from '../../src/doctor/doctor.ts';
import { packageName } from '../../src/doctor/credentials.ts';

async function doctor(files: Record<string, string | null>, env: Record<string, string> = {}, packages: string[] = []) {
  const root = mkdtempSync(join(tmpdir(), 'doctor-sweep-config-'));
  for (const [file, body] of Object.entries({ 'home/': null, 'project/': null, ...files })) {
    if (body === null) mkdirSync(join(root, file), { recursive: true });
    else writeFileSync(join(root, file), body);
  }
  writeFileSync(join(root, 'project/package.json'), '{"name":"app","version":"1.0.0"}');
  const r = await runDoctor({
    cwd: join(root, 'project'),
    env: {
      HOME: join(root, 'home'),
      PREFIX: join(root, 'prefix'),
      PATH: '',
      ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace('$ROOT', root)])),
    },
    offline: true,
    publish: false,
    packages,
    npmPath: join(root, 'npm'),
  });
  return { ...r, root, dump: JSON.stringify(r.report.findings, null, 1) };
}

test('a .npmrc that is a folder: npmrc-unreadable says so, and the fix is not chmod', async () => {
  const r = await doctor({ 'project/.npmrc/': null });
  const f = r.report.findings.find((x) => x.id === 'npmrc-unreadable');
  assert.ok(f, r.dump);
  assert.match(f.message, /EISDIR/);
  assert.match(f.fix, /is a folder/);
  assert.doesNotMatch(f.fix, /chmod/);
  const again = await doctor({ 'ci/': null }, { NPM_CONFIG_USERCONFIG: '$ROOT/ci' });
  const g = again.report.findings.find((x) => x.id === 'npmrc-unreadable');
  assert.ok(g, again.dump);
  assert.match(g.fix, /NPM_CONFIG_USERCONFIG/);
});

test('NO_PROXY with a wildcard or a port is linted when noproxy is unset, and points at the variable', async () => {
  const r = await doctor({}, { HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: '*.corp.example,127.0.0.1:4873' });
  const f = r.report.findings.find((x) => x.id === 'proxy-misconfigured');
  assert.ok(f, r.dump);
  assert.match(f.message, /\*\.corp\.example/);
  assert.deepEqual(f.source, { file: 'environment variable NO_PROXY', line: 0 });
  // npm's own `noproxy` replaces the variable: then only its entries count.
  const cfg = await doctor(
    { 'project/.npmrc': 'noproxy=corp.example\n' },
    { HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: '*.corp.example' },
  );
  assert.ok(!cfg.report.findings.some((x) => x.id === 'proxy-misconfigured'), cfg.dump);
});

test('a plain-text _password (npm base64-decodes it) is password-not-base64; an encoded one, even of UTF-8, is not', async () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  for (const [password, bad] of [
    ['hunter2!', true], // not base64 at all
    ['hunter22', true], // base64 letters, but decodes to binary
    [b64('hunter2!'), false],
    [b64('pässwörd 2'), false],
  ] as const) {
    const r = await doctor({
      'project/.npmrc': `registry=http://127.0.0.1:9/\n//127.0.0.1:9/:username=bob\n//127.0.0.1:9/:_password=${password}\n`,
    });
    const f = r.report.findings.find((x) => x.id === 'password-not-base64');
    assert.equal(Boolean(f), bad, `${password}: ${r.dump}`);
    if (f) {
      assert.equal(f.severity, 'error');
      assert.equal(f.source?.line, 3);
      assert.match(f.fix, /base64/);
      assert.ok(!f.message.includes(password) && !f.fix.includes(password), 'the password is never printed');
    }
  }
});

test('an escaped \\${NPM_TOKEN} in a credential (npm sends the literal text) is unexpanded-env-var; elsewhere it is text', async () => {
  const r = await doctor(
    {
      'project/.npmrc': [
        'registry=http://127.0.0.1:9/',
        '//127.0.0.1:9/:_authToken=\\${NPM_TOKEN}',
        'init-author-name=\\${USER}',
        '//127.0.0.1:9/other/:_authToken=\\\\${NPM_TOKEN}',
        '',
      ].join('\n'),
    },
    { NPM_TOKEN: 'set-in-the-environment' },
  );
  const found = r.report.findings.filter((x) => x.id === 'unexpanded-env-var');
  assert.equal(found.length, 1, r.dump);
  assert.equal(found[0].severity, 'error');
  assert.equal(found[0].source?.line, 2);
  assert.match(found[0].message, /literal text `\$\{NPM_TOKEN\}`/);
  assert.ok(found[0].fix.includes('//127.0.0.1:9/:_authToken=${NPM_TOKEN}'), found[0].fix);
});

test('a SOCKS proxy (npm speaks SOCKS to it) is not blamed by the HTTP probes: a note, no proxy finding', async () => {
  const root = mkdtempSync(join(tmpdir(), 'doctor-sweep-config-'));
  mkdirSync(join(root, 'project'), { recursive: true });
  writeFileSync(join(root, 'project/package.json'), '{"name":"app","version":"1.0.0"}');
  // Port 9 refuses: an HTTP CONNECT there would fail and be reported as the proxy's fault.
  writeFileSync(join(root, 'project/.npmrc'), 'registry=http://127.0.0.1:9/\nproxy=socks5://127.0.0.1:9\n');
  const r = await runDoctor({
    cwd: join(root, 'project'),
    env: { HOME: join(root, 'home'), PREFIX: join(root, 'prefix'), PATH: '' },
    offline: false,
    publish: false,
    packages: [],
    timeout: 2000,
    npmPath: join(root, 'npm'),
  });
  const ids = r.report.findings.map((f) => f.id);
  assert.ok(!ids.includes('proxy-misconfigured') && !ids.includes('network-unreachable'), ids.join());
  assert.ok(
    r.notes.some((n) => /SOCKS proxy/.test(n)),
    r.notes.join('\n'),
  );
});

test('--package with a version or an npm: alias names the package behind it (scope, packument)', async () => {
  assert.equal(packageName('lodash@4'), 'lodash');
  assert.equal(packageName('@corp/ui@^1.2.0'), '@corp/ui');
  assert.equal(packageName('npm:@corp/ui@^1'), '@corp/ui');
  assert.equal(packageName('ui'), 'ui');
  const r = await doctor({ 'project/.npmrc': 'registry=http://127.0.0.1:9/\n' }, {}, ['npm:@corp/ui@^1']);
  const f = r.report.findings.find((x) => x.id === 'scope-not-mapped');
  assert.ok(f, r.dump);
  assert.match(f.message, /@corp:registry/);
});
