// Prometheus metrics (prom-client), kept only when `metrics.allow` lets someone read them. Labels are
// route families, reason ids, kinds and outcomes: never a package name, a user name or a token.
//
// The install path answers a request in a few tens of µs, and a prom-client observe() costs most of a µs
// (it hashes its labels each time). So requests are counted in series of plain numbers, one per label set,
// resolved once; prom-client formats them, with everything else, when /-/metrics is read.
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { Store } from '../store/store.ts';

const SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STORE_SECONDS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** One label set of the request histogram: observe() is a short loop and three additions. */
export class RequestSeries {
  readonly labels: Record<string, string>;
  readonly buckets = new Float64Array(SECONDS.length);
  count = 0;
  sum = 0;
  constructor(labels: Record<string, string>) {
    this.labels = labels;
  }
  observe(ms: number): void {
    const s = ms / 1000;
    this.count++;
    this.sum += s;
    for (let i = 0; i < SECONDS.length; i++)
      if (s <= SECONDS[i]) {
        this.buckets[i]++;
        return;
      }
  }
}

type Value = { value: number; labels: Record<string, string | number>; metricName?: string };

export class Metrics {
  readonly registry = new Registry();
  readonly #series = new Map<string, RequestSeries>();
  /** Install reads answered from memory (hit) or through the full route (miss). */
  readonly readCache = { hit: 0, miss: 0 };
  /** Token authentications that passed, by token kind: counted on the install path, so a plain number. */
  readonly tokensOk: Record<string, number> = {};
  /** Every other authentication ("kind outcome" → count): passwords, and credentials refused. */
  readonly #auth = new Map<string, number>();
  readonly refusals: Counter<'reason'>;
  readonly packageEvents: Counter<'event'>;
  readonly proxyRequests: Counter<'kind' | 'outcome'>;
  readonly proxyDuration: Histogram<'kind'>;
  readonly dbDuration: Histogram<'op'>;
  readonly blobDuration: Histogram<'op'>;
  readonly hookDeliveries: Counter<'outcome'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'tessera_' });
    this.registry.registerMetric(this.#requests() as never);
    this.registry.registerMetric(this.#requestCounts() as never);
    this.refusals = new Counter({
      name: 'tessera_refusals_total',
      help: 'Refusals sent, by reason id',
      labelNames: ['reason'],
      registers,
    });
    this.registry.registerMetric(this.#authentications() as never);
    this.packageEvents = new Counter({
      name: 'tessera_package_events_total',
      help: 'Publishes, unpublishes, dist-tag, deprecation, owner and stage events',
      labelNames: ['event'],
      registers,
    });
    this.proxyRequests = new Counter({
      name: 'tessera_proxy_requests_total',
      help: 'Reads of proxied packages: upstream fetches (ok, error) and cache hits',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.proxyDuration = new Histogram({
      name: 'tessera_proxy_upstream_duration_seconds',
      help: 'Time of requests to the upstream registry',
      labelNames: ['kind'],
      buckets: SECONDS,
      registers,
    });
    this.dbDuration = new Histogram({
      name: 'tessera_db_query_duration_seconds',
      help: 'Database statements, by operation',
      labelNames: ['op'],
      buckets: STORE_SECONDS,
      registers,
    });
    this.blobDuration = new Histogram({
      name: 'tessera_blob_operation_duration_seconds',
      help: 'Blob store operations',
      labelNames: ['op'],
      buckets: STORE_SECONDS,
      registers,
    });
    this.hookDeliveries = new Counter({
      name: 'tessera_hook_deliveries_total',
      help: 'Webhook delivery attempts, by outcome (delivered, retry, failed)',
      labelNames: ['outcome'],
      registers,
    });
    const cache = this.readCache;
    const cacheHelp = 'Install reads answered from memory (hit) or by the full route (miss)';
    this.registry.registerMetric({
      name: 'tessera_read_cache_requests_total',
      help: cacheHelp,
      type: 'counter',
      get: () => ({
        name: 'tessera_read_cache_requests_total',
        help: cacheHelp,
        type: 'counter',
        aggregator: 'sum',
        values: [
          { value: cache.hit, labels: { result: 'hit' } },
          { value: cache.miss, labels: { result: 'miss' } },
        ],
      }),
    } as never);
  }

  /** The three answers a read from memory can be (install-reads.ts writes 200, or 304 for packuments). */
  readonly #fromMemory = {
    packument200: this.series('packument', 'GET', 200),
    packument304: this.series('packument', 'GET', 304),
    tarball200: this.series('tarball', 'GET', 200),
  };

  /** Counts an install read answered from memory, `ms` after it arrived: the install path's only metrics work.
   *  No key, label or allocation: a counter and a pre-made series (about 5 ns without the two clock reads). */
  fromMemory(kind: 'packument' | 'tarball', status: number, ms: number): void {
    this.readCache.hit++;
    const m = this.#fromMemory;
    (kind === 'tarball' ? m.tarball200 : status === 304 ? m.packument304 : m.packument200).observe(ms);
  }

  /** The series for a label set, made once: hold on to it on hot paths. */
  series(family: string, method: string, status: number): RequestSeries {
    const key = `${family} ${method} ${status}`;
    let s = this.#series.get(key);
    if (!s) {
      s = new RequestSeries({ family, method, status: String(status) });
      this.#series.set(key, s);
    }
    return s;
  }

  #requests() {
    const all = this.#series;
    const name = 'tessera_http_request_duration_seconds';
    const help = 'Requests by route family, method and status, with their time to answer';
    return {
      name,
      help,
      type: 'histogram',
      get: () => {
        const values: Value[] = [];
        for (const s of all.values()) {
          if (s.count === 0) continue; // made in advance for the install path, not used yet
          let cumulative = 0;
          SECONDS.forEach((le, i) => {
            cumulative += s.buckets[i];
            values.push({ value: cumulative, labels: { ...s.labels, le }, metricName: `${name}_bucket` });
          });
          values.push({ value: s.count, labels: { ...s.labels, le: '+Inf' }, metricName: `${name}_bucket` });
          values.push({ value: s.sum, labels: s.labels, metricName: `${name}_sum` });
          values.push({ value: s.count, labels: s.labels, metricName: `${name}_count` });
        }
        return { name, help, type: 'histogram', aggregator: 'sum', values };
      },
    };
  }

  #requestCounts() {
    const all = this.#series;
    const name = 'tessera_http_requests_total';
    const help = 'Requests by route family, method and status';
    return {
      name,
      help,
      type: 'counter',
      get: () => ({
        name,
        help,
        type: 'counter',
        aggregator: 'sum',
        values: [...all.values()].filter((s) => s.count > 0).map((s) => ({ value: s.count, labels: s.labels })),
      }),
    };
  }

  /** A credential checked off the install path: `outcome` is `ok` or the refusal's reason id. */
  authenticated(kind: string, outcome: string): void {
    const key = `${kind} ${outcome}`;
    this.#auth.set(key, (this.#auth.get(key) ?? 0) + 1);
  }

  #authentications() {
    const name = 'tessera_authentications_total';
    const help = 'Credentials checked, by kind (token kind or password) and outcome (ok or the reason id)';
    return {
      name,
      help,
      type: 'counter',
      get: () => {
        const counts = new Map(this.#auth);
        for (const [kind, n] of Object.entries(this.tokensOk))
          counts.set(`${kind} ok`, (counts.get(`${kind} ok`) ?? 0) + n);
        const values = [...counts].map(([key, value]) => {
          const [kind, outcome] = key.split(' ');
          return { value, labels: { kind, outcome } };
        });
        return { name, help, type: 'counter', aggregator: 'sum', values };
      },
    };
  }
}

/** A histogram's child per `op`, made at its first use (ops are a handful of verbs). */
function children(h: Histogram<'op'>): (op: string) => ReturnType<Histogram<'op'>['labels']> {
  const made = new Map<string, ReturnType<Histogram<'op'>['labels']>>();
  return (op) => {
    let c = made.get(op);
    if (!c) {
      c = h.labels({ op });
      made.set(op, c);
    }
    return c;
  };
}

const all = new WeakMap<Store, Metrics>();

/** Starts collecting for this store's registry (once); metricsOf() answers undefined until then. */
export function enableMetrics(store: Store): Metrics {
  let m = all.get(store);
  if (!m) {
    m = new Metrics();
    all.set(store, m);
    const metrics = m;
    // The store reports its own timings; the op label is the statement's verb or the blob call. Each op's
    // child is looked up once: observe({ op }) would hash the label on every statement.
    const query = children(metrics.dbDuration);
    const blob = children(metrics.blobDuration);
    store.timings = {
      query: (op, ms) => query(op).observe(ms / 1000),
      blob: (op, ms) => blob(op).observe(ms / 1000),
    };
  }
  return m;
}

export function metricsOf(store: Store): Metrics | undefined {
  return all.get(store);
}
