// Sign-up policies (open / admin-only / closed), web sign-up, and starring, over HTTP and with npm.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';

const adduser = (url: string, name: string, headers: Record<string, string> = {}) =>
  fetch(`${url}-/user/org.couchdb.user:${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      _id: `org.couchdb.user:${name}`,
      name,
      password: `${name}-password`,
      email: `${name}@example.com`,
      type: 'user',
      roles: [],
      date: new Date().toISOString(),
    }),
  });

describe('sign-up policies', () => {
  test('admin-only (the default): anonymous sign-up is refused, an administrator may create accounts', async () => {
    const s = await startServer();
    try {
      await s.addUser('root', { admin: true });
      await s.addUser('plain');
      let res = await adduser(s.url, 'newbie');
      assert.equal(res.status, 403);
      assert.equal(res.headers.get('x-tessera-reason'), 'signup-closed');
      assert.match(((await res.json()) as { error: string }).error, /created by an administrator/);
      res = await adduser(s.url, 'newbie', { authorization: `Bearer ${await s.token({ user: 'plain' })}` });
      assert.equal(res.status, 403);
      res = await adduser(s.url, 'newbie', { authorization: `Bearer ${await s.token({ user: 'root' })}` });
      assert.equal(res.status, 201);
      assert.match(((await res.json()) as { token: string }).token, /^tsr_/);
      // Existing user with the right password: a login, whatever npm called it.
      res = await adduser(s.url, 'newbie');
      assert.equal(res.status, 201);
      // Web sign-up is refused up front, so npm falls back to its prompts and gets the same answer.
      const web = await fetch(`${s.url}-/v1/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"create":true}',
      });
      assert.equal(web.status, 403);
    } finally {
      await s.close();
    }
  });

  test('closed: nobody signs up over HTTP, not even an administrator', async () => {
    const s = await startServer({ signup: 'closed' });
    try {
      await s.addUser('root', { admin: true });
      const res = await adduser(s.url, 'newbie', { authorization: `Bearer ${await s.token({ user: 'root' })}` });
      assert.equal(res.status, 403);
      assert.match(((await res.json()) as { error: string }).error, /Sign-up is closed/);
    } finally {
      await s.close();
    }
  });

  test('open: web sign-up through npm adduser', async () => {
    const s = await startServer({ signup: 'open' });
    try {
      const npm = makeNpm(s.url);
      let browsed = false;
      const r = await npm.run(['adduser'], {
        onStdout: (chunk) => {
          const url = /(http:\/\/\S+\/-\/v1\/login\/cli\/\S+)/.exec(chunk)?.[1];
          if (!url || browsed) return;
          browsed = true;
          void (async () => {
            const page = await (await fetch(url)).text();
            assert.match(page, /Create your Tessera account/);
            await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
              body: new URLSearchParams({
                name: 'wendy',
                email: 'wendy@example.com',
                password: 'wendy-password',
              }).toString(),
            });
          })();
        },
      });
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, /Create your account at:/);
      assert.equal((await npm.run(['whoami'])).stdout.trim(), 'wendy');
      // starring, while we are here
      let p = await npm.run(['publish'], { cwd: makePackage('starry', '1.0.0') });
      assert.equal(p.code, 0, p.output);
      p = await npm.run(['star', 'starry']);
      assert.equal(p.code, 0, p.output);
      assert.match(p.output, /★/);
      p = await npm.run(['stars']);
      assert.match(p.stdout, /starry/);
      p = await npm.run(['unstar', 'starry']);
      assert.equal(p.code, 0, p.output);
      const doc = (await (await fetch(`${s.url}starry`)).json()) as { users: Record<string, boolean> };
      assert.deepEqual(doc.users, {});
    } finally {
      await s.close();
    }
  });
});
