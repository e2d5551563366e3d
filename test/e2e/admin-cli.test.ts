// `tessera serve` and the administrative commands, as separate processes sharing one data folder:
// users made while the server runs, revocation from the CLI seen by the server within a second,
// expired tokens, password changes, clean shutdown.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { serve, tessera, type ServeProcess } from '../helpers/cli.ts';
import { publishBody } from '../helpers/publish-body.ts';
import { makeNpm, makePackage, makeProject } from '../helpers/npm.ts';
import { clusterBackend, storedText, useClusterStore } from '../helpers/cluster-data.ts';

describe('tessera serve with the admin CLI in another process', () => {
  let data: string;
  let config: string;
  let srv: ServeProcess;
  let dropStore: () => Promise<void>;
  const admin = (args: string[], input?: string) => tessera([...args, '--data', data, '--config', config], { input });

  before(async () => {
    data = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    config = join(data, 'tessera.yaml');
    dropStore = await useClusterStore(data);
    // The access log is on, so the secrets check at the end reads every URL the server saw.
    writeFileSync(config, 'signup: closed\nsessionTtl: 2h\nlogLevel: info\naccessLog: true\n');
    srv = await serve(['--data', data, '--config', config]);
  });
  after(async () => {
    await srv.stop();
    await dropStore();
  });

  test('prints its URL and answers ping', async () => {
    assert.match(srv.output(), /Tessera registry listening on http:\/\/127\.0\.0\.1:\d+\//);
    const res = await fetch(`${srv.url}-/ping`);
    assert.equal(res.status, 200);
  });

  test('user add/list/disable work while the server runs', async () => {
    let r = await admin(['user', 'add', 'erin', '--email', 'erin@example.com', '--password-stdin'], 'erin-password\n');
    assert.equal(r.code, 0, r.stderr);
    r = await admin(['user', 'add', 'root', '--email', 'root@example.com', '--admin']);
    assert.equal(r.code, 0, r.stderr);
    r = await admin(['user', 'add', 'erin', '--email', 'erin@example.com']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already taken/);
    r = await admin(['user', 'list']);
    assert.match(r.stdout, /^erin\terin@example\.com$/m);
    assert.match(r.stdout, /^root\troot@example\.com\tadmin$/m);
    const npm = makeNpm(srv.url);
    const login = await npm.runTty(
      ['login', '--auth-type=legacy'],
      [
        [/Username:/, 'erin'],
        [/Password:/, 'erin-password'],
      ],
    );
    assert.equal(login.code, 0, login.output);
    assert.equal((await npm.run(['whoami'])).stdout.trim(), 'erin');
  });

  test('sign-up closed: npm adduser is refused with the reason', async () => {
    const npm = makeNpm(srv.url);
    const r = await npm.runTty(
      ['adduser', '--auth-type=legacy'],
      [
        [/Username:/, 'mallory'],
        [/Password:/, 'mallory-pass'],
        [/Email/, 'm@example.com'],
      ],
    );
    assert.notEqual(r.code, 0);
    assert.match(r.output, /Sign-up is closed on this registry/);
  });

  test('scenario 2: a token revoked with the admin CLI fails at once with the notice', async () => {
    const created = await admin(['token', 'create', '--user', 'erin', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const { token, id } = JSON.parse(created.stdout) as { token: string; id: string };
    const npm = makeNpm(srv.url);
    npm.setToken(srv.host, token);
    assert.equal((await npm.run(['whoami'])).stdout.trim(), 'erin');
    const revoked = await admin(['token', 'revoke', id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const t0 = Date.now();
    let r: Awaited<ReturnType<typeof npm.run>>;
    do {
      r = await npm.run(['whoami']);
    } while (r.code === 0 && Date.now() - t0 < 1000);
    assert.ok(Date.now() - t0 < 1000 + 1500, 'revocation took effect within a second');
    assert.equal(r.code, 1);
    assert.match(r.output, /E401/);
    assert.match(r.output, /npm notice access token expired or revoked\. Please try logging in again\./);
    assert.match(r.output, /Unable to authenticate, your authentication token seems to be invalid/);
    // The refusal never echoes the credential back.
    const res = await fetch(`${srv.url}-/whoami`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    assert.equal(res.status, 401);
    assert.ok(!text.includes(token) && !text.includes(token.slice(4, 20)), text);
  });

  test('scenario 1: an expired token → E401 with the notice; npm login fixes it', async () => {
    await admin(['user', 'add', 'frank', '--email', 'frank@example.com', '--password-stdin'], 'frank-password');
    const npm = makeNpm(srv.url);
    const setup = makeNpm(srv.url);
    setup.setToken(srv.host, (await admin(['token', 'create', '--user', 'frank'])).stdout.trim());
    let r = await setup.run(['publish'], { cwd: makePackage('@frank/private', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    const short = await admin(['token', 'create', '--user', 'frank', '--expires-in', '1s']);
    npm.setToken(srv.host, short.stdout.trim());
    await new Promise((res) => setTimeout(res, 1200));
    const proj = makeProject({ '@frank/private': '1.0.0' });
    r = await npm.run(['install'], { cwd: proj });
    assert.equal(r.code, 1);
    assert.match(r.output, /npm error code E401/);
    assert.match(r.output, /npm notice access token expired or revoked\. Please try logging in again\./);
    const login = await npm.runTty(
      ['login', '--auth-type=legacy'],
      [
        [/Username:/, 'frank'],
        [/Password:/, 'frank-password'],
      ],
    );
    assert.equal(login.code, 0, login.output);
    assert.equal((await npm.run(['whoami'])).stdout.trim(), 'frank');
    r = await npm.run(['install'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
  });

  test('scenario 2: changing the password revokes login sessions', async () => {
    const npm = makeNpm(srv.url);
    const login = await npm.runTty(
      ['login', '--auth-type=legacy'],
      [
        [/Username:/, 'frank'],
        [/Password:/, 'frank-password'],
      ],
    );
    assert.equal(login.code, 0, login.output);
    const r0 = await admin(['user', 'passwd', 'frank', '--password-stdin'], 'frank-new-password');
    assert.equal(r0.code, 0, r0.stderr);
    await new Promise((res) => setTimeout(res, 400));
    const r = await npm.run(['whoami']);
    assert.equal(r.code, 1);
    assert.match(r.output, /npm notice access token expired or revoked/);
  });

  test('disable a user: their tokens stop working', async () => {
    await admin(['user', 'add', 'gina', '--email', 'gina@example.com']);
    const npm = makeNpm(srv.url);
    npm.setToken(srv.host, (await admin(['token', 'create', '--user', 'gina'])).stdout.trim());
    assert.equal((await npm.run(['whoami'])).stdout.trim(), 'gina');
    assert.equal((await admin(['user', 'disable', 'gina'])).code, 0);
    await new Promise((res) => setTimeout(res, 400));
    assert.equal((await npm.run(['whoami'])).code, 1);
  });

  test('the audit log records what happened', async () => {
    const r = await admin(['audit', '--json']);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; user: string | null });
    assert.ok(events.some((e) => e.event === 'token-revoked'));
    assert.ok(events.some((e) => e.event === 'password-changed' && e.user === 'frank'));
    assert.ok(events.some((e) => e.event === 'user-disabled' && e.user === 'gina'));
  });

  test('SIGTERM shuts down cleanly, letting an in-flight publish finish', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cli2-'));
    const dropOther = await useClusterStore(dir);
    await tessera(['user', 'add', 'pat', '--email', 'pat@example.com', '--data', dir]);
    const token = (await tessera(['token', 'create', '--user', 'pat', '--data', dir])).stdout.trim();
    const other = await serve(['--data', dir]);
    const body = Buffer.from(JSON.stringify(await publishBody('inflight', '1.0.0')));
    // Send half the publish, stop the server, then send the rest: the publish must complete.
    const done = new Promise<number>((resolve, reject) => {
      const req = request(
        `${other.url}inflight`,
        {
          method: 'PUT',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'content-length': body.length,
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write(body.subarray(0, 100));
      setTimeout(() => {
        other.child.kill('SIGTERM');
        setTimeout(() => req.end(body.subarray(100)), 300);
      }, 200);
    });
    assert.equal(await done, 201);
    const code = await new Promise<number | null>((res) =>
      other.child.exitCode !== null ? res(other.child.exitCode) : other.child.once('close', res),
    );
    assert.equal(code, 0);
    const again = await serve(['--data', dir]);
    const doc = (await (await fetch(`${again.url}inflight`)).json()) as { versions: Record<string, unknown> };
    assert.deepEqual(Object.keys(doc.versions), ['1.0.0']);
    assert.equal(await again.stop('SIGINT'), 0);
    await dropOther();
  });

  test('no token appears in clear in the logs, error bodies or the database', async () => {
    // A logout puts the token in the URL; the access log must redact it.
    const npm = makeNpm(srv.url);
    const login = await npm.runTty(
      ['login', '--auth-type=legacy'],
      [
        [/Username:/, 'frank'],
        [/Password:/, 'frank-new-password'],
      ],
    );
    assert.equal(login.code, 0, login.output);
    assert.equal((await npm.run(['logout'])).code, 0);
    await new Promise((res) => setTimeout(res, 300));
    assert.match(srv.output(), /\/-\/user\/token\/\[redacted\]/, 'the access log saw the logout');
    // Packument reads, which skip Fastify's reply pipeline, are in the access log too.
    await fetch(`${srv.url}@frank%2fprivate`, {
      headers: { authorization: `Bearer ${(await admin(['token', 'create', '--user', 'frank'])).stdout.trim()}` },
    });
    await new Promise((res) => setTimeout(res, 300));
    assert.match(
      srv.output(),
      /"url":"\/@frank%2fprivate".*"statusCode":200|"statusCode":200.*"url":"\/@frank%2fprivate"/,
    );
    assert.doesNotMatch(srv.output(), /tsr_[0-9A-Za-z]{10}/);
    // The SQLite files (WAL too), or every row of every table on PostgreSQL.
    assert.equal(existsSync(join(data, 'tessera.db')), !clusterBackend, 'the store is the backend under test');
    const stored = await storedText(data);
    assert.ok(Object.keys(stored).length > 0, 'the store was read');
    for (const [where, text] of Object.entries(stored)) {
      assert.doesNotMatch(text, /tsr_[0-9A-Za-z]{36}/, `a token was stored in clear in ${where}`);
    }
  });
});
