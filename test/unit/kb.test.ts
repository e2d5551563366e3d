// Every reason in the refusal catalogue has a KB article (served at /-/help/<id>) in the agreed shape,
// consistent with the catalogue entry, and a row in docs/refusals.md. Reads the real files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { join } from 'node:path';
import { reasons, type Params, type Reason } from '../../src/domain/reasons.ts';

const ROOT = join(import.meta.dirname, '../..');
const KB = join(ROOT, 'kb');
const IDS = Object.keys(reasons) as (keyof typeof reasons)[];
const SECTIONS = ['What you see', 'Why it happens', 'How to fix it', 'Related'];
/** Plain 404s: their text is a bare "Not found", without the help link (never reveal existence). */
const BARE = new Set(['not-found', 'route-not-found']);

function article(id: string): string {
  const file = join(KB, `${id}.md`);
  assert.ok(existsSync(file), `kb/${id}.md is missing`);
  return readFileSync(file, 'utf8');
}

/** The body of the "## <name>" section, up to the next "## " heading. */
function section(text: string, name: string): string {
  const start = text.indexOf(`\n## ${name}\n`);
  if (start < 0) return '';
  const rest = text.slice(start + name.length + 5);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** The longest fixed part of a reason's error text, whatever its parameters are. */
function fixedText(r: Reason): string {
  const MARK = '\u0000';
  const params = new Proxy({}, { get: () => MARK, has: () => true }) as Params;
  return (
    r
      .error(params)
      .split(MARK)
      .map((s) => s.trim())
      .sort((a, b) => b.length - a.length)[0] ?? ''
  );
}

test('the catalogue is not empty', () => {
  assert.ok(IDS.length > 0, 'the catalogue has no reasons');
});

for (const id of IDS) {
  const r: Reason = reasons[id];
  test(`kb/${id}.md`, () => {
    const text = article(id);
    assert.match(text, /^# \S.*\n/, 'starts with "# Title"');
    assert.ok(text.includes(`Reason id: \`${id}\``), 'has the "Reason id: `<id>`" line');
    const idLine = text.split('\n').find((l) => l.startsWith('Reason id: ')) ?? '';
    assert.ok(idLine.includes(`HTTP ${r.status}`), `the Reason id line says HTTP ${r.status}: ${idLine}`);

    const headings = [...text.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    let last = -1;
    for (const s of SECTIONS) {
      const at = headings.indexOf(s);
      assert.ok(at >= 0, `section "## ${s}"`);
      assert.ok(at > last, `section "## ${s}" is in order`);
      assert.ok(section(text, s).trim().length > 0, `section "## ${s}" is not empty`);
      last = at;
    }

    const seen = section(text, 'What you see');
    if (r.status >= 400 && r.status !== 401) {
      assert.ok(
        seen.includes(`${r.status} ${STATUS_CODES[r.status]}`),
        `shows "${r.status} ${STATUS_CODES[r.status]}"`,
      );
    }
    if (r.status === 401) {
      const challenge = r.wwwAuthenticate ?? '';
      assert.ok(seen.includes(challenge) || text.includes(challenge), `names the challenge ${challenge}`);
      if (/\bBearer\b/.test(challenge))
        assert.ok(
          seen.includes('Unable to authenticate, your authentication token seems to be invalid.'),
          "npm's Bearer text",
        );
      else if (/\bBasic\b/.test(challenge))
        assert.ok(seen.includes('Incorrect or missing password.'), "npm's Basic text");
      else if (challenge === 'ipaddress') assert.ok(seen.includes('EAUTHIP'), "npm's EAUTHIP");
      else if (challenge.toLowerCase() === 'otp') assert.ok(seen.includes('EOTP'), "npm's EOTP");
    }
    if (r.notice) assert.ok(seen.includes(`npm notice ${r.notice}`), 'shows the npm notice line');
    if (r.status >= 400 && !BARE.has(id)) {
      assert.ok(seen.includes(`/-/help/${id}`), 'shows the help link the registry appends');
    }
    const fixed = fixedText(r);
    if (fixed.length >= 8 && !BARE.has(id)) assert.ok(seen.includes(fixed), `shows the error text "${fixed}"`);

    const related = section(text, 'Related');
    const links = [...related.matchAll(/\]\(([a-z0-9-]+)\)/g)].map((m) => m[1]);
    assert.ok(links.length > 0, 'Related links at least one article');
    for (const slug of links)
      assert.ok(existsSync(join(KB, `${slug}.md`)), `Related links kb/${slug}.md, which exists`);
  });
}

test('docs/refusals.md lists every reason', () => {
  const file = join(ROOT, 'docs/refusals.md');
  assert.ok(existsSync(file), 'docs/refusals.md is missing');
  const doc = readFileSync(file, 'utf8');
  for (const id of IDS) {
    assert.ok(doc.includes(`\`${id}\``), `mentions \`${id}\``);
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${id}\` |`));
    assert.ok(row, `has a table row for ${id}`);
    const cells = row.split('|').map((c) => c.trim());
    assert.equal(cells[2], String(reasons[id].status), `${id}: status column`);
    assert.ok(row.includes(`/-/help/${id}`), `${id}: help link`);
  }
  assert.ok(doc.includes('x-tessera-reason'), 'explains the x-tessera-reason header');
  assert.match(doc, /never reveal existence/i, 'explains the never-reveal-existence rule');
});
