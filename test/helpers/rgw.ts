// A throwaway single-node Ceph cluster with its S3 gateway (Debian's ceph-mon, ceph-osd and radosgw; .ci/run
// installs them): one monitor, one OSD keeping objects in memory, and radosgw, on free loopback ports in a
// temporary folder. Settings and their reasons: ../shared/reference/ci-services.md. It starts in a few
// seconds; share one per test file. Only the processes started here are ever killed.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { Config } from '../../src/config/config.ts';
import { s3Client } from '../../src/store/blobs/s3.ts';
import { freePort } from './ports.ts';

const run = promisify(execFile);

export const RGW_ACCESS_KEY = 'TESSERATESTACCESSKEY';
export const RGW_SECRET_KEY = 'tessera-test-secret-key-0123456789abcdef';

export type Rgw = {
  endpoint: string; // http://127.0.0.1:PORT
  accessKeyId: string;
  secretAccessKey: string;
  /** Kills the gateway only (the store behind it stays): what readiness sees when S3 is down. */
  stopGateway(): Promise<void>;
  stop(): Promise<void>;
  /** Lets the test process exit while the cluster runs (killNow() then stops it, from an exit handler). */
  detach(): void;
  killNow(): void;
};

/** radosgw binds with SO_REUSEPORT, so a taken port would not make it fail: take only ports nobody answers on. */
async function unusedPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    const answered = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.on('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (!answered) return port;
  }
}

function conf(dir: string, fsid: string, monPort: number, rgwPort: number): string {
  return `[global]
fsid = ${fsid}
mon host = [v2:127.0.0.1:${monPort}]
ms bind msgr1 = false
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
paxos propose interval = 0.05
paxos min wait = 0.01
mon data avail warn = 1
mon data avail crit = 0
osd crush chooseleaf type = 0
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
pid file = ${dir}/run/$name.pid
[mon.a]
mon data = ${dir}/mon
[osd.0]
osd data = ${dir}/osd
osd objectstore = memstore
memstore device bytes = 536870912
[client.rgw]
rgw data = ${dir}/rgw
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
ms mon client mode = crc
`;
}

export async function startRgw(): Promise<Rgw> {
  for (const bin of ['/usr/bin/ceph-mon', '/usr/bin/ceph-osd', '/usr/bin/radosgw']) {
    if (!existsSync(bin)) {
      throw new Error(`${bin} is missing: apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw`);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'tessera-rgw-'));
  for (const d of ['run', 'log', 'mon', 'osd', 'rgw']) mkdirSync(join(dir, d));
  const fsid = randomUUID();
  const monPort = await unusedPort();
  const rgwPort = await unusedPort();
  const cfg = join(dir, 'ceph.conf');
  writeFileSync(cfg, conf(dir, fsid, monPort, rgwPort));
  const children: ChildProcess[] = [];
  const daemon = (bin: string, args: string[]) => {
    // -f keeps each daemon in the foreground: the child is the daemon, and killing it stops it.
    const child = spawn(bin, ['-f', '-c', cfg, ...args], { stdio: 'ignore' });
    children.push(child);
    return child;
  };
  const ceph = async (...args: string[]) => (await run('ceph', ['-c', cfg, ...args], { timeout: 20_000 })).stdout;
  const kill = async (child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  };
  const stop = async () => {
    for (const child of [...children].reverse()) await kill(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const monmap = join(dir, 'monmap');
    await run('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, monmap]);
    await run('ceph-mon', ['-c', cfg, '--mkfs', '-i', 'a', '--monmap', monmap]);
    daemon('ceph-mon', ['-i', 'a']);
    const osdUuid = randomUUID();
    const id = (await ceph('osd', 'new', osdUuid)).trim();
    await run('ceph-osd', ['-c', cfg, '-i', id, '--mkfs', '--osd-uuid', osdUuid]);
    daemon('ceph-osd', ['-i', id]);
    const up = async () => JSON.parse(await ceph('osd', 'stat', '-f', 'json')).num_up_osds === 1;
    await until(up, 'the OSD to come up');
    // Also makes the realm, zone and pools.
    await run(
      'radosgw-admin',
      [
        '-c',
        cfg,
        'user',
        'create',
        '--uid',
        'tessera',
        '--display-name',
        'Tessera tests',
        '--access-key',
        RGW_ACCESS_KEY,
        '--secret',
        RGW_SECRET_KEY,
      ],
      { timeout: 60_000 },
    );
    const gateway = daemon('radosgw', ['-n', 'client.rgw']);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    // The answer must come from RGW itself, not from whatever else might hold the port.
    await until(async () => {
      if (gateway.exitCode !== null) throw new Error(`radosgw exited (logs in ${dir}/log)`);
      const res = await fetch(`${endpoint}/`).catch(() => undefined);
      return res !== undefined && (await res.text()).includes('ListAllMyBucketsResult');
    }, 'radosgw to answer');
    return {
      endpoint,
      accessKeyId: RGW_ACCESS_KEY,
      secretAccessKey: RGW_SECRET_KEY,
      stopGateway: () => kill(gateway),
      stop,
      detach: () => {
        for (const c of children) c.unref();
      },
      killNow: () => {
        for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    if (process.env.TESSERA_KEEP_TEST_DATA) for (const c of children) c.kill('SIGKILL');
    else await stop();
    throw e;
  }
}

async function until(test: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (
    !(await test().catch((e) => {
      if (/exited/.test(String(e))) throw e;
      return false;
    }))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let shared: Promise<Rgw> | undefined;

/** One cluster for the whole test process (a test file), started on first use and killed when it exits; or
 *  the one the global setup started for the whole run (TESSERA_TEST_RGW), which it stops itself. */
export function sharedRgw(): Promise<Rgw> {
  const given = process.env.TESSERA_TEST_RGW;
  if (given) shared ??= Promise.resolve(givenRgw(JSON.parse(given)));
  shared ??= startRgw().then((rgw) => {
    rgw.detach();
    process.once('exit', () => rgw.killNow());
    return rgw;
  });
  return shared;
}

function givenRgw(r: Pick<Rgw, 'endpoint' | 'accessKeyId' | 'secretAccessKey'>): Rgw {
  const notOurs = () => {
    throw new Error('the global setup owns this RGW: start your own (startRgw) to stop it');
  };
  return { ...r, stopGateway: async () => notOurs(), stop: async () => notOurs(), detach() {}, killNow() {} };
}

/** A fresh bucket on `rgw`, and the config that stores blobs in it. */
export async function s3BlobsConfig(rgw: Rgw, redirect = false): Promise<Pick<Config, 'blobs' | 's3'>> {
  const bucket = `tessera-${randomUUID().slice(0, 8)}`;
  const s3 = {
    endpoint: rgw.endpoint,
    region: 'us-east-1',
    accessKeyId: rgw.accessKeyId,
    secretAccessKey: rgw.secretAccessKey,
    forcePathStyle: true,
    redirect,
    redirectExpiryMs: 60_000,
  };
  const client = s3Client({ ...s3, bucket, prefix: '', redirectExpirySeconds: null });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  return { blobs: `s3://${bucket}/blobs`, s3 };
}
