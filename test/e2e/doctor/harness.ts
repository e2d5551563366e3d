// Shared by the doctor's end-to-end tests: copy a fixture to a scratch dir and run the real binary on it.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../../..');
export const FIXTURES = join(REPO, 'test/fixtures/doctor');
const NODE = join(REPO, 'node_modules/.bin/node');
const BIN = join(REPO, 'bin/tessera.js');

const require = createRequire(import.meta.url);
export const DEFAULT_REGISTRY: string = require('@npmcli/config/lib/definitions').definitions.registry.default;

export interface Prepared {
  root: string;
  cwd: string;
  home: string;
  env: Record<string, string>;
  case: any;
}

function substitute(dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== '.git') substitute(p);
      continue;
    }
    const text = readFileSync(p);
    if (!text.includes('{{')) continue;
    writeFileSync(
      p,
      text
        .toString('utf8')
        .replaceAll('{{DEFAULT_REGISTRY_HOST}}', new URL(DEFAULT_REGISTRY).host)
        .replaceAll('{{DEFAULT_REGISTRY}}', DEFAULT_REGISTRY),
    );
  }
}

/** A scratch copy of fixture `name` with an isolated HOME, global prefix and environment. */
export function prepare(name: string, extraEnv: Record<string, string> = {}): Prepared {
  const root = mkdtempSync(join(tmpdir(), `doctor-${name}-`));
  cpSync(join(FIXTURES, name), root, { recursive: true });
  substitute(root);
  const c = JSON.parse(readFileSync(join(root, 'case.json'), 'utf8'));
  const home = join(root, 'home');
  mkdirSync(home, { recursive: true });
  mkdirSync(join(root, 'prefix/etc'), { recursive: true });
  const cwd = join(root, c.cwd ?? 'project');
  mkdirSync(cwd, { recursive: true });
  if (c.git) {
    const g = (...a: string[]) => execFileSync('git', a, { cwd, stdio: 'ignore' });
    g('init', '-q');
    g('add', ...c.git);
    g('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'fixture');
  }
  const env: Record<string, string> = {
    PATH: '/usr/bin:/bin',
    HOME: home,
    PREFIX: join(root, 'prefix'),
    NO_COLOR: '1',
    ...extraEnv,
  };
  for (const [k, v] of Object.entries<string>(c.env ?? {})) env[k] = v.replaceAll('$ROOT', root);
  return { root, cwd, home, env, case: c };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function tessera(
  args: string[],
  opts: { cwd: string; env: Record<string, string>; input?: string },
): Promise<RunResult> {
  return new Promise((done, fail) => {
    const child = spawn(NODE, [BIN, ...args], { cwd: opts.cwd, env: opts.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** Run tasks with at most `n` in flight (the CI machine has two cores). */
export async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}
