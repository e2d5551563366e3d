// The framework floor: what a Fastify app that does nothing but send the same bytes from memory
// reaches against the bare node:http baseline, with and without request logging at level info to a
// file (what `tessera serve` and the test helper do). Tells how much of the goal is left for Tessera.
//   node_modules/.bin/node bench/lib/floor.ts [bytes=9000]
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { BaselineServer } from './baseline.ts';
import { compare, LoadGenerator, settingsFromEnv } from './load.ts';
import { fmt, printTable } from './table.ts';

const size = Number(process.argv[2] ?? 9000);
const body = Buffer.alloc(size, 'x');
const contentType = 'application/vnd.npm.install-v1+json';
const logDir = mkdtempSync(join(tmpdir(), 'tessera-bench-floor-'));

async function app(logger: boolean | object): Promise<{ app: FastifyInstance; url: string }> {
  const a = Fastify({ logger });
  a.get('/*', async (_req, reply) => reply.type(contentType).send(body));
  await a.listen({ host: '127.0.0.1', port: 0 });
  return { app: a, url: `http://127.0.0.1:${(a.server.address() as AddressInfo).port}/pkg` };
}

const settings = settingsFromEnv();
const baseline = await new BaselineServer().listen();
const baseUrl = baseline.add('pkg', { body, headers: { 'content-type': contentType } });
const load = new LoadGenerator();
const variants = [
  { name: 'Fastify, no logger', app: await app(false) },
  { name: 'Fastify, info log to a file', app: await app({ level: 'info', file: join(logDir, 'floor.log') }) },
];
const headers = { accept: 'application/json' };
const rows: string[][] = [];
try {
  for (const v of variants) {
    const c = await compare(load, settings, { url: v.app.url, headers }, { url: baseUrl, headers });
    rows.push([
      v.name,
      fmt.bytes(size),
      fmt.rps(c.a.rps),
      fmt.rps(c.b.rps),
      fmt.ratio(c.rpsRatio),
      fmt.range(c.rpsRange),
      fmt.ms(c.a.p99),
      fmt.ms(c.b.p99),
      fmt.ratio(c.b.p99 / c.a.p99),
      `${fmt.us(c.a.cpuPerRequest)} (${fmt.us(c.a.systemPerRequest)})`,
      `${fmt.us(c.b.cpuPerRequest)} (${fmt.us(c.b.systemPerRequest)})`,
    ]);
  }
  printTable(
    [
      'floor',
      'size',
      'app req/s',
      'baseline req/s',
      'ratio req/s',
      '(slices)',
      'app p99 ms',
      'baseline p99 ms',
      'ratio p99',
      'app CPU µs/req (sys)',
      'baseline CPU µs/req (sys)',
    ],
    rows,
  );
} finally {
  await load.close();
  await baseline.close();
  for (const v of variants) await v.app.app.close();
  rmSync(logDir, { recursive: true, force: true });
}
