// What a web page costs as a package grows: the package page and its settings page, for a package of 20
// versions and one of 3,000, on the same server in the same run, taken in turn. The time is the server's
// own (the `Server-Timing` header the web pages send: from the request's arrival to the response sent),
// for a signed-in maintainer. Goal (issue #13): every page under 20 ms at 3,000 versions, and the big
// package's pages within 3× the small one's (nothing per version beyond one light row).
//   node_modules/.bin/node bench/web.ts     BENCH_VIEWS=40 BENCH_BIG_VERSIONS=3000
import { publishVersions, seedVersions, startBench, type Bench } from './lib/setup.ts';
import { fmt, printTable } from './lib/table.ts';

export const WEB_GOAL_MS = 20;
export const WEB_RATIO_GOAL = 1 / 3;
const SMALL = 'bench-web-small';
const BIG = 'bench-web-big';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length / 2;
  return s.length % 2 ? s[Math.floor(m)] : (s[m - 1] + s[m]) / 2;
}

/** Signs in through the sign-in form, as a browser does: the form token first, then the session cookie. */
async function signIn(b: Bench): Promise<string> {
  const form = await fetch(`${b.s.url}-/web/signin`);
  const pre = /tessera-csrf=([^;]+)/.exec(form.headers.get('set-cookie') ?? '')?.[1] ?? '';
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const res = await fetch(`${b.s.url}-/web/signin`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: `tessera-csrf=${pre}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, name: 'bench', password: 'bench-password', next: '/-/web/' }).toString(),
  });
  const session = /tessera-session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  if (res.status !== 303 || !session) throw new Error(`sign-in failed: ${res.status}`);
  return `tessera-session=${session}`;
}

/** One page view; returns the server's milliseconds. */
async function view(b: Bench, cookie: string, path: string): Promise<number> {
  const res = await fetch(`${b.s.url}${path}`, { headers: { cookie, accept: 'text/html' } });
  const body = await res.text();
  if (res.status !== 200 || !body.includes('</html>')) throw new Error(`${path}: ${res.status}`);
  const dur = /dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1];
  if (dur === undefined) throw new Error(`${path}: no server-timing header`);
  return Number(dur);
}

export async function runWebBench(): Promise<{ ok: boolean }> {
  const count = Number(process.env.BENCH_VIEWS ?? 40);
  const bigVersions = Number(process.env.BENCH_BIG_VERSIONS ?? 3000);
  const bench = await startBench();
  try {
    await publishVersions(bench, SMALL, 20);
    const seeded = await seedVersions(bench, BIG, bigVersions);
    console.log(
      `setup: ${bigVersions} versions of ${BIG} seeded in ${seeded.seconds.toFixed(1)} s; ` +
        `${count} views of each page, in turn\n`,
    );
    const cookie = await signIn(bench);
    const pages = [
      ['package page', (n: string) => `-/web/package/${n}`],
      ['settings page', (n: string) => `-/web/settings/${n}`],
    ] as const;
    const rows: string[][] = [];
    let ok = true;
    for (const [what, path] of pages) {
      // Warm-up: the first view of a version seeded without one makes its stored view.
      for (const n of [SMALL, BIG]) await view(bench, cookie, path(n));
      const small: number[] = [];
      const big: number[] = [];
      for (let i = 0; i < count; i++) {
        const order = i % 2 ? [SMALL, BIG] : [BIG, SMALL];
        for (const n of order) (n === SMALL ? small : big).push(await view(bench, cookie, path(n)));
      }
      const ratio = median(small) / median(big);
      const meets = median(big) < WEB_GOAL_MS && ratio >= WEB_RATIO_GOAL;
      ok &&= meets;
      rows.push([`${what}, 20 versions`, fmt.ms(median(small)), fmt.ms(Math.max(...small)), '', '']);
      rows.push([
        `${what}, ${bigVersions} versions`,
        fmt.ms(median(big)),
        fmt.ms(Math.max(...big)),
        fmt.ratio(ratio),
        meets ? 'meets' : 'below goal',
      ]);
    }
    printTable(['page (server time)', 'median ms', 'max ms', 'small/big', 'goal'], rows);
    console.log(
      `\ngoal: median under ${WEB_GOAL_MS} ms at ${bigVersions} versions, ` +
        `and small/big ≥ ${fmt.ratio(WEB_RATIO_GOAL)}`,
    );
    return { ok };
  } finally {
    await bench.close();
  }
}

if (import.meta.main) {
  const { ok } = await runWebBench();
  process.exitCode = ok ? 0 : 1;
}
