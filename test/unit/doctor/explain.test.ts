// `explain` on a corpus of real-looking outputs: npm 8–12 console text, debug logs, pnpm and Yarn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { explainText, extract } from '../../../src/doctor/explain.ts';
import { FINDING_IDS } from '../../../src/domain/findings.ts';

const DIR = join(import.meta.dirname, '../../fixtures/doctor/explain');
const expected: Record<string, any> = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8'));

for (const [file, want] of Object.entries(expected)) {
  test(`explain ${file}`, () => {
    const text = readFileSync(join(DIR, file), 'utf8');
    const { explanation: ex, extracted } = explainText(text);
    assert.equal(ex.code, want.code);
    for (const k of ['status', 'method', 'url'] as const) if (want[k] !== undefined) assert.equal(ex[k], want[k], k);
    if (want.reason) assert.equal(extracted.reason, want.reason);
    if (want.first) assert.equal(ex.causes[0]?.id, want.first, JSON.stringify(ex.causes.map((c) => c.id)));
    if (want.code === 'UNKNOWN') assert.deepEqual(ex.causes, []);
    for (const id of want.not ?? []) assert.ok(!ex.causes.some((c) => c.id === id), `${id} should not be a cause`);
    if (want.fixIncludes) assert.match(ex.causes[0].fix.toLowerCase(), new RegExp(want.fixIncludes));
    for (const c of ex.causes) {
      assert.ok(FINDING_IDS.includes(c.id), `unknown cause id ${c.id}`);
      assert.ok(c.fix.length > 20);
    }
  });
}

test('E403: PUT is a publish problem, GET is an install/network/config problem (BRIEF doctor scenario 9)', () => {
  const put = explainText('npm ERR! code E403\nnpm ERR! 403 403 Forbidden - PUT https://registry.example.com/x - Forbidden\n').explanation;
  const get = explainText('npm ERR! code E403\nnpm ERR! 403 403 Forbidden - GET https://registry.example.com/x - Forbidden\n').explanation;
  const publishIds = ['not-maintainer', 'read-only-token', 'otp-required', 'publish-forbidden'];
  assert.ok(publishIds.includes(put.causes[0].id));
  assert.ok(put.causes.every((c) => publishIds.includes(c.id)));
  assert.ok(!get.causes.some((c) => publishIds.includes(c.id)));
  assert.ok(get.causes.some((c) => c.id === 'proxy-misconfigured'));
  assert.ok(get.causes.some((c) => c.id === 'scope-not-mapped'));
});

test('both prefix generations and debug-log numbering give the same extraction', () => {
  const a = extract('npm ERR! code E404\nnpm ERR! 404 Not Found - GET https://r.example.com/x - Not found\n');
  const b = extract('npm error code E404\nnpm error 404 Not Found - GET https://r.example.com/x - Not found\n');
  const c = extract('22 error code E404\n23 error 404 Not Found - GET https://r.example.com/x - Not found\n');
  for (const x of [b, c]) {
    assert.equal(x.code, a.code);
    assert.equal(x.url, a.url);
    assert.equal(x.registryError, 'Not found');
  }
});

test('CI timestamps and colours are stripped', () => {
  const x = extract('2026-11-22T10:00:00.1234567Z \x1b[31mnpm error\x1b[0m code EOTP\n');
  assert.equal(x.code, 'EOTP');
});
