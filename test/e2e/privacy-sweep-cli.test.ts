// Private equals absent as a user meets it: the real npm and pnpm commands about a package someone else keeps
// private print exactly what they print for a name that was never published (names, times, paths and the
// port swapped out), and change nothing.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { publishBody } from '../helpers/publish-body.ts';
import { makeNpm, type NpmEnv } from '../helpers/npm.ts';
import { makePnpm, writeNpmrc, type ClientEnv } from '../helpers/clients.ts';
import { createOrg, setMember } from '../../src/services/orgs.ts';
import { userByName } from '../../src/services/accounts.ts';
import type { Principal } from '../../src/domain/principal.ts';

const PAIRS: [string, string][] = [
  ['@acme/secret', '@acme/sacret'],
  ['@alice/secret', '@alice/sacret'],
];

/** What a curious colleague would try: look, list, and change what npm lets them ask about (npm 11 has no
 *  `npm hook`: privacy-sweep.test.ts sends its requests). */
const npmCommands = (n: string): string[][] => [
  ['view', n],
  ['access', 'get', 'status', n],
  ['owner', 'ls', n],
  ['owner', 'add', 'bob', n],
  ['dist-tag', 'ls', n],
  ['deprecate', `${n}@1.0.0`, 'gone'],
  ['star', n],
  ['unpublish', `${n}@1.0.0`, '--force'],
  ['install', n, '--no-save', '--ignore-scripts'],
];
const pnpmCommands = (n: string): string[][] => [
  ['view', n],
  ['add', n, '--ignore-scripts'],
];

/** The output with what may rightly differ (the name, times, temporary paths, the port) swapped out. */
function neutral(out: string, name: string): string {
  return out
    .split(name.replace('/', '%2f'))
    .join('<pkg>')
    .split(name.replace('/', '%2F'))
    .join('<pkg>')
    .split(name)
    .join('<pkg>')
    .replace(/\d+(\.\d+)?m?s\b/g, '<t>')
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<date>')
    .replace(/\/tmp\/\S+/g, '<tmp>')
    .replace(/127\.0\.0\.1:\d+/g, '<host>');
}

describe('npm and pnpm print the same for a private package as for a missing one', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  let aliceToken = '';
  const users: Record<string, string> = {};

  before(async () => {
    s = await startServer({ defaultScopedAccess: 'restricted' });
    for (const u of ['alice', 'bob', 'dan']) await s.addUser(u);
    await createOrg(s.ctx, 'acme', 'alice');
    const alice = (await userByName(s.ctx, 'alice'))!;
    const asAlice = { user: { ...alice, tfa: null }, credential: { type: 'password' } } as unknown as Principal;
    await setMember(s.ctx, asAlice, 'acme', 'dan', 'developer');
    aliceToken = await s.token({ user: 'alice' });
    for (const [hidden] of PAIRS) {
      const res = await fetch(`${s.url}${hidden.replace('/', '%2f')}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${aliceToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(await publishBody(hidden, '1.0.0')),
      });
      assert.equal(res.status, 201, await res.text());
    }
    users.bob = await s.token({ user: 'bob' });
    users['dan (acme developer, no grant)'] = await s.token({ user: 'dan' });
  });
  after(() => s?.close());

  const packument = async (name: string) =>
    (await fetch(`${s.url}${name.replace('/', '%2f')}`, { headers: { authorization: `Bearer ${aliceToken}` } })).text();

  // Each npm run takes a while: anonymous callers try the reads, dan the org's package.
  const READS = ['view', 'access', 'dist-tag', 'install'];
  for (const [who, pairs, only] of [
    ['anonymous', PAIRS, READS],
    ['bob', PAIRS, null],
    ['dan (acme developer, no grant)', PAIRS.slice(0, 1), null],
  ] as const) {
    test(`npm 11, ${who}`, async () => {
      const npm: NpmEnv = makeNpm(s.url);
      if (users[who]) npm.setToken(s.host, users[who]);
      const cwd = mkdtempSync(join(tmpdir(), 'tessera-privacy-'));
      const commands = (n: string) => npmCommands(n).filter(([c]) => !only || only.includes(c));
      for (const [hidden, absent] of pairs) {
        const before = await packument(hidden);
        const onAbsent = commands(absent);
        for (const [i, args] of commands(hidden).entries()) {
          const h = await npm.run(args, { cwd });
          const a = await npm.run(onAbsent[i], { cwd });
          assert.notEqual(h.code, 0, `npm ${args.join(' ')} fails: ${h.output}`);
          assert.equal(
            neutral(`${h.code} ${h.output}`, hidden),
            neutral(`${a.code} ${a.output}`, absent),
            args.join(' '),
          );
        }
        assert.equal(await packument(hidden), before, `${hidden} is unchanged`);
      }
    });
  }

  test('pnpm 11, bob', async () => {
    const pnpm: ClientEnv = makePnpm();
    const cwd = mkdtempSync(join(tmpdir(), 'tessera-privacy-pnpm-'));
    writeNpmrc(cwd, s.url, users.bob);
    for (const [hidden, absent] of PAIRS) {
      const onAbsent = pnpmCommands(absent);
      for (const [i, args] of pnpmCommands(hidden).entries()) {
        const h = await pnpm.run(args, { cwd });
        const a = await pnpm.run(onAbsent[i], { cwd });
        assert.notEqual(h.code, 0, `pnpm ${args.join(' ')} fails: ${h.output}`);
        assert.equal(
          neutral(`${h.code} ${h.output}`, hidden),
          neutral(`${a.code} ${a.output}`, absent),
          args.join(' '),
        );
      }
    }
  });
});
