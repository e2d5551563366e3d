// What collecting metrics costs the install path: the same reads against two Tessera servers in one
// process, one with metrics on (`metrics.allow` set) and one without, in the same run.
// Goal: metrics cost < 3% of throughput (ratio ≥ 0.97).
//   node_modules/.bin/node bench/metrics.ts        BENCH_SECONDS=5 BENCH_WARMUP=1 BENCH_CONNECTIONS=10
import { tarballPath } from '../src/domain/packument.ts';
import { compare, LoadGenerator, settingsFromEnv } from './lib/load.ts';
import { CORGI_ACCEPT, JSON_ACCEPT, publishVersions, startBench, type Bench } from './lib/setup.ts';
import { fmt, printTable } from './lib/table.ts';

export const METRICS_GOAL = 0.97;
const NAME = 'bench-metrics';
const PRIVATE = '@bench/metrics-private';
const VERSIONS = 20;

export async function runMetricsBench(): Promise<{ ok: boolean }> {
  const settings = settingsFromEnv();
  const on = await startBench({ metrics: { allowCidrs: [], allowBearers: ['bench-scraper-secret-0123'] } });
  const off = await startBench();
  const load = new LoadGenerator();
  try {
    for (const b of [on, off]) {
      await publishVersions(b, NAME, VERSIONS);
      await publishVersions(b, PRIVATE, VERSIONS);
    }
    const cases = [
      { name: `abbrev packument (${VERSIONS} v)`, path: NAME, accept: CORGI_ACCEPT },
      { name: `full packument (${VERSIONS} v)`, path: NAME, accept: JSON_ACCEPT },
      { name: 'tarball', path: tarballPath(NAME, `1.0.${VERSIONS - 1}`), accept: '*/*' },
      { name: `restricted abbrev packument (${VERSIONS} v)`, path: PRIVATE.replace('/', '%2f'), accept: CORGI_ACCEPT },
    ];
    const side = (b: Bench, c: (typeof cases)[number]) => ({
      url: `${b.s.url}${c.path}`,
      headers: { authorization: `Bearer ${b.token}`, accept: c.accept },
    });
    console.log(
      `load: ${settings.connections} connections, ${settings.warmup} s warm-up + ` +
        `${settings.seconds} s measured per side, ` +
        'alternating in ~1 s slices (A-B-B-A…)\n',
    );
    const rows: (string | number)[][] = [];
    let ok = true;
    for (const c of cases) {
      for (const b of [on, off]) {
        const res = await fetch(side(b, c).url, { headers: side(b, c).headers });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`GET ${c.path}: HTTP ${res.status}`);
      }
      const { a, b, rpsRatio, rpsRange } = await compare(load, settings, side(on, c), side(off, c));
      const cpu = a.cpuPerRequest / b.cpuPerRequest - 1;
      if (rpsRatio < METRICS_GOAL || a.failures + b.failures > 0) ok = false;
      rows.push([
        c.name,
        fmt.rps(a.rps),
        fmt.rps(b.rps),
        fmt.ratio(rpsRatio),
        fmt.range(rpsRange),
        `${((1 - rpsRatio) * 100).toFixed(1)}%`,
        fmt.ms(a.p99),
        fmt.ms(b.p99),
        `${fmt.us(a.cpuPerRequest)}/${fmt.us(b.cpuPerRequest)}`,
        `${(cpu * 100).toFixed(1)}%`,
        `${a.failures}/${b.failures}`,
      ]);
    }
    const scrape = await fetch(`${on.s.url}-/metrics`, {
      headers: { authorization: 'Bearer bench-scraper-secret-0123' },
    });
    const text = await scrape.text();
    if (scrape.status !== 200 || !/tessera_read_cache_requests_total\{result="hit"\} [1-9]/.test(text))
      throw new Error('metrics were not collected');
    printTable(
      [
        'case',
        'metrics on req/s',
        'off req/s',
        'ratio req/s',
        '(slices)',
        'cost',
        'on p99 ms',
        'off p99 ms',
        'CPU µs/req on/off',
        'CPU cost',
        'failures',
      ],
      rows,
    );
    console.log(`\nratio req/s: median over the ~1 s slice pairs (lowest–highest in brackets); cost = 1 − ratio.`);
    console.log(
      "CPU µs/req: CPU time of the servers' thread per response; CPU cost = extra CPU per request with metrics on.",
    );
    console.log(
      `goal: ratio req/s ≥ ${METRICS_GOAL} (metrics cost < ${Math.round((1 - METRICS_GOAL) * 100)}% throughput)`,
    );
    console.log(ok ? 'meets the goal' : 'below goal');
    return { ok };
  } finally {
    await load.close();
    await on.close();
    await off.close();
  }
}

if (import.meta.main) {
  const { ok } = await runMetricsBench();
  process.exitCode = ok ? 0 : 1;
}
