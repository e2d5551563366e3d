// What a publish costs as a package grows: `npm publish` PUTs over HTTP to a package of 3,000 versions
// against the same PUTs to a package of 20, on the same server in the same run, taken in turn. A publish
// splices the new version into the stored documents (domain/packument-splice.ts) instead of joining every
// version again. Goals: ratio (median small / median big) ≥ 0.5 (it was 0.09 when every publish rendered
// the whole document) and the event loop's delay p99 under 10 ms while publishing to the big package.
//   node_modules/.bin/node bench/publish.ts     BENCH_PUBLISHES=20 BENCH_BIG_VERSIONS=3000
import { manifestFor, makeTarball, publishBody, publishOverHttp } from './lib/tarball.ts';
import { publishVersions, seedVersions, startBench, type Bench } from './lib/setup.ts';
import { availableParallelism, loadavg } from 'node:os';
import { fmt, printTable } from './lib/table.ts';

export const PUBLISH_GOAL = 0.5;
export const LOOP_DELAY_GOAL_MS = 10;
const SMALL = 'bench-pub-small';
const BIG = 'bench-pub-big';

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length / 2;
  return s.length % 2 ? s[Math.floor(m)] : (s[m - 1] + s[m]) / 2;
}

/** CPU milliseconds this process spent per publish (server and client alike): on a machine shared with
 *  other work the wall clock measures the neighbours too, the CPU time much less so. */
const cpu: Record<string, number[]> = {};

/** The body of one PUT of a new version, as JSON text, built before the clock starts. */
type Body = { name: string; text: string };
function bodyFor(b: Bench, name: string, version: string): Body {
  const m = manifestFor(name, version);
  return { name, text: JSON.stringify(publishBody(m, makeTarball(m, b.scratch))) };
}

/** One PUT of a new version; returns milliseconds. */
async function timedPublish(b: Bench, name: string, body: Body): Promise<number> {
  // The test server's clock stands still unless moved; a real one moves between publishes.
  b.s.clock.advance(1_000);
  const c = process.cpuUsage();
  const t = performance.now();
  await publishOverHttp(b.s.url, b.token, body);
  const ms = performance.now() - t;
  const used = process.cpuUsage(c);
  (cpu[name] ??= []).push((used.user + used.system) / 1000);
  return ms;
}

export async function runPublishBench(): Promise<{ ok: boolean }> {
  const count = Number(process.env.BENCH_PUBLISHES ?? 20);
  const bigVersions = Number(process.env.BENCH_BIG_VERSIONS ?? 3000);
  const bench = await startBench();
  try {
    await publishVersions(bench, SMALL, 20);
    const seeded = await seedVersions(bench, BIG, bigVersions);
    console.log(
      `setup: ${bigVersions} versions of ${BIG} seeded in ${seeded.seconds.toFixed(1)} s; ${count} publishes to each package, in turn\n`,
    );
    // Warm-up, then alternate so drift falls on both sides.
    await timedPublish(bench, SMALL, bodyFor(bench, SMALL, '2.0.0'));
    await timedPublish(bench, BIG, bodyFor(bench, BIG, '2.0.0'));
    const small: number[] = [];
    const big: number[] = [];
    // The server runs in this process: the loop's delay while the big package is written is the server's.
    // The event loop's delay, sampled every millisecond and charged to the publish under way; the small
    // package's figure is the baseline (what the machine's other work adds to both).
    const delays: Record<string, number[]> = { [SMALL]: [], [BIG]: [] };
    let phase: string | undefined;
    let tick = performance.now();
    const sampler = setInterval(() => {
      const now = performance.now();
      if (phase) delays[phase].push(Math.max(0, now - tick - 1));
      tick = now;
    }, 1);
    const timed = async (into: number[], name: string, v: string) => {
      const body = bodyFor(bench, name, v);
      // The client's own work (the body, built just now) is not the server's: the sampler ticks once after it
      // before the publish's phase begins.
      await new Promise((r) => setTimeout(r, 2));
      phase = name;
      try {
        into.push(await timedPublish(bench, name, body));
      } finally {
        phase = undefined;
      }
    };
    const toBig = (v: string) => timed(big, BIG, v);
    const toSmall = (v: string) => timed(small, SMALL, v);
    try {
      for (let i = 1; i <= count; i++) {
        const v = `2.0.${i}`;
        if (i % 2) {
          await toSmall(v);
          await toBig(v);
        } else {
          await toBig(v);
          await toSmall(v);
        }
      }
    } finally {
      clearInterval(sampler);
    }
    const ratio = median(small) / median(big);
    const p99 = percentile(delays[BIG], 0.99);
    printTable(
      ['case', 'median ms', 'max ms', 'median CPU ms'],
      [
        [
          'publish to a package of 20 versions',
          fmt.ms(median(small)),
          fmt.ms(Math.max(...small)),
          fmt.ms(median(cpu[SMALL])),
        ],
        [
          `publish to a package of ${bigVersions} versions`,
          fmt.ms(median(big)),
          fmt.ms(Math.max(...big)),
          fmt.ms(median(cpu[BIG])),
        ],
      ],
    );
    const cpuRatio = median(cpu[SMALL]) / median(cpu[BIG]);
    const load = `load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`;
    console.log(`\nCPU time ratio = ${fmt.ratio(cpuRatio)}; ${load}`);
    console.log(
      `\nratio = median small / median big = ${fmt.ratio(ratio)} (goal ≥ ${PUBLISH_GOAL}: at most ${Math.round(1 / PUBLISH_GOAL)}× slower)`,
    );
    console.log(
      `event-loop delay p99 while publishing to the big package = ${fmt.ms(p99)} ms ` +
        `(goal < ${LOOP_DELAY_GOAL_MS} ms; ` +
        `max ${fmt.ms(Math.max(...delays[BIG]))} ms); to the small one ${fmt.ms(percentile(delays[SMALL], 0.99))} ms`,
    );
    console.log(`peak RSS = ${fmt.bytes(process.resourceUsage().maxRSS * 1024)}`);
    const ok = ratio >= PUBLISH_GOAL && p99 < LOOP_DELAY_GOAL_MS;
    console.log(ok ? 'meets the goals' : 'below goal');
    return { ok };
  } finally {
    await bench.close();
  }
}

if (import.meta.main) {
  const { ok } = await runPublishBench();
  process.exitCode = ok ? 0 : 1;
}
