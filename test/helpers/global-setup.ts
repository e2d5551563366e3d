// `node --test --test-global-setup=test/helpers/global-setup.ts`: with TESSERA_TEST_BACKEND=cluster, starts
// ONE PostgreSQL cluster and ONE Ceph RGW for the whole run, before any test file, and stops them after the
// last. The test files' processes inherit the environment set here (checked on Node 24), so startServer
// finds them through TESSERA_TEST_POSTGRES and TESSERA_TEST_RGW instead of starting its own.
import { startPostgres, type Postgres } from './postgres.ts';
import { startRgw, type Rgw } from './rgw.ts';

let postgres: Postgres | undefined;
let rgw: Rgw | undefined;

export async function globalSetup(): Promise<void> {
  if (process.env.TESSERA_TEST_BACKEND !== 'cluster') return;
  [postgres, rgw] = await Promise.all([startPostgres(), startRgw()]);
  process.env.TESSERA_TEST_POSTGRES = postgres.url;
  process.env.TESSERA_TEST_RGW = JSON.stringify({
    endpoint: rgw.endpoint,
    accessKeyId: rgw.accessKeyId,
    secretAccessKey: rgw.secretAccessKey,
  });
  // Should the runner die without its teardown, the servers die with it.
  process.once('exit', () => {
    postgres?.stop();
    rgw?.killNow();
  });
}

export async function globalTeardown(): Promise<void> {
  postgres?.stop();
  postgres = undefined;
  await rgw?.stop();
  rgw = undefined;
}
