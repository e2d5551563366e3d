// Every finding id and every npm error code the doctor names has a KB article in the agreed shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FINDING_IDS, FINDINGS } from '../../../src/domain/findings.ts';

const KB = join(import.meta.dirname, '../../../kb');
const NPM_CODES = [
  'e401',
  'e403',
  'e404',
  'eotp',
  'eauthip',
  'eneedauth',
  'eintegrity',
  'self-signed-cert-in-chain',
  'unable-to-get-issuer-cert-locally',
  'unable-to-verify-leaf-signature',
  'depth-zero-self-signed-cert',
  'cert-has-expired',
  'err-tls-cert-altname-invalid',
  'e407',
  'e422',
  'enotfound',
  'eai-again',
  'econnrefused',
  'econnreset',
  'etimedout',
  'e500',
  'err-invalid-auth',
  'err-invalid-url',
  'einvalidproxy',
  'e409',
  'e426',
  'e402',
  'etarget',
  'e429',
];

function checkArticle(slug: string): void {
  const file = join(KB, `${slug}.md`);
  assert.ok(existsSync(file), `kb/${slug}.md is missing`);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^# \S.+\n/, `${slug}: starts with "# Title"`);
  const sections = [...text.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
  for (const s of ['What it means', 'Why it happens', 'How to fix it'])
    assert.ok(sections.includes(s), `${slug}: section "${s}"`);
  assert.ok(sections.indexOf('What it means') < sections.indexOf('How to fix it'));
}

test('one article per finding id', () => {
  assert.ok(FINDING_IDS.length >= 37);
  for (const id of FINDING_IDS) {
    checkArticle(id);
    assert.ok(FINDINGS[id].why.length > 20, `${id} has a why`);
  }
});

test('one article per npm error code people meet', () => {
  for (const code of NPM_CODES) checkArticle(`npm-${code}`);
});

test('docs/doctor.md has a row for every finding id, with its default severity and title', () => {
  const doc = readFileSync(join(import.meta.dirname, '../../../docs/doctor.md'), 'utf8');
  for (const id of FINDING_IDS) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${id}\` |`));
    assert.ok(row, `docs/doctor.md has no row for ${id}`);
    const cells = row.split('|').map((c) => c.trim());
    assert.equal(cells[2], FINDINGS[id].severity, `${id}: severity column`);
    assert.equal(cells[3], FINDINGS[id].title, `${id}: title column`);
  }
});
