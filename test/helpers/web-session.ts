// A web session without a browser: the sign-in form fetched and posted as a browser does, for tests that
// compare what pages answer rather than how they look.
import assert from 'node:assert/strict';

/** Signs in on `url` (ending in /) as `name` with the test password (`<name>-password`); the session cookie. */
export async function webSignIn(url: string, name: string, password = `${name}-password`): Promise<string> {
  const form = await fetch(`${url}-/web/signin`);
  const jar = form.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const res = await fetch(`${url}-/web/signin`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, name, password }).toString(),
  });
  assert.equal(res.status, 303, await res.text());
  const session = res.headers.getSetCookie().find((c) => c.startsWith('tessera-session='));
  assert.ok(session, 'a session cookie');
  return session.split(';')[0];
}
