// A registry behind mutual TLS (`//host/:certfile=` + `keyfile=`, with or without a token beside them), the
// private CA in `cafile`: npm presents the client certificate, and the doctor's probes must present it too,
// or they report a TLS or network failure npm never meets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeCerts } from '../unit/doctor/certs.ts';
import type { Certs } from '../unit/doctor/certs.ts';
import { cleanEnv } from '../helpers/npm.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NPM = join(ROOT, 'node_modules/npm11/bin/npm-cli.js');
const BIN = join(ROOT, 'bin/tessera.js');

let certs: Certs;
let server: https.Server;
let host: string;

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
});
after(() => server.close());

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

test('mutual TLS: npm whoami answers, and the doctor presents the same client certificate (no finding)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'doctor-sweep-tls-'));
  for (const d of ['home', 'project']) mkdirSync(join(root, d));
  writeFileSync(join(root, 'client.pem'), certs.chained.cert);
  writeFileSync(join(root, 'client.key'), certs.chained.key);
  writeFileSync(join(root, 'global-npmrc'), '');
  writeFileSync(join(root, 'project/package.json'), JSON.stringify({ name: 'app', version: '1.0.0' }));
  const env = cleanEnv({
    HOME: join(root, 'home'),
    PREFIX: join(root, 'prefix'),
    npm_config_globalconfig: join(root, 'global-npmrc'),
    npm_config_cache: join(root, 'cache'),
    npm_config_fetch_retries: '0',
    npm_config_update_notifier: 'false',
    NO_COLOR: '1',
  });
  // The machine's own extra roots would add a cafile warning that has nothing to do with this case.
  delete env.NODE_EXTRA_CA_CERTS;
  const cwd = join(root, 'project');
  const base = [
    `registry=https://${host}/`,
    `cafile=${certs.rootFile}`,
    `//${host}/:certfile=${join(root, 'client.pem')}`,
    `//${host}/:keyfile=${join(root, 'client.key')}`,
  ];
  for (const lines of [base, [...base, `//${host}/:_authToken=tok-beside-the-certificate`]]) {
    writeFileSync(join(cwd, '.npmrc'), `${lines.join('\n')}\n`);
    const npm = await run(NPM, ['whoami'], cwd, env);
    assert.equal(npm.code, 0, npm.out);
    assert.match(npm.out, /cert-user/);
    const doctor = await run(BIN, ['doctor', '--json', '--timeout', '5000'], cwd, env);
    const json = JSON.parse(doctor.out);
    assert.deepEqual(json.findings, [], `${lines.length} lines: ${JSON.stringify(json.findings, null, 1)}`);
    assert.equal(doctor.code, 0);
  }
});
