// `tessera serve` stopping with SIGTERM behind a load balancer that keeps connections alive: the request in
// flight gets its answer with `Connection: close`, so the balancer opens its next connection to another node
// and the stopping node is not left waiting for that connection's keep-alive timeout (72 s) before it exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../helpers/cli.ts';

test('SIGTERM: the request in flight is answered with Connection: close, then the server exits', async () => {
  const data = mkdtempSync(join(tmpdir(), 'tessera-shutdown-'));
  writeFileSync(join(data, 'tessera.yaml'), 'shutdownDelay: 1s\nlogLevel: warn\n');
  const srv = await serve(['--data', data, '--config', join(data, 'tessera.yaml')]);
  const agent = new Agent({ keepAlive: true });
  try {
    let inFlight = () => {};
    const body = JSON.stringify({ name: 'bob', password: 'bob-password-1', email: 'bob@example.com' });
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${srv.url}-/user/org.couchdb.user:bob`, {
        method: 'PUT',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      req.on('response', resolve).on('error', reject);
      // Half the body now: the request is in flight when the signal comes.
      req.write(body.slice(0, 10));
      inFlight = () => req.end(body.slice(10));
    });
    const exited = new Promise<number | null>((r) => srv.child.once('close', r));
    srv.child.kill('SIGTERM');
    let ready = 200;
    while (ready !== 503) ready = (await fetch(`${srv.url}-/readyz`)).status;
    inFlight();
    const res = await answered;
    res.resume();
    assert.ok(res.statusCode && res.statusCode < 500, `answered ${res.statusCode}`);
    assert.equal(res.headers.connection, 'close');
    assert.equal(await exited, 0);
  } finally {
    agent.destroy();
    if (srv.child.exitCode === null) srv.child.kill('SIGKILL');
  }
});
