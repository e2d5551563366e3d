// `explain` on pastes made with the real clients (test/fixtures/explain-made): npm 11/12, pnpm 11 and Yarn 4
// run against a registry that refuses in a given way, wrapped as CI, Docker and terminals show them. Unlike
// the corpus of public threads (explain-real), every case must have its cause first, and a case that lists
// secrets is run through the binary, as a user runs it, whose output must not hold them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { maskSecrets } from '../../../src/doctor/credentials.ts';
import { explainText } from '../../../src/doctor/explain.ts';
import { defaultRegistryHost } from '../../../src/doctor/explain/evidence.ts';
import { FINDING_IDS } from '../../../src/domain/findings.ts';

const DIR = join(import.meta.dirname, '../../fixtures/explain-made');
const BIN = join(import.meta.dirname, '../../../bin/tessera.js');

interface Case {
  client: string;
  made: string;
  /** The finding that must rank first; null: no cause at all. */
  cause: string | null;
  wrong: string[];
  code?: string;
  has?: string[];
  /** Text the first cause's fix must contain (the command for the client that failed). */
  fixIncludes?: string;
  secrets?: string[];
}

const cases = readdirSync(DIR)
  .filter((f) => f.endsWith('.txt'))
  .sort()
  .map((f) => ({
    name: f.slice(0, -4),
    file: join(DIR, f),
    text: readFileSync(join(DIR, f), 'utf8').replaceAll('registry.example.com', defaultRegistryHost()),
    meta: JSON.parse(readFileSync(join(DIR, f.replace(/\.txt$/, '.json')), 'utf8')) as Case,
  }));

test('the made corpus: labelled cases with known cause ids', () => {
  assert.ok(cases.length >= 40, `${cases.length} cases`);
  for (const c of cases) {
    for (const id of [c.meta.cause, ...c.meta.wrong, ...(c.meta.has ?? [])])
      assert.ok(id === null || FINDING_IDS.includes(id as never), `${c.name}: unknown cause ${id}`);
    assert.ok(c.meta.made.length > 10, `${c.name}: says how it was made`);
  }
});

for (const c of cases) {
  test(`explain ${c.name}`, () => {
    const { explanation: ex } = explainText(c.text);
    const ids = ex.causes.map((x) => x.id);
    if (c.meta.code) assert.equal(ex.code, c.meta.code);
    if (c.meta.cause === null) assert.deepEqual(ids, [], 'no cause invented');
    else assert.equal(ids[0], c.meta.cause, `${ex.code} [${ids.join(', ')}]`);
    if (c.meta.cause !== null) assert.notEqual(ex.code, 'UNKNOWN', 'an error is recognised');
    for (const w of c.meta.wrong) assert.ok(ids.indexOf(w as never) !== 0, `${w} ranks first`);
    if (c.meta.fixIncludes) assert.ok(ex.causes[0].fix.includes(c.meta.fixIncludes), ex.causes[0].fix);
    for (const h of c.meta.has ?? []) assert.ok(ids.slice(0, 3).includes(h as never), `${h} in the top three`);
    for (const x of ex.causes) {
      assert.ok(x.fix.length > 20, `${x.id} has a fix`);
      // The binary masks secrets in what it prints: a fix must hold nothing that looks like one.
      assert.equal(maskSecrets(x.fix), x.fix, `${x.id}: the fix is printed as written`);
    }
  });
}

const withSecrets = cases.filter((c) => c.meta.secrets?.length);
test('the binary never prints a secret from the paste (file, stdin, argument; human and --json)', () => {
  assert.ok(withSecrets.length >= 3);
  for (const c of withSecrets) {
    // From a file, from standard input, and pasted as the argument itself.
    for (const args of [
      ['explain', '--no-config', c.file],
      ['explain', '--json', '--no-config'],
      ['explain', '--no-config', c.text],
    ]) {
      const r = spawnSync(process.execPath, [BIN, ...args], { input: c.text, encoding: 'utf8' });
      assert.equal(r.status, 1, `${c.name}: ${r.stderr}`);
      if (args.includes('--json')) assert.equal(JSON.parse(r.stdout).code, explainText(c.text).explanation.code);
      assert.match(r.stdout, /\S/);
      for (const s of c.meta.secrets ?? []) assert.ok(!r.stdout.includes(s), `${c.name}: ${s} printed`);
    }
  }
});

test('every fix, for these pastes and the public-thread corpus, is printed as written (nothing in it is masked)', () => {
  const real = join(import.meta.dirname, '../../fixtures/explain-real');
  const texts = [
    ...cases.map((c) => c.text),
    ...readdirSync(real)
      .filter((f) => f.endsWith('.txt'))
      .map((f) => readFileSync(join(real, f), 'utf8')),
  ];
  for (const text of texts)
    for (const x of explainText(text).explanation.causes) assert.equal(maskSecrets(x.fix), x.fix, x.id);
});
