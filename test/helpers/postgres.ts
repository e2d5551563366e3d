// A throwaway PostgreSQL cluster (Debian's server under /usr/lib/postgresql/<version>/bin; .ci/run installs
// it): initdb -A trust --no-sync in a temporary folder owned by an unprivileged user (initdb refuses root),
// fsync off, on a free loopback port with its socket in that folder. Only the postmaster started here is
// ever stopped. Settings and their reasons: ../shared/reference/ci-services.md.
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { blobsDefaults } from '../../src/config/blobs.ts';
import { openStore } from '../../src/store/store.ts';
import { freePort } from './ports.ts';

const run = promisify(execFile);

export type Postgres = {
  /** The superuser's URL of the `postgres` database, for CREATE DATABASE. */
  url: string;
  /** A fresh, empty database; its URL. */
  createDatabase(): Promise<string>;
  /** A fresh database with every migration applied (a copy of a template migrated once per cluster); its URL. */
  createMigratedDatabase(): Promise<string>;
  dropDatabase(url: string): Promise<void>;
  stop(): void;
};

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => join(root, v, 'bin')).find((d) => existsSync(join(d, 'initdb')));
  if (!found) throw new Error(`no ${root}/<version>/bin/initdb: apt-get install -y postgresql`);
  return found;
}

/** initdb and postgres refuse root: run them as `postgres` (Debian's package makes it) or `nobody`. */
function asUser(): { user: string; uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  for (const user of ['postgres', 'nobody']) {
    try {
      const [uid, gid] = ['-u', '-g'].map((f) => Number(execFileSync('id', [f, user], { encoding: 'utf8' }).trim()));
      return { user, uid, gid };
    } catch {}
  }
  throw new Error('no unprivileged user (postgres, nobody) to run PostgreSQL as');
}

export async function startPostgres(): Promise<Postgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pg-'));
  const as = asUser();
  if (as) chownSync(dir, as.uid, as.gid);
  const cmd = (exe: string, args: string[]) =>
    as ? run('runuser', ['-u', as.user, '--', join(bin, exe), ...args]) : run(join(bin, exe), args);
  const data = join(dir, 'data');
  const port = await freePort();
  // Durability is not what a test checks; each test server takes 11 connections, and files run 2 at a time.
  const settings = ['listen_addresses=127.0.0.1', 'fsync=off', 'synchronous_commit=off', 'full_page_writes=off'];
  const opts = [`-p ${port} -k ${dir}`, ...[...settings, 'max_connections=400'].map((s) => `-c ${s}`)].join(' ');
  try {
    await cmd('initdb', ['-D', data, '-A', 'trust', '--no-sync', '-U', 'tessera', '-E', 'UTF8', '--locale=C']);
    await cmd('pg_ctl', ['-w', '-D', data, '-l', join(dir, 'postgres.log'), '-o', opts, 'start']);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return clusterAt(`postgres://tessera@127.0.0.1:${port}/postgres`, () => {
    // SIGQUIT: PostgreSQL's immediate shutdown, to the postmaster this helper started (its pid file).
    try {
      const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGQUIT');
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  });
}

/** Databases on the cluster whose superuser URL is `url`. */
function clusterAt(url: string, stop: () => void): Postgres {
  const admin = async (q: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(q);
    } finally {
      await c.end();
    }
  };
  const create = async (template?: string) => {
    const name = `t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    await admin(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
    const u = new URL(url);
    u.pathname = `/${name}`;
    return u.toString();
  };
  let template: Promise<void> | undefined;
  return {
    url,
    createDatabase: () => create(),
    async createMigratedDatabase() {
      template ??= migratedTemplate(url);
      await template;
      return create(TEMPLATE);
    },
    async dropDatabase(dbUrl) {
      const name = new URL(dbUrl).pathname.slice(1);
      if (!/^t_[0-9a-f]+$/.test(name)) throw new Error(`not a test database: ${name}`);
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
    stop,
  };
}

const TEMPLATE = 'tessera_template';

/** Migrating takes longer than copying a database, and a test run makes one per server: the migrations run
 *  once per cluster, into a template. Test processes share the cluster, so the first to hold the lock makes
 *  it, and the others wait for it to be complete (a copy fails while anyone is connected to its template). */
async function migratedTemplate(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('SELECT pg_advisory_lock(hashtext($1))', [TEMPLATE]);
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [TEMPLATE]);
    if (rowCount) return;
    await c.query(`CREATE DATABASE ${TEMPLATE}`);
    const u = new URL(url);
    u.pathname = `/${TEMPLATE}`;
    const scratch = mkdtempSync(join(tmpdir(), 'tessera-pg-template-'));
    try {
      // Each copy is opened by openStore all the same, which applies whatever the template lacks.
      const store = await openStore(scratch, { ...blobsDefaults, database: u.toString() });
      await store.close();
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  } finally {
    await c.end();
  }
}

/** The cluster given by the global setup (TESSERA_TEST_POSTGRES), else one per test process. */
let shared: Promise<Postgres> | undefined;

export function sharedPostgres(): Promise<Postgres> {
  shared ??=
    fromEnv() ??
    startPostgres().then((p) => {
      process.once('exit', () => p.stop());
      return p;
    });
  return shared;
}

function fromEnv(): Promise<Postgres> | undefined {
  const url = process.env.TESSERA_TEST_POSTGRES;
  // The global setup's cluster: it stops it itself.
  return url ? Promise.resolve(clusterAt(url, () => {})) : undefined;
}
