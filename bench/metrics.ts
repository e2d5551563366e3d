// What collecting metrics costs the install path: the same reads against two Tessera servers in one
// process, one with metrics on (`metrics.allow` set) and one without, in the same run.
// Goal: metrics cost < 3% of throughput (ratio ≥ 0.97).
//   node_modules/.bin/node bench/metrics.ts        BENCH_SECONDS=5 BENCH_WARMUP=1 BENCH_CONNECTIONS=10
// BENCH_CASES and BENCH_PROFILE as in registry.ts. BENCH_METRICS_CONTROL=1 runs both servers without metrics
// (an A/A run): whatever cost it shows is the bench's own bias and noise, not the metrics'.
import { tarballPath } from '../src/domain/packument.ts';
import { metricsOf, type Metrics } from '../src/services/metrics.ts';
import { compare, LoadGenerator, profileSide, settingsFromEnv } from './lib/load.ts';
import { CORGI_ACCEPT, JSON_ACCEPT, publishVersions, startBench, type Bench } from './lib/setup.ts';
import { fmt, printTable } from './lib/table.ts';

export const METRICS_GOAL = 0.97;
const NAME = 'bench-metrics';
const PRIVATE = '@bench/metrics-private';
const VERSIONS = 20;
/** The cost sought is a fraction of a µs: tenths matter here. */
const us = (n: number) => n.toFixed(1);

/**
 * CPU ns per read from memory of what metrics add to it, timed in a loop: the two clock reads and
 * fromMemory() that server.ts's measured() makes, and the token-kind count of authenticate.ts's countUse().
 * The A-B comparison cannot resolve a cost this small on a shared machine; this can (median of 7 rounds).
 */
function ownWorkNs(m: Metrics): number {
  const n = 500_000;
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const cpu = process.threadCpuUsage();
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      m.tokensOk.session = (m.tokensOk.session ?? 0) + 1;
      m.fromMemory('tarball', 200, performance.now() - started);
    }
    const used = process.threadCpuUsage(cpu);
    rounds.push(((used.user + used.system) * 1000) / n);
  }
  return rounds.sort((x, y) => x - y)[3];
}

export async function runMetricsBench(): Promise<{ ok: boolean }> {
  const settings = settingsFromEnv();
  const control = process.env.BENCH_METRICS_CONTROL === '1';
  const on = await startBench(
    control ? {} : { metrics: { allowCidrs: [], allowBearers: ['bench-scraper-secret-0123'] } },
  );
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
    const only = process.env.BENCH_CASES;
    let cheapest = Number.POSITIVE_INFINITY;
    for (const c of cases) {
      if (only && !only.split(',').some((w) => c.name.includes(w))) continue;
      for (const b of [on, off]) {
        const res = await fetch(side(b, c).url, { headers: side(b, c).headers });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`GET ${c.path}: HTTP ${res.status}`);
      }
      const { a, b, rpsRatio, rpsRange, cpuRatio } = await compare(load, settings, side(on, c), side(off, c));
      const cpu = cpuRatio - 1;
      cheapest = Math.min(cheapest, b.cpuPerRequest);
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
        `${us(a.cpuPerRequest)}/${us(b.cpuPerRequest)}`,
        `${(cpu * 100).toFixed(1)}%`,
        `${us(a.systemPerRequest)}/${us(b.systemPerRequest)}`,
        `${a.failures}/${b.failures}`,
      ]);
      const dir = process.env.BENCH_PROFILE;
      if (dir) {
        console.log(`  profile: ${await profileSide(load, settings, side(on, c), dir, `metrics on ${c.name}`)}`);
        console.log(`  profile: ${await profileSide(load, settings, side(off, c), dir, `metrics off ${c.name}`)}`);
      }
    }
    const scrape = await fetch(`${on.s.url}-/metrics`, {
      headers: { authorization: 'Bearer bench-scraper-secret-0123' },
    });
    const text = await scrape.text();
    const collected = /tessera_read_cache_requests_total\{result="hit"\} [1-9]/.test(text);
    if (!control && (scrape.status !== 200 || !collected)) throw new Error('metrics were not collected');
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
        'kernel µs on/off',
        'failures',
      ],
      rows,
    );
    console.log(`\nratio req/s: median over the ~1 s slice pairs (lowest–highest in brackets); cost = 1 − ratio.`);
    console.log(
      "CPU µs/req: CPU time of the servers' thread per response; CPU cost = extra CPU per request with metrics on " +
        '(median over the slice pairs); ' +
        'kernel µs: its system share (socket writes on loopback, which include delivering to the client).',
    );
    console.log(
      `goal: ratio req/s ≥ ${METRICS_GOAL} (metrics cost < ${Math.round((1 - METRICS_GOAL) * 100)}% throughput)`,
    );
    if (control) console.log('control run (BENCH_METRICS_CONTROL=1): metrics off on both sides');
    else {
      const ns = ownWorkNs(metricsOf(on.s.ctx.store)!);
      console.log(
        `metrics' own work per read from memory: ${ns.toFixed(0)} ns of CPU, ` +
          `${((ns / 1000 / cheapest) * 100).toFixed(2)}% of the cheapest case's ${us(cheapest)} µs (metrics off)`,
      );
    }
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
