// `tessera doctor --publish` must name the registry the real `npm publish` (npm 11) picks, in the same setup:
// a scope mapping beats publishConfig.registry and --registry, publishConfig may map the scope itself, the
// `scope` setting maps an unscoped name, and inside a workspace npm publishes that workspace's package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runDoctor } from '../../src/doctor/doctor.ts';
import { scratchEnv } from '../helpers/npm.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NPM = join(ROOT, 'node_modules/npm11/bin/npm-cli.js');
// Port 9 refuses at once: npm prints where it publishes (dry run) without a registry behind it.
const R = (path: string) => `http://127.0.0.1:9/${path}/`;

interface Setup {
  /** Files under the scratch root: project/…, home/.npmrc. */
  files: Record<string, string | object>;
  cwd?: string;
  npmArgs?: string[];
  registry?: string;
}

function scratch(s: Setup) {
  const root = mkdtempSync(join(tmpdir(), 'doctor-sweep-publish-'));
  for (const [file, body] of Object.entries(s.files)) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), typeof body === 'string' ? body : JSON.stringify(body));
  }
  const env = scratchEnv(root);
  return { root, cwd: join(root, s.cwd ?? 'project'), env };
}

function npmPublishTarget(cwd: string, env: Record<string, string>, args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [NPM, 'publish', '--dry-run', ...args], { cwd, env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', fail);
    child.on('close', () => {
      const m = /Publishing to (\S+) with tag/.exec(out);
      if (m) done(m[1]);
      else fail(new Error(`npm publish --dry-run printed no target:\n${out}`));
    });
    child.stdin.end();
  });
}

async function compare(s: Setup): Promise<{ npm: string; doctor?: string; name?: string }> {
  const { root, cwd, env } = scratch(s);
  const npm = await npmPublishTarget(cwd, env, [
    ...(s.npmArgs ?? []),
    ...(s.registry ? [`--registry=${s.registry}`] : []),
  ]);
  const { ctx } = await runDoctor({
    cwd,
    env,
    offline: true,
    publish: true,
    packages: [],
    registry: s.registry,
    npmArgs: s.npmArgs,
    npmPath: join(root, 'npm'),
  });
  assert.ok(
    ctx.targets.some((t) => t.url === ctx.publishRegistry && t.roles.has('publish')),
    'the publish registry is probed',
  );
  return { npm, doctor: ctx.publishRegistry, name: ctx.publishName };
}

const mapped = `@corp:registry=${R('corp')}\n//127.0.0.1:9/corp/:_authToken=\${CORP_TOKEN}\n`;
const pkg = (name: string, extra: object = {}) => ({ name, version: '1.0.0', ...extra });

test('a scope mapping wins over publishConfig.registry and --registry, as in npm publish', {
  skip: onceInSqlitePass,
}, async () => {
  const files = {
    'project/.npmrc': mapped,
    'project/package.json': pkg('@corp/lib', { publishConfig: { registry: R('elsewhere') } }),
  };
  const plain = await compare({ files });
  assert.equal(plain.npm, R('corp'));
  assert.equal(plain.doctor, plain.npm);
  const flag = await compare({ files, registry: R('flag') });
  assert.equal(flag.npm, R('corp'));
  assert.equal(flag.doctor, flag.npm);
});

test('publishConfig can map the scope itself; an unscoped name follows publishConfig.registry', {
  skip: onceInSqlitePass,
}, async () => {
  const scoped = await compare({
    files: {
      'project/.npmrc': mapped,
      'project/package.json': pkg('@corp/lib', { publishConfig: { '@corp:registry': R('corp-releases') } }),
    },
  });
  assert.equal(scoped.npm, R('corp-releases'));
  assert.equal(scoped.doctor, scoped.npm);
  const unscoped = await compare({
    files: { 'project/.npmrc': mapped, 'project/package.json': pkg('lib', { publishConfig: { registry: R('pc') } }) },
  });
  assert.equal(unscoped.npm, R('pc'));
  assert.equal(unscoped.doctor, unscoped.npm);
});

test('the `scope` setting sends an unscoped package to that scope’s registry', { skip: onceInSqlitePass }, async () => {
  const r = await compare({
    files: { 'project/.npmrc': mapped, 'project/package.json': pkg('lib') },
    npmArgs: ['--scope=corp'],
  });
  assert.equal(r.npm, R('corp'));
  assert.equal(r.doctor, r.npm);
});

test('inside a workspace, npm publishes the workspace package (to its scope’s registry), not the root', {
  skip: onceInSqlitePass,
}, async () => {
  const files = {
    'project/.npmrc': mapped,
    'project/package.json': pkg('monorepo', { private: true, workspaces: ['packages/*'] }),
    'project/packages/ui/package.json': pkg('@corp/ui'),
  };
  const r = await compare({ files, cwd: 'project/packages/ui' });
  assert.equal(r.npm, R('corp'));
  assert.equal(r.doctor, r.npm);
  assert.equal(r.name, '@corp/ui');
  // From the root, `-w <name>` picks the same package.
  const named = await compare({ files, npmArgs: ['-w', '@corp/ui'] });
  assert.equal(named.npm, R('corp'));
  assert.equal(named.doctor, named.npm);
  assert.equal(named.name, '@corp/ui');
});
