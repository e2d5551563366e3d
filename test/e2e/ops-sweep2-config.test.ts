// An operator's configuration file: every key the README's reference lists is accepted as documented (its
// default written as shown), and a wrong file stops `tessera serve` with one line naming the file, the key
// and the reason, and a non-zero exit: never a stack trace, a YAML code frame, or a unit guessed silently.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { spawnSync } from 'node:child_process';
import { BIN, serve } from '../helpers/cli.ts';
import { cleanEnv } from '../helpers/npm.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { loadConfig } from '../../src/config/config.ts';

const README = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');

/** Values for keys whose documented default is not a literal (a sentence, or "none"). */
const samples: Record<string, unknown> = {
  database: 'postgres://tessera@127.0.0.1:5432/registry',
  blobs: 's3://npm-tarballs/prod',
  's3.endpoint': 'http://127.0.0.1:7480',
  's3.accessKeyId': 'AKIA-EXAMPLE',
  's3.secretAccessKey': 'example-secret',
  publicUrl: 'https://npm.example.com/',
  maxUnpackedBytes: 536870912,
  'upstream.url': 'https://mirror.example.com/npm/',
  'email.smtp': { host: 'smtp.example.com', port: 587, secure: false, user: 'tessera', password: 'change-me' },
  'oidc.issuers': [{ name: 'github', issuer: 'https://github.example.com/_services/token' }],
  'oidc.audience': 'npm:npm.example.com',
  'auth.oidc': { issuer: 'https://sso.example.com/', clientId: 'tessera', name: 'Example SSO' },
  'auth.ldap.url': 'ldap://127.0.0.1:389',
  'auth.ldap.bindDN': 'cn=tessera,dc=example,dc=com',
  'auth.ldap.bindPassword': 'bind-secret',
  'auth.ldap.userSearchBase': 'ou=people,dc=example,dc=com',
  'auth.ldap.groupSearchBase': 'ou=groups,dc=example,dc=com',
  'auth.ldap.tls.ca': null,
};

/** Every `key` row of the README's configuration table, with the value to write for it. */
function documentedKeys(): [string, unknown][] {
  const table = README.slice(README.indexOf('## Configuration reference'), README.indexOf('\nAn example:'));
  const out: [string, unknown][] = [];
  for (const line of table.split('\n')) {
    const cells = /^\| (`[^|]+) \| ([^|]+) \|/.exec(line);
    if (!cells) continue;
    const keys = [...cells[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    const values = cells[2].split(' / ');
    keys.forEach((key, i) => {
      // `hookDelivery.timeout` / `.attempts`: the later keys are relative to the first one's parent.
      const full = key.startsWith('.') ? keys[0].replace(/\.[^.]+$/, '') + key : key;
      const literal = /^`([^`]*)`$/.exec((values[i] ?? '').trim());
      out.push([full, full in samples || !literal ? samples[full] : parse(literal[1])]);
    });
  }
  return out;
}

function nest(pairs: [string, unknown][]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of pairs) {
    const path = key.split('.');
    let at = root;
    for (const p of path.slice(0, -1)) at = (at[p] ??= {}) as Record<string, unknown>;
    at[path.at(-1)!] = value;
  }
  return root;
}

describe('the configuration file, as the README documents it', { skip: onceInSqlitePass }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ops2-config-'));
  const file = join(dir, 'tessera.yaml');
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('every key of the reference, with its documented default, loads', () => {
    const pairs = documentedKeys();
    assert.ok(pairs.length >= 70, `the README's table was read (${pairs.length} keys)`);
    assert.ok(pairs.some(([k]) => k === 'hookDelivery.backoff'));
    writeFileSync(file, stringify(nest(pairs)));
    const c = loadConfig({ config: file }, {});
    assert.equal(c.auth.oidc?.scopes, 'openid profile email offline_access');
    assert.equal(c.hookDelivery.backoffMs, 1000);
    assert.equal(c.shutdownDelayMs, 0);
    assert.equal(c.tokens.readMaxDays, null);
    assert.equal(c.auth.ldap?.groupFilter, '(member={{dn}})');
  });

  test('every configuration example in the README and docs/ loads as written (elided secrets filled in)', () => {
    const docs = join(import.meta.dirname, '../../docs');
    const pages = [
      README,
      ...readdirSync(docs)
        .filter((f) => f.endsWith('.md'))
        .map((f) => readFileSync(join(docs, f), 'utf8')),
    ];
    let n = 0;
    for (const page of pages) {
      for (const [, yaml] of page.matchAll(/```yaml\n([\s\S]*?)```/g)) {
        // `secret: 2b7d…`: an example's secret is shown cut short; the file it names may not exist here.
        writeFileSync(file, yaml.replace(/([0-9a-f]+)…/g, '$1-an-example-secret-long-enough'));
        try {
          loadConfig({ config: file }, {});
        } catch (e) {
          assert.match((e as Error).message, /: auth\.ldap\.tls\.ca: cannot read \/etc\/tessera\//, yaml);
        }
        n++;
      }
    }
    assert.ok(n >= 8, `the examples were found (${n})`);
  });

  test('tessera serve starts with the production example of docs/deployment.md, data and listen overridden', async () => {
    const doc = readFileSync(join(import.meta.dirname, '../../docs/deployment.md'), 'utf8');
    const yaml = /```yaml\n(# \/etc\/tessera\/tessera\.yaml\n[\s\S]*?)```/.exec(doc)![1];
    writeFileSync(file, yaml);
    const srv = await serve(['--config', file, '--data', join(dir, 'data')]);
    try {
      const ready = await fetch(`${srv.url}-/readyz`);
      assert.equal(ready.status, 200);
    } finally {
      await srv.stop();
    }
  });
});

