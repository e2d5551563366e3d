// The line reader must agree with ini 6 on every value, or provenance would point at the wrong line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { detectEncoding, parseIniLines } from '../../../src/doctor/ini-lines.ts';

const ini = createRequire(import.meta.url)('ini') as { parse(s: string): Record<string, unknown> };

const SAMPLE = [
  '; comment',
  '# another',
  '',
  'registry = https://r.example.com/ ',
  '//r.example.com/:_authToken=abc#def;ghi',
  'quoted="a#b"',
  "single='x;y'",
  'esc=a\\#b',
  'bare',
  'ca[]=one',
  'ca[]=two',
  'dup=1',
  'dup=2',
  'pad=cGFzcw==',
  'flag=true',
  'n=null',
  '\r',
  'crlf=1\r',
  '[section]',
  'inner=1',
].join('\n');

test('values match ini.parse exactly', () => {
  const parsed = parseIniLines(SAMPLE);
  const expected = ini.parse(SAMPLE);
  const mine: Record<string, unknown> = {};
  for (const e of parsed.entries) {
    if (e.section) continue;
    if (e.isArray) ((mine[e.key] as unknown[]) ??= []).push(e.value);
    else mine[e.key] = e.value;
  }
  const { section, ...top } = expected;
  assert.deepEqual(mine, top);
  assert.deepEqual({ ...(section as object) }, { inner: '1' });
});

test('line numbers, truncation and sections', () => {
  const p = parseIniLines(SAMPLE);
  const at = (k: string) => p.entries.filter((e) => e.key === k).map((e) => e.line);
  assert.deepEqual(at('registry'), [4]);
  assert.deepEqual(at('dup'), [12, 13]);
  assert.deepEqual(at('crlf'), [18]);
  assert.equal(p.entries.find((e) => e.key === '//r.example.com/:_authToken')?.truncated, true);
  assert.equal(p.entries.find((e) => e.key === 'quoted')?.truncated, false);
  assert.equal(p.entries.find((e) => e.key === 'esc')?.truncated, false);
  assert.deepEqual(p.sections, [{ name: 'section', line: 19 }]);
});

test('encodings', () => {
  assert.equal(detectEncoding(Buffer.from('registry=x\n')), 'utf8');
  assert.equal(detectEncoding(Buffer.from('\ufeffregistry=x\n')), 'utf8');
  assert.equal(detectEncoding(Buffer.from('\ufeffregistry=x\n', 'utf16le')), 'utf16le');
  assert.equal(detectEncoding(Buffer.from('registry=x\n', 'utf16le')), 'utf16le');
});
