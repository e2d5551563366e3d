// `tessera doctor` reads pnpm 11's auth.ini as pnpm does: the token `pnpm login` wrote there is the one the
// registry table names (with its file and line, never its value) and the probes try; it outranks ~/.npmrc
// and is outranked by the project's .npmrc; ${VAR} is expanded; an unscoped token is pinned to the file's
// registry; it is linted like an .npmrc line; npm projects and pnpm 10 do not read it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makePnpm, writeNpmrc } from '../helpers/clients.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { runDoctor } from '../../src/doctor/doctor.ts';

const BIN = join(resolve(import.meta.dirname, '../..'), 'bin/tessera.js');
type Report = {
  findings: { id: string; severity: string; message: string; source?: { file: string; line: number } }[];
  registries: { url: string; credential: { kind: string; source?: { file: string; line: number } } }[];
};

function doctor(cwd: string, env: Record<string, string>): Promise<{ json: Report; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, 'doctor', '--json'], { cwd, env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', fail);
    child.on('close', () => {
      try {
        done({ json: JSON.parse(out) as Report, out });
      } catch {
        fail(new Error(`doctor printed no JSON:\n${out}`));
      }
    });
    child.stdin.end();
  });
}

function pnpmProject(registry: string, pm = 'pnpm@11.28.10'): string {
  const dir = mkdtempSync(join(tmpdir(), 'doctor-pnpm-auth-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', packageManager: pm }));
  writeNpmrc(dir, registry);
  return dir;
}

describe("doctor: pnpm 11's auth.ini", { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
    await s.addUser('alice');
  });
  after(async () => {
    await s?.close();
  });

  test('the token `pnpm login` wrote is the one the table names and the probes try', async () => {
    const pnpm = makePnpm();
    const cwd = pnpmProject(s.url);
    let page: Promise<Response> | undefined;
    let printed = '';
    const r = await pnpm.run(['login'], {
      cwd,
      onStdout: (chunk: string) => {
        printed += chunk;
        const url = /(http:\/\/\S+\/-\/v1\/login\/cli\/[\w-]{32})/.exec(printed)?.[1];
        if (!url || page) return;
        page = fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ name: 'alice', password: 'alice-password' }).toString(),
        });
      },
    });
    assert.equal(r.code, 0, r.output);
    assert.equal((await page!).status, 200);
    const ini = join(pnpm.home, '.config', 'pnpm', 'auth.ini');
    const token = /_authToken=(tsr_\w+)/.exec(readFileSync(ini, 'utf8'))?.[1];
    assert.ok(token);

    const env = { HOME: pnpm.home, XDG_CONFIG_HOME: join(pnpm.home, '.config'), PATH: process.env.PATH ?? '' };
    const ok = await doctor(cwd, env);
    assert.doesNotMatch(ok.out, new RegExp(token), 'the token is never printed');
    const row = ok.json.registries.find((x) => x.url === s.url);
    assert.equal(row?.credential.kind, 'token', ok.out);
    assert.equal(row?.credential.source?.file, ini);
    assert.equal(row?.credential.source?.line, 1);
    const errors = ok.json.findings.filter((f) => f.severity === 'error');
    assert.deepEqual(errors, [], ok.out);

    // Logged out (the registry revokes the token), then the old line put back: the probe names the auth.ini
    // line as the credential refused.
    const revoke = await pnpm.run(['logout'], { cwd });
    assert.equal(revoke.code, 0, revoke.output);
    writeFileSync(ini, `; pnpm login\n//${s.host}/:_authToken=${token}\n`);
    const bad = await doctor(cwd, env);
    const rejected = bad.json.findings.find((f) => f.id === 'token-rejected');
    assert.ok(rejected, bad.out);
    assert.deepEqual(rejected.source, { file: ini, line: 2 });
    assert.doesNotMatch(bad.out, new RegExp(token));
  });

  test('read as pnpm reads it: precedence, ${VAR}, pinning, lint; not for npm or pnpm 10', async () => {
    const root = mkdtempSync(join(tmpdir(), 'doctor-pnpm-auth-offline-'));
    const home = join(root, 'home');
    const xdg = join(root, 'xdg');
    mkdirSync(join(xdg, 'pnpm'), { recursive: true });
    mkdirSync(home);
    const ini = join(xdg, 'pnpm', 'auth.ini');
    const run = async (cwd: string, extra: Record<string, string> = {}) => {
      const r = await runDoctor({
        cwd,
        env: { HOME: home, XDG_CONFIG_HOME: xdg, PATH: '', PREFIX: join(root, 'prefix'), ...extra },
        offline: true,
        publish: false,
        packages: [],
        npmPath: join(root, 'npm'),
      });
      const row = r.report.registries.find((x) => x.url === s.url);
      return { row, findings: r.report.findings, dump: JSON.stringify(r.report, null, 1) };
    };
    const cwd = pnpmProject(s.url);
    const good = 'tsr_' + 'a'.repeat(36);

    // Above ~/.npmrc, with ${VAR} expanded.
    writeFileSync(join(home, '.npmrc'), `//${s.host}/:_authToken=\${HOME_TOKEN}\n`);
    writeFileSync(ini, `\n//${s.host}/:_authToken=\${PNPM_TOKEN}\n`);
    let r = await run(cwd, { PNPM_TOKEN: good, HOME_TOKEN: good });
    assert.deepEqual(r.row?.credential, { kind: 'token', source: { file: ini, line: 2 } }, r.dump);
    const overridden = r.findings.find((f) => f.id === 'credential-overridden');
    assert.match(overridden?.message ?? '', /pnpm sends the one from .*auth\.ini:2 \(pnpm-auth beats user\)/, r.dump);

    // Below the project's .npmrc.
    writeFileSync(join(cwd, '.npmrc'), `registry=${s.url}\n//${s.host}/:_authToken=\${PROJECT_TOKEN}\n`);
    r = await run(cwd, { PNPM_TOKEN: good, PROJECT_TOKEN: good });
    assert.equal(r.row?.credential.source?.file, join(cwd, '.npmrc'), r.dump);
    writeNpmrc(cwd, s.url);

    // An unscoped token is pinned to the file's registry; a placeholder is linted at its line.
    writeFileSync(ini, `registry=${s.url}\n_authToken=<YOUR_TOKEN>\n`);
    r = await run(cwd);
    assert.deepEqual(r.row?.credential, { kind: 'token', source: { file: ini, line: 2 } }, r.dump);
    const placeholder = r.findings.find((f) => f.id === 'placeholder-token');
    assert.deepEqual(placeholder?.source, { file: ini, line: 2 }, r.dump);
    assert.ok(!r.findings.some((f) => f.id === 'unscoped-credential'), r.dump);

    // npm does not read it, nor does pnpm 10.
    rmSync(join(home, '.npmrc'));
    writeFileSync(ini, `//${s.host}/:_authToken=${good}\n`);
    assert.equal((await run(cwd)).row?.credential.kind, 'token');
    writeFileSync(join(cwd, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0' }));
    assert.equal((await run(cwd)).row?.credential.kind, 'none', 'an npm project');
    writeFileSync(join(cwd, 'package.json'), JSON.stringify({ name: 'app', packageManager: 'pnpm@10.30.0' }));
    assert.equal((await run(cwd)).row?.credential.kind, 'none', 'pnpm 10');
  });
});
