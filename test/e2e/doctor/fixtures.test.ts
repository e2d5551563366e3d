// One fixture folder per offline finding, plus correct configurations, each through the real binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, pool, prepare, tessera } from './harness.ts';
import type { Prepared, RunResult } from './harness.ts';

const names = readdirSync(FIXTURES)
  .filter((n) => existsSync(join(FIXTURES, n, 'case.json')))
  .sort();
const results = new Map<string, { p: Prepared; r: RunResult; json: any }>();

test('every fixture runs through `tessera doctor --offline --json`', async () => {
  await pool(names, 3, async (name) => {
    const p = prepare(name);
    const r = await tessera(['doctor', '--offline', '--json', ...(p.case.args ?? [])], { cwd: p.cwd, env: p.env });
    let json: any;
    try {
      json = JSON.parse(r.stdout);
    } catch {
      assert.fail(`${name}: stdout is not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    }
    results.set(name, { p, r, json });
  });
  assert.equal(results.size, names.length);
});

for (const name of names) {
  test(`fixture ${name}`, () => {
    const got = results.get(name);
    assert.ok(got, 'fixture did not run');
    const { p, r, json } = got;
    const dump = `\n${JSON.stringify(json.findings, null, 1)}\n${r.stderr}`;
    for (const e of p.case.expect ?? []) {
      const matches = json.findings.filter(
        (f: any) =>
          f.id === e.id &&
          f.severity === e.severity &&
          (e.file === undefined || f.source?.file === join(p.root, e.file)) &&
          (e.line === undefined || f.source?.line === e.line),
      );
      assert.ok(matches.length > 0, `expected ${e.id}/${e.severity} at ${e.file}:${e.line}${dump}`);
      const f = matches[0];
      if (e.fix) assert.ok(f.fix.includes(e.fix), `fix should name "${e.fix}": ${f.fix}`);
      for (const m of e.message ?? []) {
        const inMsg = f.message.includes(m) || f.message.includes(m.replace(/^home\//, '~/'));
        assert.ok(inMsg, `message should mention "${m}": ${f.message}`);
      }
    }
    for (const id of p.case.absent ?? []) {
      assert.ok(!json.findings.some((f: any) => f.id === id), `no ${id} finding expected${dump}`);
    }
    const errors = json.findings.filter((f: any) => f.severity === 'error');
    assert.equal(r.code, errors.length ? 1 : 0, `exit status follows error findings${dump}`);
    if (p.case.noErrors) assert.deepEqual(errors, [], `a correct configuration has no error finding${dump}`);
    for (const reg of p.case.registries ?? []) {
      const got = json.registries.find((x: any) => x.url === reg.url);
      assert.ok(got, `registry ${reg.url} listed: ${JSON.stringify(json.registries)}`);
      assert.equal(got.credential.kind, reg.kind);
      assert.deepEqual(got.credential.source, { file: join(p.root, reg.file), line: reg.line });
    }
    // Secrets never appear in the output.
    for (const v of Object.values<string>(p.case.env ?? {})) {
      if (/^(tsr_|npm_|ghp_)/.test(v) && v.length > 12)
        assert.ok(!r.stdout.includes(v.trim()), 'secret leaked into output');
    }
  });
}
