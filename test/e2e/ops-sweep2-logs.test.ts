// The log of a whole journey at the most verbose level, with the access log on, read as an operator ships it
// to a log store: no password, token, one-time password, session cookie, login secret or hook secret in it,
// whatever the request carried them in (a header, a JSON or form body, a URL, a body that does not parse).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, tessera, type ServeProcess } from '../helpers/cli.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { webSignIn } from '../helpers/web-session.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { enable2fa } from '../helpers/two-factor.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { redactUrl } from '../../src/http/server.ts';

const PASSWORD = 'Pw-journey-4f9c2a';
const NEW_PASSWORD = 'Pw-changed-8b1d7e';
const HOOK_SECRET = 'hook-secret-5e3a9c1b';

describe('a full journey, then the log', { skip: onceInSqlitePass }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ops2-logs-'));
  const data = join(dir, 'data');
  const secrets = new Set<string>([PASSWORD, NEW_PASSWORD, HOOK_SECRET]);
  let srv: ServeProcess;

  before(async () => {
    const config = join(dir, 'tessera.yaml');
    writeFileSync(config, 'logLevel: trace\naccessLog: true\n');
    const add = await tessera(['user', 'add', 'lena', '--email', 'lena@example.com', '--password-stdin'], {
      input: PASSWORD,
      env: { TESSERA_DATA: data },
    });
    assert.equal(add.code, 0, add.stderr);
    srv = await serve(['--config', config, '--data', data]);
  });
  after(async () => {
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('nothing secret that the journey sent or received is in the log', async () => {
    const url = srv.url;
    const json = (body: unknown, headers: Record<string, string> = {}) => ({
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    // npm's legacy login: the password in a JSON body, a session token back.
    const login = await fetch(`${url}-/user/org.couchdb.user:lena`, {
      method: 'PUT',
      ...json({ _id: 'org.couchdb.user:lena', name: 'lena', password: PASSWORD }),
    });
    assert.equal(login.status, 201);
    const session = ((await login.json()) as { token: string }).token;
    secrets.add(session);
    const bearer = { authorization: `Bearer ${session}` };
    // A wrong password, and a body that does not parse with the password in it.
    assert.equal(
      (
        await fetch(`${url}-/user/org.couchdb.user:lena`, {
          method: 'PUT',
          ...json({ name: 'lena', password: `${PASSWORD}-wrong` }),
        })
      ).status,
      401,
    );
    const broken = await fetch(`${url}-/user/org.couchdb.user:lena`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: `{"name":"lena","password":"${PASSWORD}"`,
    });
    assert.equal(broken.status, 400);
    // npm's web login: the login secret in both URLs, the password in the form, the token from doneUrl.
    const start = (await (await fetch(`${url}-/v1/login`, { method: 'POST', ...json({}) })).json()) as {
      loginUrl: string;
      doneUrl: string;
    };
    secrets.add(start.loginUrl.split('/').pop()!);
    const cookie = await webSignIn(url, 'lena', PASSWORD);
    secrets.add(cookie.split('=')[1]);
    const page = await (await fetch(start.loginUrl, { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    await fetch(start.loginUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, name: 'lena', password: PASSWORD }).toString(),
    });
    const done = await fetch(start.doneUrl);
    assert.equal(done.status, 200, await done.clone().text());
    secrets.add(((await done.json()) as { token: string }).token);
    // A granular token over npm's API (the password in it), a hook with its secret, a token in a query string.
    const made = await fetch(`${url}-/npm/v1/tokens`, {
      method: 'POST',
      ...json({ password: PASSWORD, name: 'ci', expires: 7 }, bearer),
    });
    assert.equal(made.status, 201, await made.clone().text());
    const granular = ((await made.json()) as { token: string }).token;
    secrets.add(granular);
    const hook = await fetch(`${url}-/npm/v1/hooks/hook`, {
      method: 'POST',
      ...json({ type: 'owner', name: 'lena', endpoint: 'http://127.0.0.1:9/h', secret: HOOK_SECRET }, bearer),
    });
    assert.equal(hook.status, 201, await hook.clone().text());
    await fetch(`${url}-/whoami?token=${granular}`);
    // The password changed on the web page (both passwords in the form); it ends the sessions.
    const account = await (await fetch(`${url}-/web/account`, { headers: { cookie } })).text();
    const form = /name="_csrf" value="([^"]+)"/.exec(account)?.[1] ?? '';
    const changed = await fetch(`${url}-/web/account/password`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: form, old: PASSWORD, new: NEW_PASSWORD }).toString(),
    });
    assert.ok(changed.status < 400, `${changed.status} ${await changed.text()}`);
    const again = await fetch(`${url}-/user/org.couchdb.user:lena`, {
      method: 'PUT',
      ...json({ _id: 'org.couchdb.user:lena', name: 'lena', password: NEW_PASSWORD }),
    });
    assert.equal(again.status, 201, 'the new password works');
    const session2 = ((await again.json()) as { token: string }).token;
    secrets.add(session2);
    // 2FA: the seed in an answer, a code in a JSON body, then one in npm's npm-otp header (npm publish --otp).
    let seed = '';
    let last = 0;
    // Each code once, never older than the last one used: the current step, or the next one.
    const otp = () => {
      last = Math.max(Math.floor(Date.now() / 30_000), last + 1);
      const code = codeAt(seed, last * 30_000);
      secrets.add(code);
      return code;
    };
    await enable2fa(url, `Bearer ${session2}`, {
      mode: 'auth-and-writes',
      password: NEW_PASSWORD,
      code: (k) => {
        seed = k;
        secrets.add(seed);
        return otp();
      },
    });
    const npm = makeNpm(url);
    npm.setToken(srv.host, session2);
    const publish = await npm.run(['publish', `--otp=${otp()}`], { cwd: makePackage('journey-pkg', '1.0.0') });
    assert.equal(publish.code, 0, publish.output);
    // npm logout: the token in the URL.
    const logout = await fetch(`${url}-/user/token/${session2}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${session2}` },
    });
    assert.equal(logout.status, 200);

    await new Promise((r) => setTimeout(r, 300)); // the last lines reach the pipe
    const log = srv.output();
    assert.ok(log.split('\n').length > 20, `the journey was logged at trace level:\n${log}`);
    assert.match(log, /"url":"\/-\/user\/token\/\[redacted\]"/, 'the access log saw the logout');
    assert.ok(secrets.size >= 12, `the journey's secrets were all seen (${secrets.size})`);
    for (const secret of secrets) {
      assert.ok(secret.length >= 6, `a secret was caught empty or short: "${secret}"`);
      assert.ok(!log.includes(secret), `the log holds a secret (${secret.slice(0, 6)}…)`);
      assert.ok(
        !log.includes(encodeURIComponent(secret)),
        `the log holds a secret, URL-encoded (${secret.slice(0, 6)}…)`,
      );
    }
    assert.doesNotMatch(log, /tsr_[0-9A-Za-z]{20}/, 'no token of any kind');
    assert.doesNotMatch(log, /tessera-session=/i, 'no cookie');
  });
});

describe('URLs as the log writes them', { skip: onceInSqlitePass }, () => {
  test("the company sign-in's callback keeps neither the provider's one-time code nor the state", () => {
    const logged = redactUrl(
      '/-/signin/oidc/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj&iss=https%3A%2F%2Fsso',
    );
    assert.equal(logged, '/-/signin/oidc/callback?code=[redacted]&state=[redacted]&iss=https%3A%2F%2Fsso');
    assert.equal(redactUrl('/-/v1/search?text=code%3Dx&size=20'), '/-/v1/search?text=code%3Dx&size=20');
  });
});
