// Queries live in src/store/ behind named functions (DESIGN.md): a service, route or command that builds
// SQL would escape the dialect work (SQLite and PostgreSQL) and the review of what each query reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const BUILDING =
  /\b(selectFrom|insertInto|updateTable|deleteFrom|replaceInto)\(|from 'kysely'|\bsql`|\.transaction\(\)/;

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* sources(path);
    else if (e.name.endsWith('.ts')) yield path;
  }
}

test('no file outside src/store builds a query or imports Kysely', () => {
  const found: string[] = [];
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file);
    if (rel.startsWith('store/')) continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (BUILDING.test(line)) found.push(`src/${rel}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(found, []);
});

test('the check sees a query where there is one', () => {
  assert.ok(BUILDING.test("await db.selectFrom('users').selectAll()"));
  assert.ok(BUILDING.test("import { sql } from 'kysely';"));
  assert.ok(!BUILDING.test('await userByName(ctx.store.db, name)'));
});