/** `tessera serve` on a file; one that wrongly starts is killed after 15 s instead of holding the test. */
function serveOnce(file: string, data: string) {
  const r = spawnSync(process.execPath, [BIN, 'serve', '--config', file, '--data', data], {
    env: cleanEnv({}),
    encoding: 'utf8',
    timeout: 15_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('a hook whose owner is not a user', { skip: onceInSqlitePass }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ops2-hookowner-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('tessera serve starts, and says at once that the hook hears public packages only', async () => {
    const file = join(dir, 'tessera.yaml');
    const hook = { name: 'ci', url: 'http://127.0.0.1:9/', secret: 'a-secret-long-enough-1', owner: 'relase-bot' };
    writeFileSync(file, stringify({ hooks: [hook, { ...hook, name: 'anon', owner: undefined }] }));
    const srv = await serve(['--config', file, '--data', join(dir, 'data')]);
    try {
      // The log line may reach the pipe just after the URL: waited for, not slept on.
      const deadline = Date.now() + 10_000;
      while (!srv.output().includes('is not a user here') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const warned = srv
        .output()
        .split('\n')
        .filter((l) => l.includes('is not a user here'));
      assert.equal(warned.length, 1, srv.output());
      assert.match(warned[0], /hook ci, relase-bot, is not a user here: it hears about public packages only/);
    } finally {
      await srv.stop();
    }
  });
});

describe('a wrong configuration file stops tessera serve with one line', { skip: onceInSqlitePass }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ops2-badconfig-'));
  before(() => writeFileSync(join(dir, 'ok.yaml'), 'logLevel: warn\n'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string, string, RegExp][] = [
    ['unknown key', 'logLevel: warn\nsesionTtl: 8h\n', /: sesionTtl: unknown key$/],
    ['wrong type', 'maxBodyBytes: lots\n', /: maxBodyBytes: must be an integer/],
    ['listen as a list', 'listen: [127.0.0.1, 4873]\n', /: listen: .*HOST:PORT/],
    ['a port out of range', 'listen: 127.0.0.1:99999\n', /: listen: .*port/],
    ['a duration without its unit', 'sessionTtl: 8\n', /: sessionTtl: .*unit/],
    ['a negative duration', 'hookDelivery: {backoff: -5}\n', /: hookDelivery\.backoff: .*unit/],
    ['a list where a mapping goes', 'upstream: [https://mirror.example.com/]\n', /: upstream: must be a mapping$/],
    ['smtp not a mapping', 'email: {smtp: smtp.example.com}\n', /: email\.smtp: must be a mapping$/],
    ['YAML that does not parse', 'upstream:\n  url: a: b\n', /: not valid YAML: .*line 2, column/],
    ['a list, not a mapping', '- listen: 127.0.0.1:4873\n', /: must be a YAML mapping/],
    [
      'a hook URL with a password in it',
      'hooks: [{name: ci, url: "https://ci:s3cret-pw@ci.example.com/h", secret: a-secret-long-enough-1}]\n',
      /: hooks\[0\]\.url: .*user name or password(?!.*s3cret-pw)/,
    ],
  ];
  // Each case as loaded in-process (what every command does first); three through the real binary below.
  for (const [what, yaml, message] of cases) {
    test(what, () => {
      const file = join(dir, `${what.replaceAll(' ', '-')}.yaml`);
      writeFileSync(file, yaml);
      assert.throws(
        () => loadConfig({ config: file }, {}),
        (e: Error) => {
          assert.equal(e.message.split('\n').length, 1, `one line:\n${e.message}`);
          assert.ok(e.message.startsWith(`config ${file}: `), `names the file: ${e.message}`);
          assert.match(e.message, message);
          return true;
        },
      );
    });
  }

  test('tessera serve prints that line alone and exits 1, starting nothing', () => {
    for (const [what, yaml] of cases.filter(([w]) => /unknown key|does not parse|port out of range/.test(w))) {
      const file = join(dir, `serve-${what.replaceAll(' ', '-')}.yaml`);
      writeFileSync(file, yaml);
      let expected = '';
      try {
        loadConfig({ config: file }, {});
      } catch (e) {
        expected = (e as Error).message;
      }
      // No --listen: the file's own listen key is what is checked (port 0 would never clash).
      const r = serveOnce(file, join(dir, 'data'));
      assert.deepEqual(r, { code: 1, stdout: '', stderr: `tessera: ${expected}\n` }, what);
    }
  });

  test('a file that is not there, or is a folder, is named with why', () => {
    for (const file of [join(dir, 'missing.yaml'), dir]) {
      const r = serveOnce(file, join(dir, 'data'));
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`^tessera: config ${file}: cannot be read \\((ENOENT|EISDIR)`));
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    }
  });
});
