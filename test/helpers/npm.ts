// Runs the real npm CLI (the pinned npm 11 or npm 12) with an isolated HOME, userconfig, globalconfig
// and cache, and an environment stripped of the npm_* variables `npm test` itself sets.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { TestServer } from './server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const NPM_MAJORS = [11, 12] as const;
export type NpmMajor = (typeof NPM_MAJORS)[number];

export type NpmResult = { code: number; stdout: string; stderr: string; output: string };

/** A prompt to wait for, and the reply: a string, or computed from everything printed so far. */
export type Answer = [RegExp, string | ((output: string) => string)];

export type RunOpts = {
  cwd?: string;
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
  onStdout?: (chunk: string) => void;
};

export type NpmEnv = {
  home: string;
  userconfig: string;
  major: NpmMajor;
  run(args: string[], opts?: RunOpts): Promise<NpmResult>;
  /** Runs npm inside a pseudo-terminal (util-linux `script`), answering prompts as they appear. */
  runTty(args: string[], answers: Answer[], opts?: RunOpts): Promise<NpmResult>;
  setToken(host: string, token: string): void;
  npmrc(): string;
};

export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      v === undefined ||
      /^npm_/i.test(k) ||
      k === 'NODE_OPTIONS' ||
      k === 'INIT_CWD' ||
      k === 'CI' ||
      /^(GITHUB|GITLAB|CIRCLE)/.test(k)
    )
      continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export function makeNpm(registry: string, major: NpmMajor = 11): NpmEnv {
  const home = mkdtempSync(join(tmpdir(), `tessera-npm${major}-`));
  const userconfig = join(home, '.npmrc');
  const globalconfig = join(home, 'global-npmrc');
  writeFileSync(userconfig, `registry=${registry}\n`);
  writeFileSync(globalconfig, '');
  mkdirSync(join(home, 'cache'));
  const cli = join(ROOT, 'node_modules', `npm${major}`, 'bin', 'npm-cli.js');
  return {
    home,
    userconfig,
    major,
    setToken(host, token) {
      writeFileSync(userconfig, `${readFileSync(userconfig, 'utf8')}//${host}/:_authToken=${token}\n`);
    },
    npmrc: () => readFileSync(userconfig, 'utf8'),
    run(args, opts = {}) {
      return spawnClient([cli, ...args], env(opts), home, opts);
    },
    runTty(args, answers, opts = {}) {
      return spawnClient(inTty(home, [cli, ...args]), env(opts), home, opts, answers);
    },
  };

  function env(opts: RunOpts): Record<string, string> {
    return cleanEnv({
      HOME: home,
      npm_config_userconfig: userconfig,
      npm_config_globalconfig: globalconfig,
      npm_config_cache: join(home, 'cache'),
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      npm_config_fetch_retries: '0',
      npm_config_loglevel: 'notice',
      NO_COLOR: '1',
      ...opts.env,
    });
  }
}

/** The environment npm (and the doctor, which reads npm's config) run in over a scratch folder `root`: its own
 *  HOME (root/home), an empty global npmrc and a cache; no retries, no update notice, no colours. */
export function scratchEnv(root: string, extra: Record<string, string> = {}): Record<string, string> {
  mkdirSync(join(root, 'home'), { recursive: true });
  writeFileSync(join(root, 'global-npmrc'), '');
  return cleanEnv({
    HOME: join(root, 'home'),
    PREFIX: join(root, 'prefix'),
    npm_config_globalconfig: join(root, 'global-npmrc'),
    npm_config_cache: join(root, 'cache'),
    npm_config_fetch_retries: '0',
    npm_config_update_notifier: 'false',
    NO_COLOR: '1',
    ...extra,
  });
}

/** `script` arguments that run node with `argv` in a pseudo-terminal (stdin and stdout are TTYs). */
export function inTty(home: string, argv: string[]): string[] {
  const file = join(home, `tty-${Date.now()}.sh`);
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  writeFileSync(file, `exec ${[process.execPath, ...argv].map(quote).join(' ')}\n`);
  return ['script', '-qefc', `sh ${quote(file)}`, '/dev/null'];
}

/** Runs node with `argv` (or `script`, when inTty made `argv`) in `env`, answering each prompt in `answers`
 *  as it shows up; killed after `opts.timeoutMs` (30 s). */
export function spawnClient(
  argv: string[],
  env: Record<string, string>,
  home: string,
  opts: RunOpts,
  answers: Answer[] = [],
): Promise<NpmResult> {
  return new Promise((resolve, reject) => {
    const [command, args] = argv[0] === 'script' ? [argv[0], argv.slice(1)] : [process.execPath, argv];
    const child = spawn(command, args, { cwd: opts.cwd ?? home, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '',
      output = '';
    const pending = [...answers];
    let seen = 0;
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
      output += c;
      opts.onStdout?.(c.toString());
      // Answer each prompt once, in order, as soon as it shows up after the previous answer.
      while (pending.length && pending[0][0].test(stdout.slice(seen))) {
        const [re, reply] = pending.shift()!;
        seen += stdout.slice(seen).search(re) + 1;
        child.stdin.write(`${typeof reply === 'function' ? reply(stdout) : reply}\r`);
      }
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
      output += c;
    });
    child.on('error', reject);
    // A client waiting on a prompt or a dead socket must fail the test, not hang the suite.
    const ms = opts.timeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      output += `\n[killed after ${ms / 1000} s]`;
      child.kill('SIGKILL');
    }, ms);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, output });
    });
    if (answers.length === 0) child.stdin.end(opts.input ?? '');
  });
}

/** Each of `names` made a user of `s` (the test password), with an npm of its own logged in by a session token
 *  (of `expiresInMs`, else the server's default); the npms and the tokens, by name. */
export async function npmUsers(
  s: TestServer,
  names: string[],
  o: { expiresInMs?: number } = {},
): Promise<{ npm: Record<string, NpmEnv>; token: Record<string, string> }> {
  const npm: Record<string, NpmEnv> = {};
  const token: Record<string, string> = {};
  for (const name of names) {
    await s.addUser(name);
    npm[name] = makeNpm(s.url);
    token[name] = await s.token({ user: name, ...o });
    npm[name].setToken(s.host, token[name]);
  }
  return { npm, token };
}

/** A publishable package folder. */
export function makePackage(name: string, version: string, extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pkg-'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      { name, version, description: `${name} for tests`, main: 'index.js', license: 'MIT', ...extra },
      null,
      2,
    ),
  );
  writeFileSync(join(dir, 'index.js'), `module.exports = ${JSON.stringify(`${name}@${version}`)};\n`);
  writeFileSync(join(dir, 'README.md'), `# ${name}\n\nA test package.\n`);
  return dir;
}

/** An empty project folder to install into. */
export function makeProject(deps: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-proj-'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, dependencies: deps }, null, 2),
  );
  return dir;
}
