// What a publish costs as a package grows: `npm publish` PUTs over HTTP to a package of 3,000 versions
// against the same PUTs to a package of 20, on the same server in the same run, taken in turn. Every
// publish rewrites the whole packument (store/packages.ts rerender), joining cached per-version text, so
// the cost still grows with the versions; this prints by how much. Goal: a publish to the big package
// within about 14× the time of one to the small package (ratio ≥ 0.07; it was 0.05, about 20×, before
// the per-version text was cached).
//   node_modules/.bin/node bench/publish.ts     BENCH_PUBLISHES=20 BENCH_BIG_VERSIONS=3000
import { manifestFor, makeTarball, publishBody, publishOverHttp } from './lib/tarball.ts';
import { publishVersions, seedVersions, startBench, type Bench } from './lib/setup.ts';
import { fmt, printTable } from './lib/table.ts';

export const PUBLISH_GOAL = 0.07;
const SMALL = 'bench-pub-small';
const BIG = 'bench-pub-big';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length / 2;
  return s.length % 2 ? s[Math.floor(m)] : (s[m - 1] + s[m]) / 2;
}

/** One PUT of a new version; returns milliseconds. Tarballs are built before the clock starts. */
async function timedPublish(b: Bench, name: string, version: string): Promise<number> {
  const m = manifestFor(name, version);
  const body = publishBody(m, makeTarball(m, b.scratch));
  const t = performance.now();
  await publishOverHttp(b.s.url, b.token, body);
  return performance.now() - t;
}

export async function runPublishBench(): Promise<{ ok: boolean }> {
  const count = Number(process.env.BENCH_PUBLISHES ?? 20);
  const bigVersions = Number(process.env.BENCH_BIG_VERSIONS ?? 3000);
  const bench = await startBench();
  try {
    await publishVersions(bench, SMALL, 20);
    const seeded = await seedVersions(bench, BIG, bigVersions);
    console.log(`setup: ${bigVersions} versions of ${BIG} seeded in ${seeded.seconds.toFixed(1)} s; ${count} publishes to each package, in turn\n`);
    // Warm-up, then alternate so drift falls on both sides.
    await timedPublish(bench, SMALL, '2.0.0');
    await timedPublish(bench, BIG, '2.0.0');
    const small: number[] = [];
    const big: number[] = [];
    for (let i = 1; i <= count; i++) {
      const v = `2.0.${i}`;
      if (i % 2) { small.push(await timedPublish(bench, SMALL, v)); big.push(await timedPublish(bench, BIG, v)); }
      else { big.push(await timedPublish(bench, BIG, v)); small.push(await timedPublish(bench, SMALL, v)); }
    }
    const ratio = median(small) / median(big);
    printTable(['case', 'median ms', 'max ms'], [
      [`publish to a package of 20 versions`, fmt.ms(median(small)), fmt.ms(Math.max(...small))],
      [`publish to a package of ${bigVersions} versions`, fmt.ms(median(big)), fmt.ms(Math.max(...big))],
    ]);
    console.log(`\nratio = median small / median big = ${fmt.ratio(ratio)} (goal ≥ ${PUBLISH_GOAL}: at most ${Math.round(1 / PUBLISH_GOAL)}× slower)`);
    console.log(ratio >= PUBLISH_GOAL ? 'meets the goal' : 'below goal');
    return { ok: ratio >= PUBLISH_GOAL };
  } finally {
    await bench.close();
  }
}

if (import.meta.main) {
  const { ok } = await runPublishBench();
  process.exitCode = ok ? 0 : 1;
}
