// A private package answers an anonymous caller like a missing name, and takes as long: reads of a
// restricted package's packument, tarball and dist-tags, anonymously, against the same reads of a name
// that does not exist, in the same run. Goal: the ratios stay within the noise band of an A/A run
// (0.85–1.18 on these 2-core machines), so timing does not tell "private" from "absent".
//   node_modules/.bin/node bench/private-absent.ts        BENCH_SECONDS=3 BENCH_WARMUP=1
import { tarballPath } from '../src/domain/packument.ts';
import { compare, LoadGenerator, settingsFromEnv } from './lib/load.ts';
import { JSON_ACCEPT, publishVersions, startBench } from './lib/setup.ts';
import { fmt, printTable } from './lib/table.ts';

const LOW = 0.85;
const HIGH = 1.18;
const HIDDEN = '@bench/private';
const ABSENT = '@bench/privatf'; // same length: the bodies are the same size

const settings = settingsFromEnv();
const bench = await startBench();
const load = new LoadGenerator();
try {
  await publishVersions(bench, HIDDEN, 5);
  const esc = (n: string) => n.replace('/', '%2f');
  const cases = [
    { name: 'packument', path: (n: string) => esc(n) },
    { name: 'tarball', path: (n: string) => tarballPath(n, '1.0.4') },
    { name: 'dist-tags', path: (n: string) => `-/package/${esc(n)}/dist-tags` },
  ];
  const headers = { accept: JSON_ACCEPT };
  const rows: string[][] = [];
  let ok = true;
  for (const c of cases) {
    const cmp = await compare(
      load,
      settings,
      { url: `${bench.s.url}${c.path(HIDDEN)}`, headers, expect: 404 },
      { url: `${bench.s.url}${c.path(ABSENT)}`, headers, expect: 404 },
    );
    const p99 = cmp.b.p99 / cmp.a.p99;
    if (cmp.a.failures + cmp.b.failures > 0) ok = false;
    if (cmp.rpsRatio < LOW || cmp.rpsRatio > HIGH || p99 < LOW || p99 > HIGH) ok = false;
    rows.push([
      c.name,
      fmt.rps(cmp.a.rps),
      fmt.rps(cmp.b.rps),
      fmt.ratio(cmp.rpsRatio),
      fmt.ms(cmp.a.p99),
      fmt.ms(cmp.b.p99),
      fmt.ratio(p99),
      `${fmt.us(cmp.a.cpuPerRequest)}/${fmt.us(cmp.b.cpuPerRequest)}`,
    ]);
  }
  printTable(
    [
      'anonymous GET',
      'private req/s',
      'absent req/s',
      'ratio req/s',
      'private p99 ms',
      'absent p99 ms',
      'ratio p99',
      'CPU µs/req P/A',
    ],
    rows,
  );
  console.log(`\nevery answer is a 404 (anything else fails the run). goal: ratios within ${LOW}–${HIGH}`);
  console.log(ok ? 'all rows meet the goal' : 'some rows are outside the goal');
  process.exitCode = ok ? 0 : 1;
} finally {
  await load.close();
  await bench.close();
}
