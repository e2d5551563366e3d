// Load generation and the comparison protocol: each case is measured against its baseline in the
// same run, interleaved A-B-B-A so drift (other work on the machine, JIT, GC) falls on both sides.
import { Worker } from 'node:worker_threads';

/** `expect`: the status that counts as an answer (default: any 2xx), e.g. 404 to time refusals. */
export type LoadJob = {
  url: string;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  expect?: number;
};
export type LoadResult = {
  ok: number;
  other: number;
  errors: number;
  bytes: number;
  seconds: number;
  latencies: Float64Array;
  /** CPU time of this (the servers') thread during the run, µs: unaffected by time spent descheduled. */
  cpuMicros: number;
  /** The kernel's share of cpuMicros (socket writes on loopback include delivering to the client). */
  cpuSystemMicros: number;
};
export type Measured = {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  failures: number;
  cpuPerRequest: number;
  systemPerRequest: number;
};

export class LoadGenerator {
  readonly #worker = new Worker(new URL('./load-worker.ts', import.meta.url));
  #queue: Promise<unknown> = Promise.resolve();
  /** Whether compare() has run once: the first comparison of a process warms both threads up for longer. */
  warmed = false;

  run(job: LoadJob): Promise<LoadResult> {
    const next = this.#queue.then(
      () =>
        new Promise<LoadResult>((resolve, reject) => {
          const cpu = process.threadCpuUsage();
          const onMessage = (msg: { result?: LoadResult; error?: string }) => {
            this.#worker.off('error', reject);
            const used = process.threadCpuUsage(cpu);
            if (msg.error) reject(new Error(msg.error));
            else resolve({ ...msg.result!, cpuMicros: used.user + used.system, cpuSystemMicros: used.system });
          };
          this.#worker.once('message', onMessage);
          this.#worker.once('error', reject);
          this.#worker.postMessage(job);
        }),
    );
    this.#queue = next.catch(() => {});
    return next;
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function summarize(parts: LoadResult[]): Measured {
  const n = parts.reduce((a, p) => a + p.latencies.length, 0);
  const all = new Float64Array(n);
  let at = 0;
  for (const p of parts) {
    all.set(p.latencies, at);
    at += p.latencies.length;
  }
  all.sort();
  const ok = parts.reduce((a, p) => a + p.ok, 0);
  const seconds = parts.reduce((a, p) => a + p.seconds, 0);
  return {
    rps: ok / seconds,
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    requests: ok,
    failures: parts.reduce((a, p) => a + p.other + p.errors, 0),
    cpuPerRequest: parts.reduce((a, p) => a + p.cpuMicros, 0) / Math.max(1, ok),
    systemPerRequest: parts.reduce((a, p) => a + p.cpuSystemMicros, 0) / Math.max(1, ok),
  };
}

export type Settings = { seconds: number; warmup: number; connections: number };

/** BENCH_SECONDS (measured time per side per case, default 5), BENCH_WARMUP (default 1), BENCH_CONNECTIONS (default 10). */
export function settingsFromEnv(env = process.env): Settings {
  const num = (v: string | undefined, d: number) =>
    v !== undefined && v !== '' && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : d;
  return {
    seconds: num(env.BENCH_SECONDS, 5),
    warmup: num(env.BENCH_WARMUP, 1),
    connections: Math.round(num(env.BENCH_CONNECTIONS, 10)),
  };
}

export type Side = { url: string; headers: Record<string, string>; expect?: number };

/**
 * Warms both sides up, then measures in slices of about a second, alternating A-B-B-A-A-B-B-A…, so both
 * sides get `seconds` in total and drift or bursts of other work on the machine fall on both alike.
 */
export type Comparison = {
  a: Measured;
  b: Measured;
  /** Median over the slice pairs of a.rps / b.rps: robust to a burst of other work hitting one slice. */
  rpsRatio: number;
  /** Lowest and highest slice-pair ratio: how noisy the machine was. */
  rpsRange: [number, number];
  /** Median over the slice pairs of a's CPU per request / b's: as robust to a burst as rpsRatio. */
  cpuRatio: number;
};

function median(sorted: number[]): number {
  const mid = sorted.length / 2;
  return sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export async function compare(load: LoadGenerator, s: Settings, a: Side, b: Side): Promise<Comparison> {
  const job = (side: Side, seconds: number): LoadJob => ({
    url: side.url,
    headers: side.headers,
    connections: s.connections,
    seconds,
    expect: side.expect,
  });
  // The first comparison in a process starts with cold code on both threads (the servers' and autocannon's):
  // without a longer warm-up, whichever case runs first measured a few µs per request of JIT work.
  const rounds = load.warmed ? 1 : 6;
  load.warmed = true;
  for (let i = 0; i < rounds; i++) {
    await load.run(job(a, s.warmup));
    await load.run(job(b, s.warmup));
  }
  const slices = Math.max(2, 2 * Math.round(s.seconds / 2));
  const slice = s.seconds / slices;
  const as: LoadResult[] = [];
  const bs: LoadResult[] = [];
  for (let i = 0; i < slices; i++) {
    const order = i % 2 === 0 ? [a, b] : [b, a];
    for (const side of order) (side === a ? as : bs).push(await load.run(job(side, slice)));
  }
  const rate = (r: LoadResult) => r.ok / r.seconds;
  const pairs = as.map((r, i) => rate(r) / rate(bs[i])).sort((x, y) => x - y);
  const cpu = (r: LoadResult) => r.cpuMicros / Math.max(1, r.ok);
  const cpuPairs = as.map((r, i) => cpu(r) / cpu(bs[i])).sort((x, y) => x - y);
  return {
    a: summarize(as),
    b: summarize(bs),
    rpsRatio: median(pairs),
    rpsRange: [pairs[0], pairs[pairs.length - 1]],
    cpuRatio: median(cpuPairs),
  };
}

/**
 * BENCH_PROFILE=<dir>: after a case is measured, loads the Tessera side once more for `seconds` with the
 * V8 CPU profiler on (main thread only: the servers, not the load generator) and writes <dir>/<label>.cpuprofile.
 * Open it in Chrome DevTools, or summarise it with bench/lib/profile-summary.ts.
 */
export async function profileSide(
  load: LoadGenerator,
  s: Settings,
  side: Side,
  dir: string,
  label: string,
): Promise<string> {
  const { Session } = await import('node:inspector/promises');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  mkdirSync(dir, { recursive: true });
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    await load.run({ url: side.url, headers: side.headers, connections: s.connections, seconds: s.seconds });
    const { profile } = await session.post('Profiler.stop');
    const file = join(dir, `${label.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '')}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    return file;
  } finally {
    session.disconnect();
  }
}
