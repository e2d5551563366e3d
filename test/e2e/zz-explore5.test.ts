import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { createOrg } from '../../src/services/orgs.ts';
import { codeAt } from '../../src/domain/totp.ts';

async function userWith2fa(s: TestServer, name: string, mode = 'auth-only') {
  await s.addUser(name);
  const token = await s.token({ user: name, kind: 'session', expiresInMs: 86_400_000 });
  const npm = makeNpm(s.url);
  npm.setToken(s.host, token);
  const post = (body: object) => fetch(`${s.url}-/npm/v1/user`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const url = ((await (await post({ tfa: { mode, password: `${name}-password` } })).json()) as { tfa: string }).tfa;
  const secret = new URL(url).searchParams.get('secret')!;
  assert.equal((await post({ tfa: [codeAt(secret, s.clock.now())] })).status, 200);
  return { npm, token, code: () => { s.clock.advance(30_000); return codeAt(secret, s.clock.now()); } };
}

test('explore', async () => {
  const s = await startServer();
  const olivia = await userWith2fa(s, 'olivia', 'auth-and-writes');
  const adam = await userWith2fa(s, 'adam');
  const tina = await userWith2fa(s, 'tina');
  await s.addUser('dev');
  const npm: Record<string, NpmEnv> = { olivia: olivia.npm, adam: adam.npm, tina: tina.npm };
  npm.dev = makeNpm(s.url); npm.dev.setToken(s.host, await s.token({ user: 'dev' }));
  npm.bypass = makeNpm(s.url); npm.bypass.setToken(s.host, await s.token({ user: 'olivia', kind: 'granular', bypass2fa: true, grants: { packagesAll: true, packages: [], scopes: [], permission: 'read-write', orgs: [], orgsPermission: 'no-access' } } as any));
  await createOrg(s.ctx, 'acme', 'olivia');
  const run = async (u: string, args: string[], opts: any = {}) => {
    const r = await npm[u].run(args, opts);
    console.log(`\n>>> ${u}: npm ${args.join(' ')} -> ${r.code}\n${r.output.split('\n').filter((l: string) => !/notice|verbose|timing|silly|^npm http|complete log|In most cases|Establishing|Anyone with|Two-factor auth|may not support/.test(l)).filter((l: string) => /error/.test(l) || !/trust/.test(args[0])).slice(0, 4).join('\n')}`);
    return r;
  };
  const o = () => `--otp=${olivia.code()}`;
  await run('olivia', ['org', 'set', 'acme', 'adam', 'admin', o()]);
  await run('olivia', ['org', 'set', 'acme', 'tina', o()]);
  await run('olivia', ['org', 'set', 'acme', 'dev', o()]);
  await run('olivia', ['team', 'create', 'acme:rel', o()]);
  await run('olivia', ['team', 'add', 'acme:rel', 'tina', o()]);
  await run('olivia', ['publish', o()], { cwd: makePackage('@acme/app', '1.0.0') });
  await run('olivia', ['access', 'grant', 'read-write', 'acme:rel', '@acme/app', o()]);
  await run('olivia', ['access', 'set', 'mfa=publish', '@acme/app', o()]);
  let r;
  // trust
  await run('adam', ['trust', 'list', '@acme/app']);
  await run('adam', ['trust', 'github', '@acme/app', '--repository', 'acme/app', '--file', 'rel.yml', '--allow-publish', '--yes', `--otp=${adam.code()}`]);
  await run('tina', ['trust', 'list', '@acme/app']);
  await run('tina', ['trust', 'github', '@acme/app', '--repository', 'acme/app', '--file', 'rel.yml', '--allow-publish', '--yes', `--otp=${tina.code()}`]);
  await run('bypass', ['trust', 'github', '@acme/app', '--repository', 'acme/app', '--file', 'rel.yml', '--allow-publish', '--yes']);
  await run('olivia', ['trust', 'github', '@acme/app', '--repository', 'acme/app', '--file', 'rel.yml', '--allow-publish', '--yes', o()]);
  await run('olivia', ['trust', 'gitlab', '@acme/app', '--project', 'acme/app', '--file', '.gitlab-ci.yml', '--allow-stage-publish', '--yes', o()]);
  r = await run('olivia', ['trust', 'list', '@acme/app', '--json']);
  await run('tina', ['trust', 'revoke', '@acme/app', '--id', 'nosuch', `--otp=${tina.code()}`]);
  await s.close();
});
