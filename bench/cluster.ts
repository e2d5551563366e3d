// The scale-out backend (PostgreSQL + S3), three ways, each against a baseline measured in the same run:
// 1. install-path reads (abbreviated packument, tarball; authenticated) on PostgreSQL + S3, as a ratio of a
//    bare node:http server answering the same bytes from memory. Goal ≥ 0.6: the database is not on the
//    hot path.
// 2. publish throughput (npm's PUTs over HTTP, 8 in flight) on PostgreSQL + S3 against SQLite + files.
// 3. aggregate read throughput of two `tessera serve` processes on one database against one.
//   node_modules/.bin/node bench/cluster.ts     BENCH_SECONDS=5 BENCH_WARMUP=1 BENCH_CONNECTIONS=10
import { availableParallelism, loadavg } from 'node:os';
import { tarballPath } from '../src/domain/packument.ts';
import { startCluster } from '../test/helpers/cluster.ts';
import { sharedPostgres } from '../test/helpers/postgres.ts';
import { s3BlobsConfig, sharedRgw } from '../test/helpers/rgw.ts';
import { BaselineServer, capture } from './lib/baseline.ts';
import { compare, LoadGenerator, settingsFromEnv, type Comparison, type Settings } from './lib/load.ts';
import { CORGI_ACCEPT, publishVersions, startBench, type Bench } from './lib/setup.ts';
import { fmt, printTable } from './lib/table.ts';
import { manifestFor, makeTarball, publishBody, publishOverHttp } from './lib/tarball.ts';

export const GOAL = 0.6;
const SMALL = 'bench-small';
const PRIVATE = '@bench/private';
const VERSIONS = 20;

async function clusterBench(): Promise<{ bench: Bench; drop(): Promise<void> }> {
  const postgres = await sharedPostgres();
  const database = await postgres.createDatabase();
  const bench = await startBench({ database, ...(await s3BlobsConfig(await sharedRgw())) });
  return { bench, drop: () => postgres.dropDatabase(database) };
}

async function reads(load: LoadGenerator, settings: Settings): Promise<{ name: string; c: Comparison }[]> {
  const { bench, drop } = await clusterBench();
  const baseline = await new BaselineServer().listen();
  try {
    await publishVersions(bench, SMALL, VERSIONS);
    await publishVersions(bench, PRIVATE, VERSIONS);
    const auth = { authorization: `Bearer ${bench.token}`, accept: CORGI_ACCEPT };
    const last = `1.0.${VERSIONS - 1}`;
    const cases = [
      { name: `abbrev packument (${VERSIONS} v)`, path: SMALL, headers: auth },
      { name: 'tarball', path: tarballPath(SMALL, last), headers: { ...auth, accept: '*/*' } },
      { name: 'restricted abbrev packument', path: PRIVATE.replace('/', '%2f'), headers: auth },
      { name: 'restricted tarball', path: tarballPath(PRIVATE, last), headers: { ...auth, accept: '*/*' } },
    ];
    const rows = [];
    for (const [i, c] of cases.entries()) {
      const url = `${bench.s.url}${c.path}`;
      const baseUrl = baseline.add(`case-${i}`, await capture(url, c.headers));
      rows.push({
        name: c.name,
        c: await compare(load, settings, { url, headers: c.headers }, { url: baseUrl, headers: c.headers }),
      });
      console.log(`  reads, ${c.name}: done`);
    }
    return rows;
  } finally {
    await baseline.close();
    await bench.close();
    await drop();
  }
}

