// Private equals absent in what the registry remembers for the caller: "Why was I refused?"
// (/-/web/refusals) lists a signed-in user's own refusals. A refusal about a name the caller sent is theirs
// to see; but a staged version is asked for by its id, so a refusal recorded under the package behind a
// foreign id would show the caller a private package's name, and that the id exists, where an unknown id
// leaves nothing.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, type TestServer } from '../helpers/server.ts';
import { publishBody } from '../helpers/publish-body.ts';
import { webSignIn } from '../helpers/web-session.ts';

describe("a staged version of a package the caller may not see leaves nothing in the caller's refusals", () => {
  let s: TestServer;
  let bob = '';
  let bobLimited = '';
  let page: () => Promise<string>;
  const staged: string[] = [];

  before(async () => {
    s = await startServer({ defaultScopedAccess: 'restricted' });
    await s.addUser('alice');
    await s.addUser('bob');
    const alice = `Bearer ${await s.token({ user: 'alice' })}`;
    const post = async (method: string, path: string, body: unknown) => {
      const headers = { authorization: alice, 'content-type': 'application/json' };
      const res = await fetch(`${s.url}${path}`, { method, headers, body: JSON.stringify(body) });
      const text = await res.text();
      assert.equal(res.status, 201, text);
      return JSON.parse(text) as { stageId?: string };
    };
    for (const name of ['@alice/secret', '@alice/shown']) {
      const access = name.endsWith('shown') ? 'public' : 'restricted';
      await post('PUT', name.replace('/', '%2f'), await publishBody(name, '1.0.0', { access }));
      staged.push(
        (await post('POST', `-/stage/package/${name.replace('/', '%2f')}`, await publishBody(name, '1.1.0'))).stageId!,
      );
    }
    bob = `Bearer ${await s.token({ user: 'bob' })}`;
    // A granular token for other packages is refused for that before visibility is asked: the same must hold.
    const grants = {
      packagesAll: false,
      packages: ['@bob/other'],
      scopes: [],
      permission: 'read-write' as const,
      orgs: [],
      orgsPermission: 'no-access' as const,
    };
    bobLimited = `Bearer ${await s.token({ user: 'bob', kind: 'granular', grants })}`;
    const cookie = await webSignIn(s.url, 'bob');
    page = async () => {
      const res = await fetch(`${s.url}-/web/refusals`, { headers: { cookie } });
      assert.equal(res.status, 200);
      return res.text();
    };
  });
  after(() => s?.close());

  /** Every request npm stage (and the review page) makes about one staged id. */
  const ask = async (id: string, auth = bob) => {
    const out: number[] = [];
    for (const [method, path] of [
      ['GET', `-/stage/${id}`],
      ['GET', `-/stage/${id}/tarball`],
      ['POST', `-/stage/${id}/approve`],
      ['DELETE', `-/stage/${id}`],
    ]) {
      out.push((await fetch(`${s.url}${path}`, { method, headers: { authorization: auth } })).status);
    }
    return out;
  };

  test("an unknown id and a private package's id are refused alike, and neither is recorded", async () => {
    const before = await page();
    assert.deepEqual(await ask(randomUUID()), [404, 404, 404, 404]);
    assert.equal(await page(), before, 'an unknown id leaves nothing');
    assert.deepEqual(await ask(staged[0]), [404, 404, 404, 404]);
    assert.deepEqual(await ask(staged[0], bobLimited), [404, 404, 404, 404]);
    const after = await page();
    assert.doesNotMatch(
      after,
      /@alice\/secret/,
      `the private name behind the id is not shown: ${after.slice(after.indexOf('<main'))}`,
    );
    assert.equal(after, before, "the private package's id leaves nothing either");
  });

  test("a public package's staged version, which bob may not review, is still refused with its reason", async () => {
    assert.deepEqual(await ask(staged[1]), [404, 404, 404, 404]);
    assert.match(await page(), /@alice\/shown/, 'a refusal about a package bob can see stays in his list');
  });
});
