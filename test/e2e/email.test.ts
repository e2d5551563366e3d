// Registry scenario 7: with verification required, an unverified address cannot publish; the link
// in the outbox (no SMTP configured) is followed over HTTP and then publishing works.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { defaults } from '../../src/config/config.ts';

describe('verified e-mail with npm 11', () => {
  let s: TestServer;
  let npm: NpmEnv;
  const outbox = () => {
    try {
      return readdirSync(join(s.dataDir, 'outbox')).sort();
    } catch {
      return [];
    }
  };
  const linkIn = (file: string) =>
    /(http:\/\/\S+\/-\/tessera\/v1\/email\/verify\/\S+)/.exec(
      readFileSync(join(s.dataDir, 'outbox', file), 'utf8'),
    )![1];
  /** The message sent to an address (file names only order by time, and the test clock stands still). */
  const messageTo = (email: string) =>
    outbox()
      .filter((f) => readFileSync(join(s.dataDir, 'outbox', f), 'utf8').includes(`To: ${email}\n`))
      .sort((a, b) => statSync(join(s.dataDir, 'outbox', a)).mtimeMs - statSync(join(s.dataDir, 'outbox', b)).mtimeMs)
      .at(-1)!; // the newest: each new link replaces the previous one

  before(async () => {
    s = await startServer({ signup: 'open', email: { ...defaults.email, requireVerified: true } });
    s.ctx.config.publicUrl = s.url; // links go to publicUrl only, known once the port is
    npm = makeNpm(s.url);
  });
  after(async () => {
    await s.close();
  });

  test('adduser writes a verification message to the outbox', async () => {
    const r = await npm.runTty(
      ['adduser', '--auth-type=legacy'],
      [
        [/Username:/, 'vera'],
        [/Password:/, 'vera-password'],
        [/Email/, 'vera@example.com'],
      ],
    );
    assert.equal(r.code, 0, r.output);
    const files = outbox();
    assert.equal(files.length, 1);
    const text = readFileSync(join(s.dataDir, 'outbox', files[0]), 'utf8');
    assert.match(text, /^To: vera@example\.com$/m);
    assert.match(text, /Subject: Verify your e-mail address/);
  });

  test('scenario 7: publishing with an unverified address is refused, saying so', async () => {
    const r = await npm.run(['publish'], { cwd: makePackage('vera-pkg', '1.0.0') });
    assert.equal(r.code, 1);
    assert.match(
      r.output,
      /403 Forbidden - PUT .*vera-pkg - Verify your e-mail address \(vera@example\.com\) before publishing/,
    );
    const profile = await npm.run(['profile', 'get', 'email']);
    assert.match(profile.stdout, /vera@example\.com\s*\(unverified\)/);
    // Setting the same unverified address again sends a new link (the refusal's advice).
    await new Promise((r) => setTimeout(r, 20)); // distinct file times for "newest"
    const again = await npm.run(['profile', 'set', 'email', 'vera@example.com']);
    assert.equal(again.code, 0, again.output);
    assert.equal(outbox().length, 2);
  });

  test('following the link verifies the address; publishing then works', async () => {
    const res = await fetch(linkIn(messageTo('vera@example.com')));
    assert.equal(res.status, 200);
    assert.match(await res.text(), /E-mail verified/);
    const again = await fetch(linkIn(messageTo('vera@example.com')));
    assert.equal(again.status, 400, 'a link works once');
    await new Promise((r) => setTimeout(r, 300));
    const r = await npm.run(['publish'], { cwd: makePackage('vera-pkg', '1.0.0') });
    assert.equal(r.code, 0, r.output);
  });

  test('npm profile set email resets the flag and sends a new link', async () => {
    let r = await npm.run(['profile', 'set', 'email', 'vera@elsewhere.example.com']);
    assert.equal(r.code, 0, r.output);
    assert.equal(outbox().length, 3);
    await new Promise((res) => setTimeout(res, 300));
    r = await npm.run(['publish'], { cwd: makePackage('vera-pkg', '1.1.0') });
    assert.match(r.output, /Verify your e-mail address \(vera@elsewhere\.example\.com\)/);
    const link = linkIn(messageTo('vera@elsewhere.example.com'));
    assert.equal((await fetch(link)).status, 200);
    await new Promise((res) => setTimeout(res, 300));
    r = await npm.run(['publish'], { cwd: makePackage('vera-pkg', '1.1.0') });
    assert.equal(r.code, 0, r.output);
  });
});
