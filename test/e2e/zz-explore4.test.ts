import { test } from 'node:test';
import { startServer } from '../helpers/server.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { createOrg } from '../../src/services/orgs.ts';

test('explore', async () => {
  const s = await startServer({}, { recordRequests: true });
  const npm: any = {};
  for (const u of ['olivia', 'dev1', 'dev2']) {
    await s.addUser(u);
    npm[u] = makeNpm(s.url);
    npm[u].setToken(s.host, await s.token({ user: u }));
  }
  await createOrg(s.ctx, 'acme', 'olivia');
  const run = async (u: string, args: string[], opts: any = {}) => {
    const n = s.requests.length;
    const r = await npm[u].run(args, opts);
    console.log(`\n>>> ${u}: npm ${args.join(' ')} -> ${r.code} [${s.requests.slice(n).join(' | ')}]\n${r.output.split('\n').filter((l: string) => !/notice|verbose|timing|silly|^npm http|complete log|In most cases/.test(l)).slice(0, 4).join('\n')}`);
    return r;
  };
  await run('olivia', ['org', 'set', '@acme', 'dev1']);
  await run('olivia', ['org', 'set', 'ACME', 'dev2']);
  await run('olivia', ['org', 'ls', '@acme', 'dev1']);
  await run('olivia', ['org', 'ls', 'acme', '--json']);
  await run('olivia', ['team', 'create', '@acme:ops']);
  await run('olivia', ['team', 'add', '@acme:ops', 'dev1']);
  await run('olivia', ['team', 'ls', '@acme:ops']);
  await run('olivia', ['team', 'ls', 'acme:developers']);
  await run('olivia', ['team', 'ls', '@acme', '--json']);
  await run('olivia', ['publish'], { cwd: makePackage('@acme/widget', '1.0.0') });
  await run('olivia', ['access', 'grant', 'read-write', '@acme:ops', '@acme/widget']);
  await run('olivia', ['access', 'list', 'packages', '@acme:ops']);
  await run('olivia', ['access', 'list', 'packages', '@acme:ops', '--json']);
  await run('olivia', ['access', 'list', 'collaborators', '@acme/widget', '--json']);
  await run('olivia', ['access', 'list', 'collaborators', '@acme/widget', 'dev1']);
  await run('olivia', ['access', 'revoke', '@acme:ops', '@acme/widget']);
  await run('olivia', ['access', 'list', 'packages', 'acme:ops']);
  await run('olivia', ['access', 'get', 'status', '@acme/widget', '--json']);
  await run('olivia', ['access', 'set', 'status=public', '@acme/widget', '--json']);
  await run('dev2', ['view', '@acme/widget', 'version']);
  await run('olivia', ['access', 'set', 'status=restricted', '@acme/widget']);
  await run('olivia', ['access', 'set', 'status=private', '@acme/widget']);
  await run('dev2', ['view', '@acme/widget', 'version']);
  await run('olivia', ['team', 'destroy', '@acme:ops']);
  await run('olivia', ['access', 'set', 'mfa=automation', '@acme/widget']);
  await run('olivia', ['access', 'get', 'status', '@acme/widget']);
  await s.close();
});
