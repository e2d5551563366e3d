// `tessera migrate` on a real PostgreSQL and Ceph RGW: an embedded install with every kind of record, made
// through the real npm CLI (login, 2FA, tokens of each kind, an org with a team, a restricted scoped package,
// a public one with dist-tags and a deprecation, a staged version, a trust configuration, a hook, audit),
// copied into the cluster store; a second run copies nothing; then `tessera serve` on the cluster takes the
// *old* tokens, still asks for 2FA, and serves the tarballs from the bucket with their integrity.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import ssri from 'ssri';
import { stringify } from 'yaml';
import { serve, tessera, type ServeProcess } from '../helpers/cli.ts';
import { makeNpm, makePackage, makeProject, type NpmEnv } from '../helpers/npm.ts';
import { sharedPostgres, type Postgres } from '../helpers/postgres.ts';
import { s3BlobsConfig, sharedRgw } from '../helpers/rgw.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { enable2fa } from '../helpers/two-factor.ts';
import { onceInClusterPass } from '../helpers/cluster-data.ts';

type Packument = {
  'dist-tags': Record<string, string>;
  versions: Record<string, { deprecated?: string; dist: { tarball: string; integrity: string } }>;
};
type Report = {
  ok: boolean;
  rerun: boolean;
  tables: { table: string; source: number; copied: number; target: number }[];
};

const tokenIn = (out: string) => {
  const m = /(tsr_[0-9A-Za-z]+)/.exec(out);
  assert.ok(m, out);
  return m[1];
};

