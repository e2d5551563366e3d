// npm login's web page (`npm login` prints "Login at: <url>"): a refused sign-up keeps what was typed,
// never the password.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';

describe("npm login's sign-up page after a refusal", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ signup: 'open' });
    await s.addUser('taken', { password: 'correct horse battery' });
  });
  after(() => s.close());

  test('a name already taken: the page says so and keeps the name and e-mail, not the password', async () => {
    const start = await fetch(`${s.url}-/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ create: true }),
    });
    const started = (await start.json()) as { loginUrl: string };
    assert.equal(start.status, 200, JSON.stringify(started));
    const { loginUrl } = started;
    const form = new URLSearchParams({ name: 'taken', email: 'new.person@example.com', password: 'a-secret-typed' });
    const res = await fetch(loginUrl, { method: 'POST', body: form });
    const page = await res.text();
    assert.equal(res.status, 409, page);
    assert.equal(res.headers.get('x-tessera-reason'), 'user-exists');
    assert.match(page, /Create your Tessera account/);
    assert.match(page, /id="name"[^>]*value="taken"/);
    assert.match(page, /id="email"[^>]*value="new\.person@example\.com"/);
    assert.doesNotMatch(page, /a-secret-typed/);
  });
});
