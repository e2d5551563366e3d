// What authentication costs on the install path: packument GETs with a granular token vs anonymous,
// against the same Tessera in the same run. Goal: auth costs ≤ 10% throughput (ratio ≥ 0.90).
//   node_modules/.bin/node bench/auth.ts        BENCH_SECONDS=5 BENCH_WARMUP=1 BENCH_CONNECTIONS=10
import { compare, LoadGenerator, profileSide, settingsFromEnv } from './lib/load.ts';
import { CORGI_ACCEPT, JSON_ACCEPT, publishVersions, startBench } from './lib/setup.ts';
import { fmt, printTable } from './lib/table.ts';

export const AUTH_GOAL = 0.9;
const NAME = 'bench-auth';
const VERSIONS = 20;

export async function runAuthBench(): Promise<{ ok: boolean }> {
  const settings = settingsFromEnv();
  const bench = await startBench();
  const load = new LoadGenerator();
  try {
    await publishVersions(bench, NAME, VERSIONS);
    const granular = await bench.s.token({
      user: 'bench',
      kind: 'granular',
      grants: {
        packagesAll: false,
        packages: [NAME],
        scopes: [],
        permission: 'read-write',
        orgs: [],
        orgsPermission: 'no-access',
      },
    });
    const url = `${bench.s.url}${NAME}`;
    const cases = [
      { name: `abbrev packument (${VERSIONS} v)`, accept: CORGI_ACCEPT },
      { name: `full packument (${VERSIONS} v)`, accept: JSON_ACCEPT },
    ];
    console.log(
      `load: ${settings.connections} connections, ${settings.warmup} s warm-up + ${settings.seconds} s measured per side, alternating in ~1 s slices (A-B-B-A…)\n`,
    );
    const rows: (string | number)[][] = [];
    let ok = true;
    for (const c of cases) {
      const withToken = { url, headers: { accept: c.accept, authorization: `Bearer ${granular}` } };
      const anonymous = { url, headers: { accept: c.accept } };
      // Both must succeed and answer the same document, or the comparison means nothing.
      for (const side of [withToken, anonymous]) {
        const res = await fetch(side.url, { headers: side.headers });
        await res.arrayBuffer();
        if (res.status !== 200)
          throw new Error(`GET ${url} (${side === withToken ? 'granular token' : 'anonymous'}): HTTP ${res.status}`);
      }
      const { a: t, b: a, rpsRatio: rps, rpsRange } = await compare(load, settings, withToken, anonymous);
      if (rps < AUTH_GOAL || t.failures + a.failures > 0) ok = false;
      rows.push([
        c.name,
        fmt.rps(t.rps),
        fmt.rps(a.rps),
        fmt.ratio(rps),
        fmt.range(rpsRange),
        `${((1 - rps) * 100).toFixed(1)}%`,
        fmt.ms(t.p99),
        fmt.ms(a.p99),
        fmt.ratio(a.p99 / t.p99),
        `${fmt.us(t.cpuPerRequest)}/${fmt.us(a.cpuPerRequest)}`,
        `${((t.cpuPerRequest / a.cpuPerRequest - 1) * 100).toFixed(1)}%`,
        `${t.failures}/${a.failures}`,
      ]);
      if (process.env.BENCH_PROFILE) {
        console.log(
          `  profile: ${await profileSide(load, settings, withToken, process.env.BENCH_PROFILE, `auth granular ${c.name}`)}`,
        );
        console.log(
          `  profile: ${await profileSide(load, settings, anonymous, process.env.BENCH_PROFILE, `auth anonymous ${c.name}`)}`,
        );
      }
    }
    printTable(
      [
        'case',
        'granular req/s',
        'anonymous req/s',
        'ratio req/s',
        '(slices)',
        'auth cost',
        'granular p99 ms',
        'anonymous p99 ms',
        'ratio p99',
        'CPU µs/req G/A',
        'auth CPU',
        'failures',
      ],
      rows,
    );
    console.log(`\nratio req/s: median over the ~1 s slice pairs (lowest–highest in brackets); auth cost = 1 − ratio.`);
    console.log(
      'CPU µs/req: CPU time of the server thread per response (robust to other load on the machine); auth CPU = extra CPU per request with the token.',
    );
    console.log(`goal: ratio req/s ≥ ${AUTH_GOAL} (auth costs ≤ ${Math.round((1 - AUTH_GOAL) * 100)}% throughput)`);
    console.log(ok ? 'meets the goal' : 'below goal');
    return { ok };
  } finally {
    await load.close();
    await bench.close();
  }
}

if (import.meta.main) {
  const { ok } = await runAuthBench();
  process.exitCode = ok ? 0 : 1;
}
