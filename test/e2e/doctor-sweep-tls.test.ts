// A registry behind mutual TLS (`//host/:certfile=` + `keyfile=`, with or without a token beside them), the
// private CA in `cafile`: npm presents the client certificate, and the doctor's probes must present it too,
// or they report a TLS or network failure npm never meets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { spawn } from 'node:child_process';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeCerts } from '../unit/doctor/certs.ts';
import type { Certs } from '../unit/doctor/certs.ts';
import { scratchEnv } from '../helpers/npm.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NPM = join(ROOT, 'node_modules/npm11/bin/npm-cli.js');
const BIN = join(ROOT, 'bin/tessera.js');

let certs: Certs;
let server: https.Server;
let host: string;
let plain: https.Server;
let plainHost: string;

before(async () => {
  certs = makeCerts();
  server = https.createServer(
    { key: certs.chained.key, cert: certs.chained.cert, ca: [certs.chained.root], requestCert: true },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      res.setHeader('content-type', 'application/json');
      if (!socket.authorized) {
        res.statusCode = 401;
        return res.end('{"error":"client certificate required"}');
      }
      // Who the client is comes from its certificate; a Bearer token beside it is accepted as is.
      res.end(req.url === '/-/whoami' ? '{"username":"cert-user"}' : '{}');
    },
  );
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The same private CA, no client certificate asked.
  plain = https.createServer({ key: certs.chained.key, cert: certs.chained.cert }, (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(req.url === '/-/whoami' ? '{"username":"ca-user"}' : '{}');
  });
  await new Promise<void>((done) => plain.listen(0, '127.0.0.1', done));
  plainHost = `127.0.0.1:${(plain.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
  plain.close();
});

function run(cmd: string, args: string[], cwd: string, env: Record<string, string>) {
  return new Promise<{ code: number; out: string }>((done, fail) => {
    const child = spawn(process.execPath, [cmd, ...args], { cwd, env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, out }));
    child.stdin.end();
  });
}

function scratch() {
  const root = mkdtempSync(join(tmpdir(), 'doctor-sweep-tls-'));
  mkdirSync(join(root, 'project'));
  writeFileSync(join(root, 'project/package.json'), JSON.stringify({ name: 'app', version: '1.0.0' }));
  const env = scratchEnv(root);
  // The machine's own extra roots would add a cafile warning that has nothing to do with these cases.
  delete env.NODE_EXTRA_CA_CERTS;
  return { root, env, cwd: join(root, 'project') };
}

test('a project cafile replaces a user ca (npm flattens layer by layer): whoami works, no TLS finding', {
  skip: onceInSqlitePass,
}, async () => {
  const { root, env, cwd } = scratch();
  // An old inline certificate in ~/.npmrc that does not sign this registry's chain.
  writeFileSync(join(root, 'home/.npmrc'), `ca=${JSON.stringify(certs.selfSigned.cert)}\n`);
  writeFileSync(
    join(cwd, '.npmrc'),
    `registry=https://${plainHost}/\ncafile=${certs.rootFile}\n//${plainHost}/:_authToken=t0ken-value\n`,
  );
  const npm = await run(NPM, ['whoami'], cwd, env);
  assert.equal(npm.code, 0, npm.out);
  assert.match(npm.out, /ca-user/);
  const doctor = await run(BIN, ['doctor', '--json', '--timeout', '5000'], cwd, env);
  const json = JSON.parse(doctor.out);
  assert.ok(!json.findings.some((f: any) => /^tls-/.test(f.id)), JSON.stringify(json.findings, null, 1));
  // The other way round (a fresh cache: npm would answer whoami from it), the user's cafile is replaced by
  // the project's ca, and both fail the same way.
  const other = scratch();
  writeFileSync(join(other.root, 'home/.npmrc'), `cafile=${certs.rootFile}\n`);
  writeFileSync(
    join(other.cwd, '.npmrc'),
    `registry=https://${plainHost}/\nca=${JSON.stringify(certs.selfSigned.cert)}\n//${plainHost}/:_authToken=t0ken-value\n`,
  );
  const npmFails = await run(NPM, ['whoami'], other.cwd, other.env);
  assert.notEqual(npmFails.code, 0, npmFails.out);
  const fails = JSON.parse((await run(BIN, ['doctor', '--json', '--timeout', '5000'], other.cwd, other.env)).out);
  assert.ok(
    fails.findings.some((f: any) => f.id === 'tls-untrusted-chain'),
    JSON.stringify(fails.findings, null, 1),
  );
});

test('mutual TLS: npm whoami answers, and the doctor presents the same client certificate (no finding)', {
  skip: onceInSqlitePass,
}, async () => {
  for (const withToken of [false, true]) {
    // A fresh folder (and npm cache) each time: npm would answer the second whoami from its cache.
    const { root, env, cwd } = scratch();
    writeFileSync(join(root, 'client.pem'), certs.chained.cert);
    writeFileSync(join(root, 'client.key'), certs.chained.key);
    const lines = [
      `registry=https://${host}/`,
      `cafile=${certs.rootFile}`,
      `//${host}/:certfile=${join(root, 'client.pem')}`,
      `//${host}/:keyfile=${join(root, 'client.key')}`,
      ...(withToken ? [`//${host}/:_authToken=tok-beside-the-certificate`] : []),
    ];
    writeFileSync(join(cwd, '.npmrc'), `${lines.join('\n')}\n`);
    const npm = await run(NPM, ['whoami'], cwd, env);
    assert.equal(npm.code, 0, npm.out);
    assert.match(npm.out, /cert-user/);
    const doctor = await run(BIN, ['doctor', '--json', '--timeout', '5000'], cwd, env);
    const json = JSON.parse(doctor.out);
    assert.deepEqual(json.findings, [], `token ${withToken}: ${JSON.stringify(json.findings, null, 1)}`);
    assert.equal(doctor.code, 0);
  }
});
