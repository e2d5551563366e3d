// A backup taken while the registry serves, restored on a new machine: an organization's restricted package,
// a maintainer's own webhook (its sealed secret still signs), a staged version waiting for approval, and the
// tokens people already hold all come back. A backup that lost its secret.key on the way is refused, not
// restored into a registry whose 2FA seeds and hook secrets no longer open.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, tessera, type ServeProcess } from '../helpers/cli.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';

const skip = process.env.TESSERA_TEST_BACKEND === 'cluster' && 'tessera backup copies the embedded store (SQLite) only';

type Delivery = { event: string; name: string; signature: string; body: string };

describe('a backup taken while the registry serves, restored into a new folder', { skip }, () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-ops2-backup-'));
  const data = join(root, 'data');
  const backupDir = join(root, 'backup');
  const deliveries: Delivery[] = [];
  let receiver: Server;
  let endpoint = '';
  let aliceToken = '';
  let bobToken = '';
  let session = '';
  let stageId = '';

  const cli = async (args: string[], input?: string) => {
    const r = await tessera([...args, '--data', data], { input });
    assert.equal(r.code, 0, `tessera ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const npmFor = (srv: ServeProcess, token: string): NpmEnv => {
    const npm = makeNpm(srv.url);
    npm.setToken(srv.host, token);
    return npm;
  };
  const ok = async (npm: NpmEnv, args: string[], cwd?: string) => {
    const r = await npm.run(args, { cwd });
    assert.equal(r.code, 0, `npm ${args.join(' ')}\n${r.output}`);
    return r.stdout;
  };

  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c;
      });
      req.on('end', () => {
        const { event, name } = JSON.parse(body) as { event: string; name: string };
        deliveries.push({ event, name, signature: String(req.headers['x-npm-signature']), body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;

    await cli(['user', 'add', 'alice', '--email', 'alice@example.com', '--password-stdin'], 'alice-password-1');
    await cli(['user', 'add', 'bob', '--email', 'bob@example.com', '--password-stdin'], 'bob-password-1');
    await cli(['org', 'create', 'acme', '--owner', 'alice']);
    aliceToken = await cli(['token', 'create', '--user', 'alice']);
    bobToken = await cli(['token', 'create', '--user', 'bob']);
    const srv = await serve(['--data', data]);
    try {
      const login = await fetch(`${srv.url}-/user/org.couchdb.user:alice`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ _id: 'org.couchdb.user:alice', name: 'alice', password: 'alice-password-1' }),
      });
      assert.equal(login.status, 201);
      session = ((await login.json()) as { token: string }).token;
      const hook = await fetch(`${srv.url}-/npm/v1/hooks/hook`, {
        method: 'POST',
        headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'scope', name: '@acme', endpoint, secret: 'acme-hook-secret-1' }),
      });
      assert.equal(hook.status, 201, await hook.text());
      const alice = npmFor(srv, aliceToken);
      await ok(alice, ['publish', '--access', 'restricted'], makePackage('@acme/lib', '1.0.0'));
      await ok(alice, ['stage', 'publish'], makePackage('@acme/lib', '1.1.0'));
      const staged = (await (
        await fetch(`${srv.url}-/stage?package=@acme/lib`, { headers: { authorization: `Bearer ${aliceToken}` } })
      ).json()) as { items: { id: string; version: string }[] };
      stageId = staged.items.find((s) => s.version === '1.1.0')!.id;
      // Taken while the server runs, as the README says it may be.
      await cli(['backup', '--to', backupDir]);
    } finally {
      await srv.stop();
    }
  });
  after(async () => {
    await new Promise((r) => receiver.close(r));
    rmSync(root, { recursive: true, force: true });
  });

  test('old tokens, the org, the restricted package, the staged version and the hook all work after it', async () => {
    const restored = join(root, 'restored');
    const r = await tessera(['restore', '--from', backupDir, '--data', restored]);
    assert.equal(r.code, 0, r.stderr);
    const srv = await serve(['--data', restored]);
    try {
      const alice = npmFor(srv, aliceToken);
      assert.equal((await ok(alice, ['whoami'])).trim(), 'alice');
      assert.equal((await ok(npmFor(srv, session), ['whoami'])).trim(), 'alice', 'the login session too');
      assert.match(await ok(npmFor(srv, session), ['org', 'ls', 'acme']), /alice - owner/);
      assert.equal((await ok(alice, ['view', '@acme/lib', 'version'])).trim(), '1.0.0');
      const bob = await npmFor(srv, bobToken).run(['view', '@acme/lib', 'version']);
      assert.notEqual(bob.code, 0, 'still restricted: bob is not in acme');
      assert.match(bob.output, /E404/);
      // The staged version still waits for approval, with its tarball (approving it takes 2FA: not repeated here).
      const auth = { authorization: `Bearer ${aliceToken}` };
      const item = await fetch(`${srv.url}-/stage/${stageId}`, { headers: auth });
      assert.equal(item.status, 200, await item.clone().text());
      const { integrity } = (await item.json()) as { integrity: string; version: string };
      const tgz = Buffer.from(
        await (await fetch(`${srv.url}-/stage/${stageId}/tarball`, { headers: auth })).arrayBuffer(),
      );
      assert.equal(`sha512-${createHash('sha512').update(tgz).digest('base64')}`, integrity);
      await ok(alice, ['dist-tag', 'add', '@acme/lib@1.0.0', 'stable']);
      // The hook's secret, sealed with the old folder's key, still signs what the restored registry sends.
      const deadline = Date.now() + 20_000;
      while (!deliveries.some((d) => d.event === 'package:dist-tag') && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 100));
      }
      const tag = deliveries.find((d) => d.event === 'package:dist-tag');
      assert.ok(tag, `the hook heard the dist-tag: ${deliveries.map((d) => d.event).join(', ')}`);
      const expected = `sha256=${createHmac('sha256', 'acme-hook-secret-1').update(tag.body).digest('hex')}`;
      assert.equal(tag.signature, expected);
      assert.equal(tag.name, '@acme/lib');
    } finally {
      await srv.stop();
    }
  });

  test('restore --force into the folder of a registry still running on it is refused; its data stays', async () => {
    const live = join(root, 'live');
    assert.equal((await tessera(['restore', '--from', backupDir, '--data', live])).code, 0);
    const srv = await serve(['--data', live]);
    try {
      const r = await tessera(['restore', '--from', backupDir, '--data', live, '--force']);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /^tessera: .*tessera\.db is open in another process .*stop it/m);
      const who = await fetch(`${srv.url}-/whoami`, { headers: { authorization: `Bearer ${aliceToken}` } });
      assert.deepEqual(await who.json(), { username: 'alice' }, 'the running registry still serves its data');
    } finally {
      await srv.stop();
    }
    const r = await tessera(['restore', '--from', backupDir, '--data', live, '--force']);
    assert.equal(r.code, 0, `once stopped, --force restores: ${r.stderr}`);
  });

  test('restore into an install whose tarballs are in a bucket is refused, with nothing written', async () => {
    const target = join(root, 'bucket-install');
    const config = join(root, 'bucket.yaml');
    writeFileSync(config, `data: ${target}\nblobs: s3://npm-tarballs/prod\ns3: {endpoint: 'http://127.0.0.1:9'}\n`);
    const r = await tessera(['restore', '--from', backupDir, '--config', config]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /^tessera: tarballs are in s3:\/\/npm-tarballs\/prod .*restore writes an embedded store/m);
    assert.ok(!existsSync(target) || readdirSync(target).length === 0, 'nothing was restored');
  });

  test('a copy of the backup without its secret.key is refused, with the target left empty', async () => {
    const keyless = join(root, 'keyless');
    cpSync(backupDir, keyless, { recursive: true });
    rmSync(join(keyless, 'secret.key'));
    const target = join(root, 'from-keyless');
    const r = await tessera(['restore', '--from', keyless, '--data', target]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /^tessera: .*secret\.key/m);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'a message, not a stack trace');
    assert.ok(!existsSync(target) || readdirSync(target).length === 0, 'nothing was restored');
  });
});
