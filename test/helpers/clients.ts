// Runs the real pnpm and Yarn Berry clients (the pinned devDependencies `pnpm` and `@yarnpkg/cli-dist`)
// the way npm.ts runs npm: an isolated HOME, their own store/cache folders in a temporary directory, and
// an environment stripped of the npm_*, pnpm_*, YARN_* and COREPACK_* variables `npm test` or the machine
// may set, so nothing reads the developer's configuration and nothing downloads anything.
//
// pnpm is pinned to 11, the last major that is plain JavaScript: pnpm 12 is a native executable whose
// per-platform packages make `npm ci` fail wherever the registry lacks one of them. Both pnpm and Yarn
// (one bundled JavaScript file) run with process.execPath.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, inTty, spawnClient, type Answer, type NpmResult, type RunOpts } from './npm.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PNPM_CLI = join(ROOT, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');
const YARN_CLI = join(ROOT, 'node_modules', '@yarnpkg', 'cli-dist', 'bin', 'yarn.js');

export type ClientResult = NpmResult;

export type ClientEnv = {
  /** The isolated HOME; stores and caches live under it. */
  home: string;
  run(args: string[], opts?: RunOpts): Promise<ClientResult>;
  /** Runs the client inside a pseudo-terminal (util-linux `script`), answering its prompts as they appear. */
  runTty(args: string[], answers: Answer[], opts?: RunOpts): Promise<ClientResult>;
};

/** The environment both clients start from: no inherited client configuration, Node 24 first on PATH. */
function baseEnv(home: string): Record<string, string> {
  const env = cleanEnv();
  for (const k of Object.keys(env)) {
    if (/^(npm|pnpm|yarn|corepack|berry)_/i.test(k) || k === 'PNPM_HOME' || k === 'FORCE_COLOR') delete env[k];
  }
  // Lifecycle scripts and `node` shims resolve `node` from PATH: make that the pinned Node 24, not the machine's.
  env.PATH = [dirname(process.execPath), env.PATH ?? ''].join(delimiter);
  return {
    ...env,
    HOME: home,
    USERPROFILE: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    NO_COLOR: '1',
    // Corepack must never step in, pin or fetch a package manager.
    COREPACK_ENABLE_STRICT: '0',
    COREPACK_ENABLE_AUTO_PIN: '0',
    COREPACK_ENABLE_DOWNLOAD_PROMPT: '0',
    COREPACK_ENABLE_NETWORK: '0',
    COREPACK_HOME: join(home, 'corepack'),
  };
}

export function makePnpm(): ClientEnv {
  const home = mkdtempSync(join(tmpdir(), 'tessera-pnpm-'));
  for (const d of ['store', 'cache', 'state', 'global', 'bin', '.config']) mkdirSync(join(home, d));
  // No global rc: registry and credentials come from each project's .npmrc.
  const env = {
    ...baseEnv(home),
    PNPM_HOME: join(home, 'bin'),
    pnpm_config_store_dir: join(home, 'store'),
    pnpm_config_cache_dir: join(home, 'cache'),
    pnpm_config_state_dir: join(home, 'state'),
    pnpm_config_global_dir: join(home, 'global'),
    pnpm_config_global_bin_dir: join(home, 'bin'),
    pnpm_config_update_notifier: 'false',
    pnpm_config_manage_package_manager_versions: 'false',
    pnpm_config_fetch_retries: '0',
    // Newer pnpm holds back versions younger than a day (minimumReleaseAge); these were just published.
    pnpm_config_minimum_release_age: '0',
    pnpm_config_color: 'never',
  };
  return {
    home,
    async run(args, opts = {}) {
      return spawnClient([PNPM_CLI, ...args], { ...env, ...opts.env }, home, opts);
    },
    runTty(args, answers, opts = {}) {
      return spawnClient(inTty(home, [PNPM_CLI, ...args]), { ...env, ...opts.env }, home, opts, answers);
    },
  };
}

export function makeYarn(): ClientEnv {
  const home = mkdtempSync(join(tmpdir(), 'tessera-yarn-'));
  mkdirSync(join(home, 'global'));
  mkdirSync(join(home, 'cache'));
  const env = {
    ...baseEnv(home),
    YARN_ENABLE_TELEMETRY: '0',
    YARN_ENABLE_GLOBAL_CACHE: '0',
    YARN_GLOBAL_FOLDER: join(home, 'global'),
    YARN_CACHE_FOLDER: join(home, 'cache'),
    YARN_ENABLE_MIRROR: '0',
    // Never hand over to another Yarn named by a `yarnPath`, and never insist on a frozen lockfile.
    YARN_IGNORE_PATH: '1',
    YARN_ENABLE_IMMUTABLE_INSTALLS: '0',
    YARN_ENABLE_COLORS: '0',
    YARN_ENABLE_HYPERLINKS: '0',
    YARN_ENABLE_PROGRESS_BARS: '0',
    YARN_HTTP_RETRY: '0',
  };
  return {
    home,
    run(args, opts = {}) {
      return spawnClient([YARN_CLI, ...args], { ...env, ...opts.env }, home, opts);
    },
    runTty(args, answers, opts = {}) {
      return spawnClient(inTty(home, [YARN_CLI, ...args]), { ...env, ...opts.env }, home, opts, answers);
    },
  };
}

/** A project .npmrc for pnpm: the registry, and a token for it when given. */
export function writeNpmrc(dir: string, registry: string, token?: string): void {
  const host = new URL(registry).host;
  writeFileSync(join(dir, '.npmrc'), `registry=${registry}\n${token ? `//${host}/:_authToken=${token}\n` : ''}`);
}

/** A project .yarnrc.yml for Yarn Berry: the registry (plain http on loopback), a token, and the scope mapped to it. */
export function writeYarnrc(
  dir: string,
  registry: string,
  opts: { token?: string; scope?: string; linker?: 'node-modules' | 'pnp' } = {},
): void {
  const host = new URL(registry).hostname;
  const lines = [
    `npmRegistryServer: "${registry.replace(/\/$/, '')}"`,
    'unsafeHttpWhitelist:',
    `  - "${host}"`,
    `nodeLinker: ${opts.linker ?? 'node-modules'}`,
    // Yarn 4.18 quarantines versions younger than a day (`npmMinimalAgeGate`, default 1d, also per scope):
    // these were just published.
    'npmMinimalAgeGate: 0',
  ];
  if (opts.token) lines.push(`npmAuthToken: "${opts.token}"`);
  if (opts.scope) {
    lines.push(
      'npmScopes:',
      `  ${opts.scope.replace(/^@/, '')}:`,
      `    npmRegistryServer: "${registry.replace(/\/$/, '')}"`,
      '    npmMinimalAgeGate: 0',
    );
    if (opts.token) lines.push(`    npmAuthToken: "${opts.token}"`);
  }
  writeFileSync(join(dir, '.yarnrc.yml'), `${lines.join('\n')}\n`);
}
