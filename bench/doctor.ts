// The offline doctor, through the real binary, on a project with 1,000 lockfile entries and five .npmrc
// files (builtin, global, user, project, and an ignored parent-folder one), beside `node -e 0` measured
// in the same run. Goal: median under 300 ms wall time.
//   node_modules/.bin/node bench/doctor.ts        BENCH_RUNS=11
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const GOAL_MS = 300;
const REPO = resolve(import.meta.dirname, '..');
const NODE = join(REPO, 'node_modules/.bin/node');
const RUNS = Number(process.env.BENCH_RUNS ?? 11);
const ENTRIES = 1000;

function setup(): { root: string; cwd: string; env: Record<string, string> } {
  const root = mkdtempSync(join(tmpdir(), 'doctor-bench-'));
  const dirs = ['home', 'prefix/etc', 'npm/bin', 'bin', 'work/app'];
  for (const d of dirs) mkdirSync(join(root, d), { recursive: true });
  // A fake npm install on PATH, so the builtin npmrc is ours.
  writeFileSync(join(root, 'npm/bin/npm-cli.js'), '');
  writeFileSync(join(root, 'npm/package.json'), '{"name":"npm","version":"11.21.2"}');
  symlinkSync(join(root, 'npm/bin/npm-cli.js'), join(root, 'bin/npm'));
  writeFileSync(join(root, 'npm/npmrc'), 'fund=false\n');
  writeFileSync(join(root, 'prefix/etc/npmrc'), 'update-notifier=false\nstrict-ssl=true\n');
  writeFileSync(
    join(root, 'home/.npmrc'),
    [
      'registry=https://registry.example.com/',
      '//registry.example.com/:_authToken=${NPM_TOKEN}',
      '//npm.acme.example/:_authToken=${ACME_TOKEN}',
      'fetch-retries=3',
    ].join('\n') + '\n',
  );
  writeFileSync(join(root, 'work/.npmrc'), '@stray:registry=https://stray.example.com/\n');
  writeFileSync(join(root, 'work/app/.npmrc'), '@acme:registry=https://npm.acme.example/\nsave-exact=true\n');
  const deps: Record<string, string> = {};
  const packages: Record<string, object> = { '': { name: 'app', version: '1.0.0', dependencies: deps } };
  for (let i = 0; i < ENTRIES; i++) {
    const scoped = i % 10 === 0;
    const name = scoped ? `@acme/pkg-${i}` : `pkg-${i}`;
    const host = scoped ? 'npm.acme.example' : i % 97 === 0 ? 'old-mirror.example.com' : 'registry.example.com';
    if (i < 200) deps[name] = '^1.0.0';
    packages[`node_modules/${name}`] = {
      version: '1.0.0',
      resolved: `https://${host}/${name}/-/${name.replace(/^@acme\//, '')}-1.0.0.tgz`,
      integrity: `sha512-${Buffer.from(name).toString('base64')}`,
      license: 'MIT',
    };
  }
  writeFileSync(
    join(root, 'work/app/package.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', dependencies: deps }, null, 2),
  );
  writeFileSync(
    join(root, 'work/app/package-lock.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2),
  );
  return {
    root,
    cwd: join(root, 'work/app'),
    env: {
      PATH: `${join(root, 'bin')}:/usr/bin:/bin`,
      HOME: join(root, 'home'),
      PREFIX: join(root, 'prefix'),
      NPM_TOKEN: 'tsr_wl0oYSZlKNfelb9N5yXVVdOQ2nHrFW2dhEs3',
      ACME_TOKEN: 'tsr_ulYo9g3slY31crW3eeMvrVTCuSSDhM0AonnH',
    },
  };
}

function time(args: string[], cwd: string, env: Record<string, string>): number {
  const t = performance.now();
  const r = spawnSync(NODE, args, { cwd, env, encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0 && r.status !== 1) throw new Error(`exit ${r.status}: ${r.stderr}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function runDoctorBench(): { doctorMs: number; nodeMs: number; ok: boolean; findings: number } {
  const { root, cwd, env } = setup();
  try {
    const doctorArgs = [join(REPO, 'bin/tessera.js'), 'doctor', '--offline', '--json'];
    const check = spawnSync(NODE, doctorArgs, { cwd, env, encoding: 'utf8' });
    const report = JSON.parse(check.stdout);
    time(doctorArgs, cwd, env); // warm the file cache
    const doctor: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      bare.push(time(['-e', '0'], cwd, env));
      doctor.push(time(doctorArgs, cwd, env));
    }
    const doctorMs = median(doctor);
    return { doctorMs, nodeMs: median(bare), ok: doctorMs < GOAL_MS, findings: report.findings.length };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const r = runDoctorBench();
  console.log(`offline doctor, ${ENTRIES} lockfile entries, 5 .npmrc files, median of ${RUNS} runs`);
  console.log(`  tessera doctor --offline : ${r.doctorMs.toFixed(0)} ms (${r.findings} findings)`);
  console.log(`  node -e 0                : ${r.nodeMs.toFixed(0)} ms`);
  console.log(`  doctor − node start-up   : ${(r.doctorMs - r.nodeMs).toFixed(0)} ms`);
  console.log(`  goal < ${GOAL_MS} ms: ${r.ok ? 'met' : 'NOT met'}`);
  process.exitCode = r.ok ? 0 : 1;
}
