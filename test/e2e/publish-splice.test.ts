// Publishing to a package, deprecating, unpublishing and tagging one of its versions rewrite only the
// chunk of the stored documents that holds it (domain/packument-splice.ts), and what is served stays byte
// for byte what a full render of the package makes. Publishes go over HTTP as npm sends them (many of
// them); deprecate, unpublish and dist-tag go through the real npm CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startServer, type TestServer } from '../helpers/server.ts';
import { publishBody } from '../helpers/publish-body.ts';
import { makeNpm, type NpmEnv } from '../helpers/npm.ts';
import { loadState, storedDocuments } from '../../src/store/packages.ts';
import { render } from '../../src/domain/packument.ts';

const NAME = 'spliced';
const COUNT = 120;
let s: TestServer;
let npm: NpmEnv;
let token: string;

async function put(version: string, tag?: string) {
  const b = await publishBody(NAME, version, { tag });
  // Long enough that the versions span several chunks.
  (b.versions[version] as Record<string, unknown>).description = `version ${version} `.repeat(80);
  s.clock.advance(1_000);
  const res = await fetch(`${s.url}${NAME}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(b),
  });
  assert.equal(res.status, 201, await res.text());
}

/** Which chunks were written (inserted, updated or deleted) since the last call, as triggers saw it. */
async function chunkWrites(): Promise<string[]> {
  const rows = await sql<{ w: string }>`SELECT w FROM chunk_writes ORDER BY n`.execute(s.ctx.store.db);
  await sql`DELETE FROM chunk_writes`.execute(s.ctx.store.db);
  return rows.rows.map((r) => r.w);
}

async function assertAsRendered(what: string) {
  const stored = (await storedDocuments(s.ctx.store.db, NAME))!;
  const full = render((await loadState(s.ctx.store.db, NAME))!);
  assert.equal(stored.etag, full.etag, what);
  assert.equal(stored.doc, full.doc, what);
  assert.equal(stored.abbrev, full.abbrev, what);
}

type Served = {
  versions: Record<string, { deprecated?: string }>;
  time: Record<string, string>;
  'dist-tags': Record<string, string>;
};

async function served(): Promise<Served> {
  const res = await fetch(`${s.url}${NAME}`);
  assert.equal(res.status, 200);
  return res.json() as never;
}

before(async () => {
  s = await startServer();
  await s.addUser('ada');
  token = await s.token({ user: 'ada' });
  npm = makeNpm(s.url);
  npm.setToken(s.host, token);
  for (let i = 0; i < COUNT; i++) await put(`1.0.${i}`);
  const db = s.ctx.store.db;
  if (s.ctx.store.dialect === 'postgres') {
    await sql`CREATE TABLE chunk_writes (n BIGSERIAL PRIMARY KEY, w TEXT)`.execute(db);
    await sql
      .raw(`CREATE FUNCTION chunk_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        INSERT INTO chunk_writes (w) VALUES (lower(TG_OP) || ' ' || CASE WHEN TG_OP = 'DELETE' THEN OLD.seq ELSE NEW.seq END);
        RETURN NULL; END $$`)
      .execute(db);
    await sql`CREATE TRIGGER chunk_write AFTER INSERT OR UPDATE OR DELETE ON packument_chunks
      FOR EACH ROW EXECUTE FUNCTION chunk_write()`.execute(db);
    return;
  }
  await sql`CREATE TABLE chunk_writes (n INTEGER PRIMARY KEY, w TEXT)`.execute(db);
  for (const [op, row] of [
    ['INSERT', 'NEW'],
    ['UPDATE', 'NEW'],
    ['DELETE', 'OLD'],
  ]) {
    await sql
      .raw(`CREATE TRIGGER chunk_${op} AFTER ${op} ON packument_chunks
      BEGIN INSERT INTO chunk_writes (w) VALUES ('${op.toLowerCase()} ' || ${row}.seq); END`)
      .execute(db);
  }
});
after(async () => {
  await s.close();
});

test('publishes append: the documents span several chunks, earlier chunks are never rewritten', async () => {
  const last = (
    await s.ctx.store.db
      .selectFrom('packument_chunks')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .where('name', '=', NAME)
      .executeTakeFirstOrThrow()
  ).seq;
  assert.ok(last >= 2, `${last + 1} chunks`);
  await put('1.1.0');
  await put('1.2.0-beta.1', 'beta');
  const writes = await chunkWrites();
  assert.equal(writes.length, 2);
  const appended = [`update ${last}`, `insert ${last + 1}`, `update ${last + 1}`];
  assert.ok(
    writes.every((w) => appended.includes(w)),
    writes.join(),
  );
  await assertAsRendered('after publishes');
  const doc = await served();
  assert.equal(doc['dist-tags'].latest, '1.1.0');
  assert.equal(doc['dist-tags'].beta, '1.2.0-beta.1');
  assert.equal(Object.keys(doc.versions).length, COUNT + 2);
});

test('npm deprecate of one version rewrites its chunk only', async () => {
  const r = await npm.run(['deprecate', `${NAME}@1.0.3`, 'use 1.1.0']);
  assert.equal(r.code, 0, r.output);
  assert.deepEqual(await chunkWrites(), ['update 0']);
  await assertAsRendered('after deprecate');
  assert.equal((await served()).versions['1.0.3'].deprecated, 'use 1.1.0');
});

test('npm unpublish of a middle version, and dist-tag changes, leave what a full render makes', async () => {
  const r = await npm.run(['unpublish', `${NAME}@1.0.50`, '--force']);
  assert.equal(r.code, 0, r.output);
  const writes = await chunkWrites();
  assert.equal(writes.length, 1, writes.join());
  assert.match(writes[0], /^update [1-9]/);
  await assertAsRendered('after unpublish');
  const doc = await served();
  assert.equal(doc.versions['1.0.50'], undefined);
  assert.ok(doc.time['1.0.50'], 'the unpublished version keeps its time');
  const t = await npm.run(['dist-tag', 'add', `${NAME}@1.0.7`, 'old']);
  assert.equal(t.code, 0, t.output);
  await assertAsRendered('after dist-tag add');
  assert.deepEqual(await chunkWrites(), [], 'no chunk written');
  assert.equal((await served())['dist-tags'].old, '1.0.7');
});
