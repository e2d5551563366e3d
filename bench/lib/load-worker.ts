// Runs autocannon in its own thread, so the load generator never competes with the servers under test
// for the main event loop. Records every 2xx latency with sub-millisecond precision (autocannon's own
// histogram truncates to whole milliseconds, too coarse for a loopback p99 of ~1 ms).
import { parentPort } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { LoadJob, LoadResult } from './load.ts';

async function run(job: LoadJob): Promise<Omit<LoadResult, 'cpuMicros' | 'cpuSystemMicros'>> {
  const latencies: number[] = [];
  let ok = 0;
  let other = 0;
  let bytes = 0;
  const instance = autocannon({
    url: job.url,
    connections: job.connections,
    duration: job.seconds,
    headers: job.headers,
    timeout: 10,
  });
  instance.on('response', (_client: unknown, status: number, resBytes: number, ms: number) => {
    const good = job.expect === undefined ? status >= 200 && status < 300 : status === job.expect;
    if (good) {
      ok++;
      bytes += resBytes;
      latencies.push(ms);
    } else other++;
  });
  const started = performance.now();
  const r = await instance;
  const elapsed = (performance.now() - started) / 1000;
  return { ok, other, errors: r.errors + r.timeouts, bytes, seconds: elapsed, latencies: Float64Array.from(latencies) };
}

parentPort!.on('message', (job: LoadJob) => {
  run(job).then(
    (result) => parentPort!.postMessage({ result }, [result.latencies.buffer as ArrayBuffer]),
    (err: Error) => parentPort!.postMessage({ error: err.stack ?? String(err) }),
  );
});
