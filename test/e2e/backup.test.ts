// `tessera backup` while `tessera serve` takes a burst of publishes in another process, then `tessera restore`
// into a new folder: a server on the restore has every version acknowledged before the backup started, with
// its tarball, and npm installs them. Restore refuses a data folder that is not empty unless --force.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssri from 'ssri';
import { serve, tessera, type ServeProcess } from '../helpers/cli.ts';
import { makeTarball, publishBody } from '../helpers/publish-body.ts';
import { makeNpm, makeProject } from '../helpers/npm.ts';

const PACKAGES = ['burst-a', 'burst-b', 'burst-c', 'burst-d'];
const VERSIONS_EACH = 12;

type Ack = { name: string; version: string; at: number };
type Packument = { versions: Record<string, { dist: { tarball: string; integrity: string } }> };

// On the cluster backend there is no SQLite file to copy: backup and restore refuse it (pg-suite-b.test.ts).
const skip = process.env.TESSERA_TEST_BACKEND === 'cluster' && 'tessera backup copies the embedded store (SQLite) only';

describe('tessera backup during a publish burst, and tessera restore', { skip }, () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-backup-'));
  const data = join(root, 'data');
  const backupDir = join(root, 'backup');
  const restored = join(root, 'restored');
  let srv: ServeProcess;
  let token: string;
  const acks: Ack[] = [];
  let backupStarted = 0;
  let backupEnded = 0;

  before(async () => {
    assert.equal((await tessera(['user', 'add', 'bea', '--email', 'bea@example.com', '--data', data])).code, 0);
    token = (await tessera(['token', 'create', '--user', 'bea', '--data', data])).stdout.trim();
    srv = await serve(['--data', data]);

    // Every version of every package, interleaved, published by 4 clients at once until the queue is empty.
    const queue = Array.from({ length: VERSIONS_EACH }, (_, i) =>
      PACKAGES.map((name) => ({ name, version: `1.0.${i}` })),
    ).flat();
    const publish = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const { name, version } = next;
        const tarball = await makeTarball({
          'package/package.json': JSON.stringify({ name, version, main: 'index.js' }),
          'package/index.js': `module.exports = ${JSON.stringify(`${name}@${version}`)}; // ${randomBytes(512).toString('hex')}\n`,
        });
        const res = await fetch(`${srv.url}${name}`, {
          method: 'PUT',
          body: JSON.stringify(await publishBody(name, version, { tarball })),
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        });
        assert.equal(res.status, 201, await res.text());
        acks.push({ name, version, at: Date.now() });
      }
    };
    const burst = Promise.all([publish(), publish(), publish(), publish()]);
    // The backup starts once the burst is well under way, and the burst goes on while it runs.
    while (acks.length < 8) await new Promise((r) => setTimeout(r, 5));
    backupStarted = Date.now();
    const b = await tessera(['backup', '--to', backupDir, '--data', data]);
    backupEnded = Date.now();
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /backed up \d+ version\(s\) of \d+ package\(s\)/);
    await burst;
    await srv.stop();
  });
  after(() => {
    if (srv?.child.exitCode === null) srv.child.kill();
    rmSync(root, { recursive: true, force: true });
  });

  test('the burst really ran on both sides of the backup', () => {
    assert.equal(acks.length, PACKAGES.length * VERSIONS_EACH);
    assert.ok(acks.filter((a) => a.at < backupStarted).length >= 8);
    assert.ok(
      acks.some((a) => a.at > backupStarted),
      'some publishes were acknowledged after the backup started',
    );
    assert.ok(backupEnded > backupStarted);
    const manifest = JSON.parse(readFileSync(join(backupDir, 'tessera-backup.json'), 'utf8')) as { versions: number };
    assert.ok(manifest.versions >= acks.filter((a) => a.at < backupStarted).length);
  });

  test('restore without --force refuses a data folder that is not empty, and leaves it alone', async () => {
    const before = statSync(join(data, 'tessera.db'));
    const r = await tessera(['restore', '--from', backupDir, '--data', data]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the data folder .* is not empty; restore will not overwrite it/);
    assert.match(r.stderr, /--force/);
    const after = statSync(join(data, 'tessera.db'));
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.equal(after.size, before.size);
  });

  test('a folder without a finished backup is refused', async () => {
    const half = mkdtempSync(join(root, 'half-'));
    writeFileSync(join(half, 'tessera.db'), '');
    const r = await tessera(['restore', '--from', half, '--data', join(root, 'never')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not a finished Tessera backup/);
    assert.ok(!existsSync(join(root, 'never')));
  });

  test('a server on the restored folder serves every version acknowledged before the backup, tarball included', async () => {
    const r = await tessera(['restore', '--from', backupDir, '--data', restored]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /restored the backup of /);
    const back = await serve(['--data', restored]);
    try {
      const docs = new Map<string, Packument>();
      for (const name of PACKAGES) {
        const res = await fetch(`${back.url}${name}`);
        assert.equal(res.status, 200, name);
        docs.set(name, (await res.json()) as Packument);
      }
      const before = acks.filter((a) => a.at < backupStarted);
      for (const a of before) assert.ok(docs.get(a.name)?.versions[a.version], `${a.name}@${a.version} was restored`);
      // Consistency: whatever the snapshot holds, before or after the backup began, comes with its tarball.
      for (const doc of docs.values()) {
        for (const [version, v] of Object.entries(doc.versions)) {
          const tgz = await fetch(v.dist.tarball.replace(/^http:\/\/[^/]+\//, back.url));
          assert.equal(tgz.status, 200, version);
          assert.ok(ssri.checkData(Buffer.from(await tgz.arrayBuffer()), v.dist.integrity), `${version} integrity`);
        }
      }

      // The real npm installs the newest acknowledged version of each package from the restored registry.
      const newest = new Map(before.map((a) => [a.name, a.version]));
      const npm = makeNpm(back.url);
      const project = makeProject(Object.fromEntries(newest));
      const install = await npm.run(['install'], { cwd: project });
      assert.equal(install.code, 0, install.output);
      for (const [name, version] of newest) {
        const pkg = JSON.parse(readFileSync(join(project, 'node_modules', name, 'package.json'), 'utf8'));
        assert.equal(pkg.version, version, name);
      }
    } finally {
      await back.stop();
    }
  });

  test('restore --force replaces the database of a stopped registry with the backup', async () => {
    const target = join(root, 'force');
    assert.equal((await tessera(['user', 'add', 'other', '--email', 'o@example.com', '--data', target])).code, 0);
    const r = await tessera(['restore', '--from', backupDir, '--data', target, '--force']);
    assert.equal(r.code, 0, r.stderr);
    const users = await tessera(['user', 'list', '--data', target]);
    assert.match(users.stdout, /^bea\t/m);
    assert.doesNotMatch(users.stdout, /^other\t/m);
  });
});
