// The package `npm pack` makes, installed with `npm install -g` into a clean prefix (offline: it carries its
// dependencies) on Node 24 and Node 22, run from another folder: serve, publish and install with the real npm,
// doctor, explain; no devDependency shipped; an older Node gets a clear message.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, makeNpm, makePackage, makeProject } from '../helpers/npm.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NPM_CLI = join(ROOT, 'node_modules', 'npm11', 'bin', 'npm-cli.js');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
/** Node 22 from the registry's `node` package (devDependency tessera-test-node22, see test/node22). */
const NODE22 = join(ROOT, 'test', 'node22', 'node_modules', 'node', 'bin', 'node');
const NODES: [string, string][] = [
  ['24', process.execPath],
  ['22', NODE22],
];

type Run = { code: number; stdout: string; stderr: string };

function run(
  command: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string>; input?: string },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.on('error', () => {}); // a command that exits without reading its input (node --version)
    child.stdin.end(opts.input ?? '');
  });
}

/** A PATH with only the chosen Node's folder and the system's, never this repository's node_modules/.bin. */
function pathWith(node: string, prefix: string): string {
  const system = (process.env.PATH ?? '').split(delimiter).filter((p) => !p.includes('node_modules'));
  return [join(prefix, 'bin'), dirname(node), ...system].join(delimiter);
}

function startServe(bin: string, args: string[], opts: { cwd: string; env: Record<string, string> }) {
  return new Promise<{ url: string; child: ChildProcess }>((resolve, reject) => {
    const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', ...args], {
      ...opts,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`tessera serve did not start:\n${out}`));
    }, 20_000);
    const onData = (c: Buffer) => {
      out += c;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => {
      out += c;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`tessera serve exited with ${code}:\n${out}`));
    });
  });
}

