// Compression bombs against publish: /-/ping latency and the process's memory while an anonymous
// publish of a 1 MB gzip of zeros (1 GiB unpacked) and a maintainer's publish of a 2 MB tarball whose
// package.json never comes (2 GiB unpacked) are refused, against /-/ping with no bomb, in the same run.
// Goal (issue #11): /-/ping stays under 50 ms (max) while the bombs are refused.
//   node_modules/.bin/node bench/bomb.ts     BENCH_BOMB_BASELINE_MS=2000 BENCH_BOMB_ROUNDS=5
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startBench, type Bench } from './lib/setup.ts';
import { fmt, printTable } from './lib/table.ts';
import { gzipOfZeros, tarBomb } from '../test/helpers/bomb.ts';
import { publishBody } from '../test/helpers/publish-body.ts';

export const BOMB_GOAL_MS = 50;
const NAME = 'bench-bomb';

type Sample = { pings: number[]; rssGrowth: number; loopMaxMs: number; statuses: number[] };

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN;
}

/** Pings one after another (5 ms apart) while `work` runs; rss and event-loop delay sampled alongside. */
async function measure(b: Bench, work: () => Promise<number[]>): Promise<Sample> {
  globalThis.gc?.();
  const rss0 = process.memoryUsage().rss;
  let rssMax = rss0;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let done = false;
  const pings: number[] = [];
  const pinger = (async () => {
    while (!done) {
      const t = performance.now();
      await (await fetch(`${b.s.url}-/ping`)).arrayBuffer();
      pings.push(performance.now() - t);
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const statuses = await work().finally(() => {
    done = true;
  });
  await pinger;
  loop.disable();
  return { pings, rssGrowth: rssMax - rss0, loopMaxMs: loop.max / 1e6, statuses };
}

async function put(b: Bench, body: string, token: string | null): Promise<number> {
  const res = await fetch(`${b.s.url}${NAME}`, {
    method: 'PUT',
    body,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  await res.arrayBuffer();
  return res.status;
}

export async function runBombBench(): Promise<{ ok: boolean }> {
  const baselineMs = Number(process.env.BENCH_BOMB_BASELINE_MS ?? 2000);
  const rounds = Number(process.env.BENCH_BOMB_ROUNDS ?? 5);
  const bench = await startBench();
  try {
    // Bodies are made before any clock starts.
    const anonymous = JSON.stringify(await publishBody(NAME, '1.0.0', { tarball: gzipOfZeros(1024) }));
    const tgz = tarBomb(NAME, '1.0.0', 2048, 'never');
    const maintainer = JSON.stringify(await publishBody(NAME, '1.0.0', { tarball: tgz }));
    console.log(
      `anonymous body ${fmt.bytes(anonymous.length)} (1 GiB unpacked), maintainer body ${fmt.bytes(maintainer.length)}` +
        ` (2 GiB unpacked, limit ${bench.s.ctx.config.maxUnpackedBytes ?? 8 * bench.s.ctx.config.maxBodyBytes} bytes); ${rounds} PUTs each\n`,
    );
    await measure(bench, async () => {
      await new Promise((r) => setTimeout(r, 300));
      return [];
    });
    const repeat = async (body: string, token: string | null) => {
      const out: number[] = [];
      for (let i = 0; i < rounds; i++) out.push(await put(bench, body, token));
      return out;
    };
    const base = await measure(bench, async () => {
      await new Promise((r) => setTimeout(r, baselineMs));
      return [];
    });
    const anon = await measure(bench, () => repeat(anonymous, null));
    const auth = await measure(bench, () => repeat(maintainer, bench.token));
    const row = (label: string, x: Sample) => [
      label,
      x.statuses.length ? [...new Set(x.statuses)].join(',') : '-',
      x.pings.length,
      fmt.ms(pct(x.pings, 0.5)),
      fmt.ms(pct(x.pings, 0.99)),
      fmt.ms(Math.max(...x.pings)),
      fmt.ms(x.loopMaxMs),
      fmt.bytes(x.rssGrowth),
      fmt.ratio(pct(x.pings, 0.99) / pct(base.pings, 0.99)),
    ];
    printTable(
      ['case', 'status', 'pings', 'p50 ms', 'p99 ms', 'max ms', 'loop max ms', 'rss growth', 'p99 / baseline'],
      [row('no bomb (baseline)', base), row('anonymous bomb PUTs', anon), row('maintainer bomb PUTs', auth)],
    );
    const refused = anon.statuses.every((s) => s === 401) && auth.statuses.every((s) => s === 413);
    const worst = Math.max(...anon.pings, ...auth.pings);
    console.log(
      `\nworst /-/ping while refusing: ${fmt.ms(worst)} ms (goal < ${BOMB_GOAL_MS} ms); refused as 401 and 413: ${refused}`,
    );
    const ok = refused && worst < BOMB_GOAL_MS;
    console.log(ok ? 'meets the goal' : 'below goal');
    return { ok };
  } finally {
    await bench.close();
  }
}

if (import.meta.main) {
  const { ok } = await runBombBench();
  process.exitCode = ok ? 0 : 1;
}
