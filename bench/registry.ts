// Install-path reads against a real Tessera, each as a ratio to a bare node:http server answering the
// same bytes from memory in the same process and run. Goal: every ratio ≥ 0.6.
//   node_modules/.bin/node bench/registry.ts        BENCH_SECONDS=5 BENCH_WARMUP=1 BENCH_CONNECTIONS=10
import { tarballPath } from '../src/domain/packument.ts';
import { BaselineServer, capture } from './lib/baseline.ts';
import { compare, LoadGenerator, profileSide, settingsFromEnv, type Comparison } from './lib/load.ts';
import { CORGI_ACCEPT, JSON_ACCEPT, publishVersions, seedVersions, startBench } from './lib/setup.ts';
import { fmt, printTable } from './lib/table.ts';

export const GOAL = 0.6;
const SMALL = 'bench-small';
const SMALL_VERSIONS = 20;
const PRIVATE = '@bench/private';
const BIG = 'bench-big';
const BIG_VERSIONS = Number(process.env.BENCH_BIG_VERSIONS ?? 3000);

export type Row = { name: string; bytes: number; c: Comparison };

export async function runRegistryBench(): Promise<{ rows: Row[]; ok: boolean }> {
  const settings = settingsFromEnv();
  const bench = await startBench();
  const baseline = await new BaselineServer().listen();
  const load = new LoadGenerator();
  try {
    let t = performance.now();
    await publishVersions(bench, SMALL, SMALL_VERSIONS);
    console.log(
      `setup: ${SMALL_VERSIONS} versions of ${SMALL} published over HTTP in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    // A private registry's everyday read: a restricted scoped package, read by its owner's token.
    await publishVersions(bench, PRIVATE, SMALL_VERSIONS);
    const seeded = await seedVersions(bench, BIG, BIG_VERSIONS);
    console.log(`setup: ${BIG_VERSIONS} versions of ${BIG} seeded in ${seeded.seconds.toFixed(1)} s`);
    t = performance.now();

    const auth = { authorization: `Bearer ${bench.token}` };
    const cases = [
      { name: `abbrev packument (${SMALL_VERSIONS} v)`, path: SMALL, headers: { ...auth, accept: CORGI_ACCEPT } },
      { name: `full packument (${SMALL_VERSIONS} v)`, path: SMALL, headers: { ...auth, accept: JSON_ACCEPT } },
      { name: 'tarball', path: tarballPath(SMALL, `1.0.${SMALL_VERSIONS - 1}`), headers: { ...auth, accept: '*/*' } },
      {
        name: `restricted abbrev packument (${SMALL_VERSIONS} v)`,
        path: PRIVATE.replace('/', '%2f'),
        headers: { ...auth, accept: CORGI_ACCEPT },
      },
      {
        name: 'restricted tarball',
        path: tarballPath(PRIVATE, `1.0.${SMALL_VERSIONS - 1}`),
        headers: { ...auth, accept: '*/*' },
      },
      { name: `abbrev packument (${BIG_VERSIONS} v)`, path: BIG, headers: { ...auth, accept: CORGI_ACCEPT } },
      { name: `full packument (${BIG_VERSIONS} v)`, path: BIG, headers: { ...auth, accept: JSON_ACCEPT } },
    ];
    console.log(
      `load: ${settings.connections} connections, ${settings.warmup} s warm-up + ${settings.seconds} s measured per side, alternating Tessera and baseline in ~1 s slices\n`,
    );
    const rows: Row[] = [];
    const only = process.env.BENCH_CASES; // e.g. BENCH_CASES=tarball, to profile one case
    for (const [i, c] of cases.entries()) {
      if (only && !only.split(',').some((w) => c.name.includes(w))) continue;
      const url = `${bench.s.url}${c.path}`;
      const canned = await capture(url, c.headers);
      const baseUrl = baseline.add(`case-${i}`, canned);
      const cmp = await compare(load, settings, { url, headers: c.headers }, { url: baseUrl, headers: c.headers });
      rows.push({ name: c.name, bytes: canned.body.length, c: cmp });
      console.log(`  ${c.name}: done`);
      if (process.env.BENCH_PROFILE) {
        console.log(
          `  profile: ${await profileSide(load, settings, { url, headers: c.headers }, process.env.BENCH_PROFILE, c.name)}`,
        );
        console.log(
          `  profile: ${await profileSide(load, settings, { url: baseUrl, headers: c.headers }, process.env.BENCH_PROFILE, `baseline ${c.name}`)}`,
        );
      }
    }
    console.log('');
    printTable(
      [
        'case',
        'size',
        'Tessera req/s',
        'baseline req/s',
        'ratio req/s',
        '(slices)',
        'Tessera p99 ms',
        'baseline p99 ms',
        'ratio p99',
        'CPU µs/req T/B',
        'ratio CPU',
        'failures',
      ],
      rows.map(({ name, bytes, c }) => [
        name,
        fmt.bytes(bytes),
        fmt.rps(c.a.rps),
        fmt.rps(c.b.rps),
        fmt.ratio(c.rpsRatio),
        fmt.range(c.rpsRange),
        fmt.ms(c.a.p99),
        fmt.ms(c.b.p99),
        fmt.ratio(c.b.p99 / c.a.p99),
        `${fmt.us(c.a.cpuPerRequest)}/${fmt.us(c.b.cpuPerRequest)}`,
        fmt.ratio(c.b.cpuPerRequest / c.a.cpuPerRequest),
        `${c.a.failures}/${c.b.failures}`,
      ]),
    );
    const below = rows.filter(({ c }) => c.rpsRatio < GOAL || c.b.p99 / c.a.p99 < GOAL);
    const failed = rows.some(({ c }) => c.a.failures > 0 || c.b.failures > 0);
    console.log(
      `\nratio req/s: median over the ~1 s slice pairs (lowest–highest in brackets); p99 ratio = baseline p99 / Tessera p99.`,
    );
    console.log(
      "CPU µs/req: CPU time of the servers' thread per response (not skewed by other load on the machine); ratio CPU = baseline / Tessera.",
    );
    console.log(`goal: ratio req/s and ratio p99 ≥ ${GOAL} (higher is better)`);
    console.log(below.length ? `below goal: ${below.map((r) => r.name).join(', ')}` : 'all rows meet the goal');
    if (failed)
      console.log(
        'WARNING: some requests failed (non-2xx or socket errors); see the failures column (Tessera/baseline)',
      );
    return { rows, ok: below.length === 0 && !failed };
  } finally {
    await load.close();
    await baseline.close();
    await bench.close();
  }
}

if (import.meta.main) {
  const { ok } = await runRegistryBench();
  process.exitCode = ok ? 0 : 1;
}