describe('tessera migrate: an embedded install into PostgreSQL and S3', { skip: onceInClusterPass }, () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-migrate-'));
  const data = join(root, 'data');
  const scratch = join(root, 'node');
  const sourceConfig = join(root, 'embedded.yaml');
  const clusterConfig = join(root, 'cluster.yaml');
  let postgres: Postgres;
  let database = '';
  let blobs = '';
  let s3env: Record<string, string> = {};
  let src: ServeProcess;
  let node: ServeProcess | undefined;
  let alice: NpmEnv;
  let session = '';
  let granular = '';
  let automation = '';
  let carolSecret = '';
  let carolToken = '';
  /** The last 30-second TOTP step a code of carol's was used for: a code works once, on any node. */
  let lastStep = 0;
  const STEP = 30_000;
  /** A code for a step after the last used one, within the server's one step of drift. */
  const freshCode = async () => {
    while (Math.floor(Date.now() / STEP) < lastStep) await new Promise((r) => setTimeout(r, 500));
    lastStep = Math.max(Math.floor(Date.now() / STEP), lastStep + 1);
    return codeAt(carolSecret, lastStep * STEP);
  };
  let first: Report;
  const npmAt = (url: string, host: string, token: string) => {
    const n = makeNpm(url);
    n.setToken(host, token);
    return n;
  };

  before(async () => {
    postgres = await sharedPostgres();
    database = await postgres.createDatabase();
    const bucket = await s3BlobsConfig(await sharedRgw());
    blobs = bucket.blobs!;
    const { accessKeyId, secretAccessKey, endpoint, region } = bucket.s3;
    s3env = { TESSERA_S3_ACCESS_KEY_ID: accessKeyId!, TESSERA_S3_SECRET_ACCESS_KEY: secretAccessKey! };
    // The embedded install's file names the bucket's endpoint (as the brief of `migrate --blobs` says);
    // the credentials come from the environment.
    const s3 = { endpoint, region, forcePathStyle: true };
    writeFileSync(sourceConfig, stringify({ data, tokens: { classic: true }, hookDelivery: { attempts: 1 }, s3 }));
    const cluster = { data: scratch, database, blobs, s3: { ...s3, accessKeyId, secretAccessKey } };
    writeFileSync(clusterConfig, stringify({ ...cluster, tokens: { classic: true } }));

    const cli = async (args: string[], input?: string) => {
      const r = await tessera([...args, '--config', sourceConfig], { input });
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    await cli(['user', 'add', 'alice', '--email', 'alice@example.com', '--password-stdin'], 'alice-password');
    await cli(['user', 'add', 'bob', '--email', 'bob@example.com', '--password-stdin'], 'bob-password');
    await cli(['user', 'add', 'carol', '--email', 'carol@example.com', '--password-stdin'], 'carol-password');
    await cli(['org', 'create', 'acme', '--owner', 'alice']);
    automation = tokenIn(await cli(['token', 'create', '--user', 'alice', '--classic', 'automation']));
    src = await serve(['--config', sourceConfig]);

    alice = makeNpm(src.url);
    const login = await alice.runTty(
      ['login', '--auth-type=legacy'],
      [
        [/Username:/, 'alice'],
        [/Password:/, 'alice-password'],
      ],
    );
    assert.equal(login.code, 0, login.output);
    session = /_authToken=(\S+)/.exec(alice.npmrc())![1];
    const ok = async (n: NpmEnv, args: string[], cwd?: string) => {
      const r = await n.run(args, { cwd });
      assert.equal(r.code, 0, `npm ${args.join(' ')}\n${r.output}`);
      return r.output;
    };
    await ok(alice, ['org', 'set', 'acme', 'bob', 'developer']);
    await ok(alice, ['team', 'create', 'acme:readers']);
    await ok(alice, ['team', 'add', 'acme:readers', 'bob']);
    await ok(alice, ['publish', '--access', 'restricted'], makePackage('@acme/secret', '1.0.0'));
    await ok(alice, ['access', 'grant', 'read-only', 'acme:readers', '@acme/secret']);
    // A hook before the public package's publishes, so they leave deliveries behind (to a closed port).
    const hook = await fetch(`${src.url}-/npm/v1/hooks/hook`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'owner',
        name: 'alice',
        endpoint: 'http://127.0.0.1:9/hook',
        secret: 'hook-secret',
      }),
    });
    assert.equal(hook.status, 201, await hook.text());
    await ok(alice, ['publish'], makePackage('pub-pkg', '1.0.0'));
    await ok(alice, ['publish'], makePackage('pub-pkg', '1.1.0'));
    await ok(alice, ['dist-tag', 'add', 'pub-pkg@1.0.0', 'stable']);
    await ok(alice, ['deprecate', 'pub-pkg@1.0.0', 'use 1.1.0']);
    await ok(alice, ['stage', 'publish'], makePackage('pub-pkg', '1.2.0'));
    granular = tokenIn(
      await ok(alice, [
        'token',
        'create',
        '--password',
        'alice-password',
        '--packages',
        '@acme/secret',
        '--packages-and-scopes-permission',
        'read-only',
        '--cidr',
        '127.0.0.0/8',
      ]),
    );

    // carol: 2FA for auth and writes, a package of her own, and a trust configuration on it.
    const carol = makeNpm(src.url);
    const carolLogin = await carol.runTty(
      ['login', '--auth-type=legacy'],
      [
        [/Username:/, 'carol'],
        [/Password:/, 'carol-password'],
      ],
    );
    assert.equal(carolLogin.code, 0, carolLogin.output);
    carolToken = /_authToken=(\S+)/.exec(carol.npmrc())![1];
    await ok(carol, ['publish'], makePackage('carol-pkg', '1.0.0'));
    await enable2fa(src.url, `Bearer ${carolToken}`, {
      mode: 'auth-and-writes',
      password: 'carol-password',
      code: (secret) => {
        carolSecret = secret;
        return freshCode();
      },
    });
    const trust = await fetch(`${src.url}-/package/carol-pkg/trust`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${carolToken}`,
        'content-type': 'application/json',
        'npm-otp': await freshCode(),
      },
      body: JSON.stringify([
        {
          type: 'github',
          claims: { repository: 'acme/app', workflow_ref: { file: 'publish.yml' } },
          permissions: ['createPackage'],
        },
      ]),
    });
    assert.equal(trust.status, 201, await trust.text());
    // Stopped before the copy, as the guide says: nothing it writes later would be copied.
    await src.stop();
  });
  after(async () => {
    if (src?.child.exitCode === null) src.child.kill();
    if (node?.child.exitCode === null) node.child.kill();
    await postgres?.dropDatabase(database);
    rmSync(root, { recursive: true, force: true });
  });

  const migrate = (extra: string[] = []) =>
    tessera(['migrate', '--to', database, '--blobs', blobs, '--config', sourceConfig, '--json', ...extra], {
      env: s3env,
    });

  test('the first run copies every table and tarball, and verifies them', async () => {
    const r = await migrate();
    assert.equal(r.code, 0, r.stderr + r.stdout);
    first = JSON.parse(r.stdout) as Report;
    assert.equal(first.ok, true);
    assert.equal(first.rerun, false);
    // pub-pkg 1.0.0, 1.1.0 and the staged 1.2.0, @acme/secret, carol-pkg: into the bucket, read back, hashed.
    const b = (first as Report & { blobs: { copied: number; count: number } }).blobs;
    assert.equal(b.copied, 5);
    assert.equal(b.count, 5);
    const byTable = new Map(first.tables.map((t) => [t.table, t]));
    for (const table of [
      'users',
      'tokens',
      'orgs',
      'org_members',
      'teams',
      'team_members',
      'team_packages',
      'packages',
      'packuments',
      'versions',
      'dist_tags',
      'maintainers',
      'staged',
      'version_claims',
      'trust_configs',
      'hooks',
      'hook_deliveries',
      'audit',
    ]) {
      const t = byTable.get(table);
      assert.ok(t && t.source > 0, `${table} has rows to copy`);
      assert.equal(t.copied, t.source, table);
      assert.equal(t.target, t.source, table);
    }
    const c = new pg.Client({ connectionString: database });
    await c.connect();
    try {
      const tfa = await c.query(`SELECT tfa FROM users WHERE name = 'carol'`);
      assert.match(String(tfa.rows[0].tfa), /v1\./, "carol's 2FA seed, still sealed");
      // The next user gets an id after the copied ones: the identity sequence was moved on.
      const next = await c.query(`SELECT nextval(pg_get_serial_sequence('users', 'id')) AS n`);
      assert.ok(Number(next.rows[0].n) > byTable.get('users')!.source);
    } finally {
      await c.end();
    }
  });

  test('a second run copies nothing and says so; the text report names each table', async () => {
    const again = await migrate();
    assert.equal(again.code, 0, again.stderr);
    const r = JSON.parse(again.stdout) as Report & { blobs: { copied: number; present: number } };
    assert.equal(r.rerun, true);
    assert.ok(r.tables.every((t) => t.copied === 0));
    assert.equal(r.blobs.copied, 0);
    assert.ok(r.blobs.present >= 4);
    const text = await tessera(['migrate', '--to', database, '--blobs', blobs, '--config', sourceConfig], {
      env: s3env,
    });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /a run again/);
    assert.match(text.stdout, /^ {2}users +0 copied of 3, 3 there already; 3 in the cluster$/m);
    assert.match(text.stdout, /secret\.key into the data folder of every node/);
  });

  test('a database that holds another install is refused', async () => {
    const other = await postgres.createDatabase();
    try {
      // Another install's records: a user made by a Tessera on that database.
      const made = await tessera(['user', 'add', 'mallory', '--email', 'm@example.com', '--data', scratch], {
        env: { TESSERA_DATABASE_URL: other },
      });
      assert.equal(made.code, 0, made.stderr);
      const r = await tessera(['migrate', '--to', other, '--config', sourceConfig], { env: s3env });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /holds records already \((audit|users)\); migrate into a new, empty database/);
    } finally {
      await postgres.dropDatabase(other);
    }
  });

  test('tessera serve on the cluster takes the old tokens, asks for 2FA, serves tarballs from S3', async () => {
    // Each node needs the install's sealing key: carol's 2FA seed and the hook's secret are sealed with it.
    mkdirSync(scratch, { recursive: true });
    copyFileSync(join(data, 'secret.key'), join(scratch, 'secret.key'));
    node = await serve(['--config', clusterConfig]);
    const host = new URL(node.url).host;

    // The old session token: whoami.
    const who = await npmAt(node.url, host, session).run(['whoami']);
    assert.equal(who.stdout.trim(), 'alice', who.output);

    // The old granular token (read-only, @acme/secret, 127.0.0.0/8): installs the restricted package.
    const project = makeProject({ '@acme/secret': '1.0.0' });
    const install = await npmAt(node.url, host, granular).run(['install'], { cwd: project });
    assert.equal(install.code, 0, install.output);
    const pkg = JSON.parse(readFileSync(join(project, 'node_modules/@acme/secret/package.json'), 'utf8'));
    assert.equal(pkg.version, '1.0.0');

    // The old automation token publishes.
    const pub = await npmAt(node.url, host, automation).run(['publish'], { cwd: makePackage('pub-pkg', '1.3.0') });
    assert.equal(pub.code, 0, pub.output);

    // carol's 2FA is still asked for, and her seed (opened with the copied key) gives codes that pass.
    const carol = npmAt(node.url, host, carolToken);
    let r = await carol.run(['publish'], { cwd: makePackage('carol-pkg', '1.1.0') });
    assert.equal(r.code, 1);
    assert.match(r.output, /EOTP/);
    r = await carol.run(['publish', `--otp=${await freshCode()}`], {
      cwd: makePackage('carol-pkg', '1.1.0'),
    });
    assert.equal(r.code, 0, r.output);

    // The public package: dist-tags, deprecation, staged version still waiting, tarballs with their integrity.
    const doc = (await (await fetch(`${node.url}pub-pkg`)).json()) as Packument;
    assert.equal(doc['dist-tags'].stable, '1.0.0');
    assert.equal(doc['dist-tags'].latest, '1.3.0');
    assert.equal(doc.versions['1.0.0'].deprecated, 'use 1.1.0');
    assert.equal(doc.versions['1.2.0'], undefined, 'the staged version is not published');
    for (const [version, v] of Object.entries(doc.versions)) {
      const tgz: Response = await fetch(`${node.url}pub-pkg/-/pub-pkg-${version}.tgz`);
      assert.equal(tgz.status, 200, version);
      assert.ok(ssri.checkData(Buffer.from(await tgz.arrayBuffer()), v.dist.integrity), `${version} integrity`);
    }
    const list = await npmAt(node.url, host, session).run(['stage', 'list', 'pub-pkg', '--json']);
    assert.match(list.stdout, /"version": "1\.2\.0"/, list.output);
    const trust = await npmAt(node.url, host, carolToken).run(['trust', 'list', 'carol-pkg']);
    assert.match(trust.output, /acme\/app/, trust.output);
    // A new user after the migration does not collide with the copied ids.
    const add = await tessera(['user', 'add', 'dave', '--email', 'd@example.com', '--config', clusterConfig]);
    assert.equal(add.code, 0, add.stderr);

    // `tessera backup` is for the embedded store: on the cluster it points to PostgreSQL's own tools.
    const backup = await tessera(['backup', '--to', join(root, 'backup'), '--config', clusterConfig]);
    assert.equal(backup.code, 1);
    assert.match(backup.stderr, /the records are in PostgreSQL: back them up with pg_dump/);

    // Run again once the cluster has taken writes: rows changed there are reported, and never overwritten.
    const late = await tessera(['migrate', '--to', database, '--config', sourceConfig], { env: s3env });
    assert.equal(late.code, 1, late.stdout);
    assert.match(late.stderr, /packages \["pub-pkg"\] is in the cluster already, with other values; left as it is/);
    const doc2 = (await (await fetch(`${node.url}pub-pkg`)).json()) as Packument;
    assert.equal(doc2['dist-tags'].latest, '1.3.0');
  });
});