/** Publishes per second, 8 PUTs in flight to one package, alternating the two stores in rounds. */
async function publishes(rounds = 3, perRound = 40): Promise<{ sqlite: number; postgres: number }> {
  const sqlite = await startBench();
  const pg = await clusterBench();
  const rates: Record<'sqlite' | 'postgres', number[]> = { sqlite: [], postgres: [] };
  try {
    let n = 0;
    const round = async (b: Bench) => {
      const bodies = Array.from({ length: perRound }, () => {
        const m = manifestFor('bench-pub', `1.0.${n++}`);
        return publishBody(m, makeTarball(m, b.scratch));
      });
      const t = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < bodies.length) {
          b.s.clock.advance(1_000);
          await publishOverHttp(b.s.url, b.token, bodies[next++]);
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      return perRound / ((performance.now() - t) / 1000);
    };
    // The package exists before the rounds: they measure publishes of new versions, not its creation.
    for (const b of [sqlite, pg.bench]) {
      const m = manifestFor('bench-pub', '0.0.1');
      await publishOverHttp(b.s.url, b.token, publishBody(m, makeTarball(m, b.scratch)));
    }
    await round(sqlite);
    await round(pg.bench);
    for (let i = 0; i < rounds; i++) {
      for (const [side, b] of i % 2
        ? ([
            ['postgres', pg.bench],
            ['sqlite', sqlite],
          ] as const)
        : ([
            ['sqlite', sqlite],
            ['postgres', pg.bench],
          ] as const)) {
        rates[side].push(await round(b));
      }
    }
  } finally {
    await sqlite.close();
    await pg.bench.close();
    await pg.drop();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { sqlite: median(rates.sqlite), postgres: median(rates.postgres) };
}

/** Requests per second of abbreviated packument reads: two nodes (one load generator each) against one node
 *  taking both generators, in alternating ~1 s slices. */
async function scaleOut(settings: Settings): Promise<{ one: number; two: number }> {
  const cluster = await startCluster({ nodes: 2 });
  const gens = [new LoadGenerator(), new LoadGenerator()];
  try {
    await cluster.addUser('bench');
    const { token } = await cluster.token({ user: 'bench' });
    for (let i = 0; i < VERSIONS; i++) {
      const m = manifestFor(SMALL, `1.0.${i}`);
      await publishOverHttp(cluster.url(0), token, publishBody(m, makeTarball(m)));
    }
    const headers = { authorization: `Bearer ${token}`, accept: CORGI_ACCEPT };
    const connections = Math.max(1, Math.round(settings.connections / 2));
    const slice = async (nodes: [number, number], seconds: number) => {
      const rs = await Promise.all(
        gens.map((g, k) => g.run({ url: `${cluster.url(nodes[k])}${SMALL}`, headers, connections, seconds })),
      );
      return rs.reduce((a, r) => a + r.ok / r.seconds, 0);
    };
    for (let i = 0; i < 3; i++) await slice([0, 1], settings.warmup);
    const one: number[] = [];
    const two: number[] = [];
    for (let i = 0; i < Math.max(2, settings.seconds); i++) {
      const order = i % 2 ? ([two, one] as const) : ([one, two] as const);
      for (const into of order) into.push(await slice(into === one ? [0, 0] : [0, 1], 1));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return { one: mean(one), two: mean(two) };
  } finally {
    await Promise.all(gens.map((g) => g.close()));
    await cluster.close();
  }
}

export async function runClusterBench(): Promise<{ ok: boolean }> {
  const settings = settingsFromEnv();
  console.log(
    `machine: ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)}; ` +
      `${settings.connections} connections, ${settings.seconds} s measured per side\n`,
  );
  const load = new LoadGenerator();
  let rows: { name: string; c: Comparison }[];
  try {
    rows = await reads(load, settings);
  } finally {
    await load.close();
  }
  const pub = await publishes();
  const out = await scaleOut(settings);
  console.log('\ninstall-path reads on PostgreSQL + S3 against a bare node:http server (same bytes, same run)\n');
  printTable(
    [
      'case',
      'Tessera req/s',
      'baseline req/s',
      'ratio req/s',
      '(slices)',
      'Tessera p99 ms',
      'baseline p99 ms',
      'failures',
    ],
    rows.map(({ name, c }) => [
      name,
      fmt.rps(c.a.rps),
      fmt.rps(c.b.rps),
      fmt.ratio(c.rpsRatio),
      fmt.range(c.rpsRange),
      fmt.ms(c.a.p99),
      fmt.ms(c.b.p99),
      `${c.a.failures}/${c.b.failures}`,
    ]),
  );
  console.log('\npublish throughput, 8 PUTs in flight to one package (median of 3 rounds of 40)\n');
  printTable(
    ['store', 'publishes/s', 'ratio'],
    [
      ['SQLite + files', fmt.rps(pub.sqlite), '1.00'],
      ['PostgreSQL + S3', fmt.rps(pub.postgres), fmt.ratio(pub.postgres / pub.sqlite)],
    ],
  );
  console.log('\nabbreviated packument reads, two `tessera serve` nodes on one PostgreSQL against one node\n');
  printTable(
    ['nodes', 'req/s', 'ratio'],
    [
      ['1', fmt.rps(out.one), '1.00'],
      ['2', fmt.rps(out.two), fmt.ratio(out.two / out.one)],
    ],
  );
  console.log(
    `(the load generators share this machine's ${availableParallelism()} cores with the nodes: the two-node ratio` +
      ' is bounded by the cores, not by the database)',
  );
  const below = rows.filter(({ c }) => c.rpsRatio < GOAL);
  const failed = rows.some(({ c }) => c.a.failures > 0 || c.b.failures > 0);
  console.log(`\ngoal: read ratio req/s ≥ ${GOAL}`);
  console.log(below.length ? `below goal: ${below.map((r) => r.name).join(', ')}` : 'all read rows meet the goal');
  if (failed) console.log('WARNING: some requests failed; see the failures column (Tessera/baseline)');
  return { ok: below.length === 0 && !failed };
}

if (import.meta.main) {
  const { ok } = await runClusterBench();
  process.exitCode = ok ? 0 : 1;
}
