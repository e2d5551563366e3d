// `npm search` as users meet it: an exact name among many matches that sort before it, `--searchlimit`,
// paging through `from` and `size` without losing or repeating a package, scoped words, words in a
// description with non-ASCII letters, and a package that is unpublished leaving the results.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, type NpmEnv } from '../helpers/npm.ts';
import { escaped, makeTarball, publishBody } from '../helpers/publish-body.ts';
import { send } from '../helpers/raw-request.ts';

type Found = { objects: { package: { name: string } }[]; total: number };

describe('npm search', () => {
  let s: TestServer;
  let npm: NpmEnv;
  let auth: Record<string, string>;
  const names = [
    ...Array.from({ length: 24 }, (_, i) => `@widgets/widget-${String(i).padStart(2, '0')}`),
    'widget',
    'widget-kit',
  ];

  before(async () => {
    s = await startServer();
    await s.addUser('alice');
    const token = await s.token({ user: 'alice' });
    auth = { authorization: `Bearer ${token}` };
    npm = makeNpm(s.url);
    npm.setToken(s.host, token);
    const publish = async (name: string, description: string) => {
      const tarball = await makeTarball({ 'package/package.json': JSON.stringify({ name, version: '1.0.0' }) });
      const body = await publishBody(name, '1.0.0', { tarball, access: 'public' });
      Object.assign(body.versions['1.0.0'], { description, keywords: ['gizmo'] });
      const r = await send(s, 'PUT', `/${escaped(name)}`, { headers: auth, body });
      assert.equal(r.status, 201, r.body);
    };
    for (const name of names) await publish(name, `A widget: ${name}`);
    await publish('gadget', 'Ein Gerät für Büros, ÜBERALL');
  });
  after(() => s.close());

  const search = async (query: string) => {
    const r = await send(s, 'GET', `/-/v1/search?${query}`, { headers: auth });
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body) as Found;
  };

  test('the package named exactly comes first, even when 24 matches sort before it by name', async () => {
    const r = await npm.run(['search', 'widget', '--json']);
    assert.equal(r.code, 0, r.output);
    const found = (JSON.parse(r.stdout) as { name: string }[]).map((p) => p.name);
    assert.equal(found.length, 20, 'npm asks for 20');
    assert.equal(found[0], 'widget');
    assert.equal((await search('text=widget&size=5&from=0')).objects[0].package.name, 'widget');
  });

  test('--searchlimit, and pages of `from`/`size` that together list every match once', async () => {
    const r = await npm.run(['search', 'widget', '--searchlimit', '3', '--json']);
    assert.equal((JSON.parse(r.stdout) as unknown[]).length, 3, r.stdout);
    const seen: string[] = [];
    for (let from = 0; ; from += 7) {
      const page = await search(`text=widget&size=7&from=${from}`);
      assert.equal(page.total, names.length);
      if (page.objects.length === 0) break;
      seen.push(...page.objects.map((o) => o.package.name));
    }
    assert.deepEqual([...seen].sort(), [...names].sort());
  });

  test('scoped words, several words, keywords and non-ASCII text', async () => {
    const scoped = await search(`text=${encodeURIComponent('@widgets/widget-1')}`);
    assert.deepEqual(
      scoped.objects.map((o) => o.package.name),
      Array.from({ length: 10 }, (_, i) => `@widgets/widget-1${i}`),
    );
    assert.deepEqual(
      (await search('text=widget%20kit')).objects.map((o) => o.package.name),
      ['widget-kit'],
    );
    assert.equal((await search('text=gizmo&size=100')).total, names.length + 1);
    for (const words of ['gerät', 'überall Büros']) {
      const r = await npm.run(['search', ...words.split(' '), '--json']);
      assert.deepEqual(
        (JSON.parse(r.stdout) as { name: string }[]).map((p) => p.name),
        ['gadget'],
        words,
      );
    }
  });

  test('an unpublished package leaves the results', async () => {
    const r = await npm.run(['unpublish', 'widget-kit', '--force']);
    assert.equal(r.code, 0, r.output);
    const found = await search('text=widget&size=100');
    assert.equal(found.total, names.length - 1);
    assert.ok(!found.objects.some((o) => o.package.name === 'widget-kit'));
  });
});
