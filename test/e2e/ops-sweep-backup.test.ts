// Backups as an operator meets them after losing the machine: the backup is restored into a new folder, so
// what the data folder sealed (2FA seeds, hook secrets) must come back with it; and a damaged backup is
// refused before anything is written, so the target can be restored into again.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, tessera, type ServeProcess } from '../helpers/cli.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { enable2fa } from '../helpers/two-factor.ts';
import { DatabaseSync } from 'node:sqlite';
import { createHash } from 'node:crypto';
import { makeTarball } from '../helpers/publish-body.ts';

const skip = process.env.TESSERA_TEST_BACKEND === 'cluster' && 'tessera backup copies the embedded store (SQLite) only';

/** Every file under a folder, relative to it. */
const files = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile())
    : [];

/** npm's legacy `npm login`: a session token for a password (and an OTP once 2FA is on). */
const legacyLogin = (url: string, otp?: string) =>
  fetch(`${url}-/user/org.couchdb.user:bea`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...(otp ? { 'npm-otp': otp } : {}) },
    body: JSON.stringify({ _id: 'org.couchdb.user:bea', name: 'bea', password: 'bea-password-1', type: 'user' }),
  });

describe('backup and restore of a registry with sealed secrets', { skip }, () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-ops-backup-'));
  const data = join(root, 'data');
  const backupDir = join(root, 'backup');
  let secret = '';
  let token = '';

  before(async () => {
    const add = await tessera(
      ['user', 'add', 'bea', '--email', 'bea@example.com', '--password-stdin', '--data', data],
      {
        input: 'bea-password-1\n',
      },
    );
    assert.equal(add.code, 0, add.stderr);
    token = (await tessera(['token', 'create', '--user', 'bea', '--data', data])).stdout.trim();
    const srv: ServeProcess = await serve(['--data', data]);
    try {
      const npm = makeNpm(srv.url);
      npm.setToken(srv.host, token);
      assert.equal((await npm.run(['publish'], { cwd: makePackage('kept-pkg', '1.0.0') })).code, 0);
      // 2FA through npm's profile API (a login session's): the seed is sealed with the data folder's secret.key.
      const session = await legacyLogin(srv.url);
      assert.equal(session.status, 201);
      const { token: sessionToken } = (await session.json()) as { token: string };
      secret = await enable2fa(srv.url, `Bearer ${sessionToken}`, {
        mode: 'auth-and-writes',
        password: 'bea-password-1',
        code: (k) => codeAt(k, Date.now()),
      });
    } finally {
      await srv.stop();
    }
    const b = await tessera(['backup', '--to', backupDir, '--data', data]);
    assert.equal(b.code, 0, b.stderr);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('restored into a new folder, tokens work and the 2FA seed still opens (its login takes an OTP)', async () => {
    const restored = join(root, 'restored');
    const r = await tessera(['restore', '--from', backupDir, '--data', restored]);
    assert.equal(r.code, 0, r.stderr);
    for (const dir of [backupDir, restored]) {
      assert.equal(readFileSync(join(dir, 'secret.key'), 'utf8'), readFileSync(join(data, 'secret.key'), 'utf8'));
      assert.equal(statSync(join(dir, 'secret.key')).mode & 0o077, 0, `${dir}: the key is readable by its owner only`);
    }
    const back = await serve(['--data', restored]);
    try {
      const npm = makeNpm(back.url);
      npm.setToken(back.host, token);
      assert.equal((await npm.run(['whoami'])).stdout.trim(), 'bea');
      // The next step's code: the enrolment used this one's (one step of drift is accepted).
      const login = await legacyLogin(back.url, codeAt(secret, Date.now() + 30_000));
      assert.equal(login.status, 201, await login.text());
    } finally {
      await back.stop();
    }
  });

  test('a backup whose database is truncated is refused, and the empty target stays empty', async () => {
    const broken = join(root, 'broken');
    assert.equal((await tessera(['backup', '--to', broken, '--data', data])).code, 0);
    const db = join(broken, 'tessera.db');
    truncateSync(db, Math.floor(readFileSync(db).length / 2));
    const target = join(root, 'from-broken');
    const r = await tessera(['restore', '--from', broken, '--data', target]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /^tessera: .*tessera\.db.*/m);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'a message, not a stack trace');
    assert.deepEqual(files(target), [], 'nothing was restored');
  });

  test('a backup missing a tarball, or holding a damaged one, is refused before anything is written', async () => {
    for (const damage of ['missing', 'damaged'] as const) {
      const broken = join(root, `broken-${damage}`);
      assert.equal((await tessera(['backup', '--to', broken, '--data', data])).code, 0);
      const [blob] = files(join(broken, 'blobs'));
      if (damage === 'missing') rmSync(join(broken, 'blobs', blob));
      else writeFileSync(join(broken, 'blobs', blob), 'not a tarball');
      const target = join(root, `from-${damage}`);
      const r = await tessera(['restore', '--from', broken, '--data', target]);
      assert.equal(r.code, 1, `${damage}: ${r.stdout}`);
      assert.match(r.stderr, /^tessera: .*tarball/m, damage);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'a message, not a stack trace');
      assert.deepEqual(files(target), [], `${damage}: nothing was restored`);
    }
  });

  test('a backup of an older schema (no staging yet) is restored and migrated', async () => {
    const old = join(root, 'old-backup');
    mkdirSync(join(old, 'blobs'), { recursive: true });
    const tgz = await makeTarball({ 'package/package.json': JSON.stringify({ name: 'left-pad', version: '1.0.0' }) });
    const key = createHash('sha512').update(tgz).digest('hex');
    mkdirSync(join(old, 'blobs', key.slice(0, 2), key.slice(2, 4)), { recursive: true });
    writeFileSync(join(old, 'blobs', key.slice(0, 2), key.slice(2, 4), key), tgz);
    const db = new DatabaseSync(join(old, 'tessera.db'));
    db.exec(readFileSync(new URL('../fixtures/migrations/first-set.sql', import.meta.url), 'utf8'));
    db.exec(`INSERT INTO users (name, email, created_at, updated_at) VALUES ('alice', 'a@example.com', 1, 1);
      INSERT INTO packages (name, scope, access, origin, rev, created_at, modified_at, doc, abbrev, etag, readme)
        VALUES ('left-pad', NULL, 'public', 'local', 1, 1, 1, '{"name":"left-pad"}', '{"name":"left-pad"}', '"e1"', '');
      INSERT INTO versions (package, version, manifest, integrity, shasum, size, blob, published_by, published_at)
        VALUES ('left-pad', '1.0.0', '{}', 'sha512-x', 'abc', ${tgz.length}, '${key}', 1, 1);`);
    db.close();
    const manifest = { format: 'tessera-backup', version: 1, createdAt: '2026-01-01T00:00:00.000Z', source: '/old' };
    writeFileSync(join(old, 'tessera-backup.json'), JSON.stringify({ ...manifest, packages: 1, versions: 1 }));
    const target = join(root, 'from-old');
    const r = await tessera(['restore', '--from', old, '--data', target]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1 tarball\(s\)\) into /);
    const users = await tessera(['user', 'list', '--data', target]);
    assert.match(users.stdout, /^alice\t/m);
  });
});