describe('the installable package', { skip: onceInSqlitePass }, () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-pack-'));
  let tarball: string;

  before(async () => {
    // npm pack runs prepack (the build into dist/) with the pinned Node 24, as a release would.
    const env = cleanEnv({ HOME: root, npm_config_cache: join(root, 'cache'), npm_config_update_notifier: 'false' });
    const r = await run(process.execPath, [NPM_CLI, 'pack', '--json', '--pack-destination', root], { cwd: ROOT, env });
    assert.equal(r.code, 0, r.stderr);
    const [info] = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = join(root, info.filename);
    const paths = info.files.map((f) => f.path);
    assert.ok(
      paths.includes('dist/cli/main.js') && paths.includes('bin/tessera.js') && paths.includes('kb/not-found.md'),
    );
    assert.ok(!paths.some((p) => p.startsWith('src/') || p.startsWith('test/')), 'no sources or tests ship');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  // One install serves both Nodes: the package has no install script and no native code, so what npm lays
  // down does not depend on the Node it runs on. npm runs on the oldest Node here.
  const prefix = join(root, 'prefix');
  const installer = NODES.map(([, node]) => node)
    .filter((node) => existsSync(node))
    .at(-1)!;

  test('npm install -g from the tarball into a clean prefix, offline, with its dependencies and no dev one', async () => {
    const home = join(root, 'home-install');
    mkdirSync(home, { recursive: true });
    const env = cleanEnv({ HOME: home, PATH: pathWith(installer, prefix), npm_config_update_notifier: 'false' });
    const r = await run(
      installer,
      [
        NPM_CLI,
        'install',
        '-g',
        '--prefix',
        prefix,
        '--offline',
        '--no-audit',
        '--no-fund',
        '--registry',
        'http://127.0.0.1:9/',
        '--cache',
        join(home, 'cache'),
        tarball,
      ],
      { cwd: home, env },
    );
    assert.equal(r.code, 0, r.stderr);
    const installed = join(prefix, 'lib', 'node_modules', 'tessera');
    for (const dep of Object.keys(PKG.dependencies)) assert.ok(existsSync(join(installed, 'node_modules', dep)), dep);
    for (const dev of Object.keys(PKG.devDependencies))
      assert.ok(!existsSync(join(installed, 'node_modules', dev)), dev);
    assert.ok(!existsSync(join(installed, 'src')));
    const scripts = (JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { scripts: object }).scripts;
    assert.deepEqual(
      Object.keys(scripts).filter((k) => /install$/.test(k)),
      [],
      'no install script',
    );
  });

  for (const [major, node] of NODES) {
    describe(`on Node ${major}`, {
      skip: existsSync(node) ? false : `no Node ${major} at ${node} (npm install)`,
    }, () => {
      const elsewhere = join(root, `elsewhere-${major}`);
      const home = join(root, `home-${major}`);
      const env = () =>
        cleanEnv({ HOME: home, PATH: pathWith(node, prefix), NO_COLOR: '1', npm_config_update_notifier: 'false' });
      const bin = join(prefix, 'bin', 'tessera');
      let server: { url: string; child: ChildProcess } | undefined;

      before(async () => {
        for (const d of [elsewhere, home]) mkdirSync(d, { recursive: true });
        // `tessera` starts with `#!/usr/bin/env node`: the Node first on the PATH is the one under test.
        const version = await run('node', ['--version'], { cwd: elsewhere, env: env() });
        assert.match(version.stdout, new RegExp(`^v${major}\\.`));
      });
      after(() => {
        server?.child.kill();
      });

      test('tessera serve from another folder; the real npm publishes to it and installs from it', async () => {
        const data = join(elsewhere, 'data');
        const add = await run(bin, ['user', 'add', 'pia', '--email', 'pia@example.com', '--data', data], {
          cwd: elsewhere,
          env: env(),
        });
        assert.equal(add.code, 0, add.stderr);
        assert.equal(add.stderr, '', 'no warning on any Node (node:sqlite is experimental on Node 22)');
        const token = (
          await run(bin, ['token', 'create', '--user', 'pia', '--data', data], { cwd: elsewhere, env: env() })
        ).stdout.trim();
        assert.match(token, /^tsr_/);
        server = await startServe(bin, ['--data', data], { cwd: elsewhere, env: env() });
        const ping = await fetch(`${server.url}-/ping`);
        assert.equal(ping.headers.get('x-tessera-version'), PKG.version, 'package.json is found from dist/');
        const help = await fetch(`${server.url}-/help/token-invalid`);
        assert.equal(help.status, 200, 'kb/ is found from dist/');
        assert.match(await help.text(), /Reason id: `token-invalid`/);

        const npm = makeNpm(server.url);
        npm.setToken(new URL(server.url).host, token);
        const pub = await npm.run(['publish'], { cwd: makePackage(`packed-on-${major}`, '1.0.0') });
        assert.equal(pub.code, 0, pub.output);
        const project = makeProject({ [`packed-on-${major}`]: '^1.0.0' });
        const install = await npm.run(['install'], { cwd: project });
        assert.equal(install.code, 0, install.output);
        assert.ok(existsSync(join(project, 'node_modules', `packed-on-${major}`, 'index.js')));
      });

      test('tessera doctor and tessera explain work from any folder', async () => {
        const doctor = await run(bin, ['doctor', '--offline', '--json'], { cwd: elsewhere, env: env() });
        assert.ok(doctor.code === 0 || doctor.code === 1, doctor.stderr);
        assert.ok(Array.isArray((JSON.parse(doctor.stdout) as { findings: unknown[] }).findings));
        const pasted =
          'npm error code E401\nnpm error 401 Unauthorized - GET http://127.0.0.1:4873/x - token expired\n';
        const explain = await run(bin, ['explain', '--no-config'], { cwd: elsewhere, env: env(), input: pasted });
        assert.equal(explain.code, 1, explain.stderr);
        assert.match(explain.stdout, /^error E401/);
      });
    });
  }

  test('an older Node than engines asks for gets a clear message, not a stack trace', async () => {
    // The launcher reads engines from the package.json beside it: one that asks for a Node from the future.
    const fake = join(root, 'future');
    mkdirSync(join(fake, 'bin'), { recursive: true });
    copyFileSync(join(ROOT, 'bin', 'tessera.js'), join(fake, 'bin', 'tessera.js'));
    writeFileSync(join(fake, 'package.json'), JSON.stringify({ type: 'module', engines: { node: '>=99.1' } }));
    const r = await run(process.execPath, [join(fake, 'bin', 'tessera.js'), 'serve'], { cwd: fake, env: cleanEnv() });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`this is Node\\.js ${process.version} .*; Tessera needs Node\\.js >=99\\.1`));
    assert.match(r.stderr, /Install Node\.js 22 or 24/);
    assert.equal(r.stdout, '');
  });

  test("the machine's own Node, when older than engines, gets the same message", async (t) => {
    const system = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p));
    const version = system ? (await run(system, ['--version'], { cwd: root, env: cleanEnv() })).stdout.trim() : '';
    const [maj, min] = version.slice(1).split('.').map(Number);
    const [wantMaj, wantMin] = /(\d+)\.(\d+)/.exec(PKG.engines.node)!.slice(1).map(Number);
    if (!system || maj > wantMaj || (maj === wantMaj && min >= wantMin)) {
      t.skip(`no Node older than ${PKG.engines.node} on this machine`);
      return;
    }
    const r = await run(system, [join(ROOT, 'bin', 'tessera.js'), '--help'], { cwd: root, env: cleanEnv() });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`this is Node\\.js ${version.replace(/\./g, '\\.')} .*Tessera needs Node\\.js`));
  });
});
