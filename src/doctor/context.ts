// Everything the rules look at, gathered once: npm config, the project's manifest and lockfile, git, client.
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { loadNpmConfig } from './npm-config.ts';
import { withPnpmAuthIni } from './pnpm-auth.ts';
import type { NpmConfig } from './npm-config.ts';
import {
  credentialForRegistry,
  credentialForRequest,
  packageName,
  packumentUrl,
  registryForSpec,
} from './credentials.ts';
import type { Credential } from './credentials.ts';

const require = createRequire(import.meta.url);

export type Client = 'npm' | 'pnpm' | 'yarn';

export interface DoctorOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  offline: boolean;
  publish: boolean;
  /** --package SPEC */
  packages: string[];
  registry?: string;
  client?: Client;
  /** Extra npm flags (after `--`). */
  npmArgs?: string[];
  npmPath?: string;
  execPath?: string;
  /** Probe time box in ms. */
  timeout?: number;
  now?: Date;
}

export interface LockEntry {
  name: string;
  resolved: string;
  line: number;
}

export interface Target {
  /** Registry base URL as configured. */
  url: string;
  scopes: string[];
  /** Why it is a target: default registry, scope mapping, --package, publish. */
  roles: Set<'default' | 'scope' | 'package' | 'publish' | 'dependency'>;
  /** A package requested from it (for the sample request URL). */
  sample: string;
  /** Lookup A for a packument request. */
  credential: Credential;
  /** Lookup B (publish/whoami). */
  exact: Credential;
}

export interface DoctorContext {
  opts: DoctorOptions;
  cfg: NpmConfig;
  client: Client;
  clientVersion?: string;
  /** The package npm publishes from here: the workspace's when run inside one, else the project's. */
  pkg?: Record<string, any>;
  pkgPath?: string;
  /** The project root's package.json (packageManager, workspaces, the root's dependencies). */
  rootPkg?: Record<string, any>;
  lockfile?: { path: string; entries: LockEntry[] };
  targets: Target[];
  /** The registry `npm publish` would use. */
  publishRegistry?: string;
  /** The package the publish is for (package.json name). */
  publishName?: string;
  gitRoot?: string;
  isGitTracked(file: string): boolean;
  now: Date;
}

function readJson(file: string): Record<string, any> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export function readLockfile(dir: string): { path: string; entries: LockEntry[] } | undefined {
  for (const name of ['npm-shrinkwrap.json', 'package-lock.json']) {
    const path = join(dir, name);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    let lock: any;
    try {
      lock = JSON.parse(text);
    } catch {
      return { path, entries: [] };
    }
    const entries: LockEntry[] = [];
    // Entries appear in file order, so one moving cursor finds every line in a single pass.
    let cursor = 0;
    let line = 1;
    const add = (pkgName: string, resolved: unknown) => {
      if (typeof resolved !== 'string' || !/^https?:/.test(resolved)) return;
      const at = text.indexOf(JSON.stringify(resolved), cursor);
      if (at < 0) {
        entries.push({ name: pkgName, resolved, line: 0 });
        return;
      }
      for (let i = text.indexOf('\n', cursor); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) line++;
      cursor = at;
      entries.push({ name: pkgName, resolved, line });
    };
    if (lock.packages) {
      for (const [key, v] of Object.entries<any>(lock.packages)) {
        if (!key) continue;
        add(v.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length), v.resolved);
      }
    } else if (lock.dependencies) {
      const walk = (deps: Record<string, any>) => {
        for (const [n, v] of Object.entries(deps)) {
          add(n, v.resolved);
          if (v.dependencies) walk(v.dependencies);
        }
      };
      walk(lock.dependencies);
    }
    return { path, entries };
  }
  return undefined;
}

function detectClient(
  dir: string,
  pkg: Record<string, any> | undefined,
  forced?: Client,
): { client: Client; version?: string } {
  const pm = typeof pkg?.packageManager === 'string' ? /^(npm|pnpm|yarn)@([^+]+)/.exec(pkg.packageManager) : null;
  if (forced) return { client: forced, version: pm && pm[1] === forced ? pm[2] : undefined };
  if (pm) return { client: pm[1] as Client, version: pm[2] };
  if (existsSync(join(dir, 'pnpm-lock.yaml')) || existsSync(join(dir, 'pnpm-workspace.yaml')))
    return { client: 'pnpm' };
  if (existsSync(join(dir, '.yarnrc.yml')) || existsSync(join(dir, 'yarn.lock'))) return { client: 'yarn' };
  // A package inside a pnpm workspace: npm sees its own folder, pnpm the workspace root above it.
  for (let d = dirname(dir); d !== dirname(d); d = dirname(d)) {
    if (!existsSync(join(d, 'pnpm-workspace.yaml'))) continue;
    const root = readJson(join(d, 'package.json'));
    const rootPm = typeof root?.packageManager === 'string' ? /^pnpm@([^+]+)/.exec(root.packageManager) : null;
    return { client: 'pnpm', version: rootPm?.[1] };
  }
  return { client: 'npm' };
}

function gitRootOf(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, '.git'))) return d;
    if (dirname(d) === d) return undefined;
  }
}

function depNames(pkg: Record<string, any> | undefined): string[] {
  if (!pkg) return [];
  const names = new Set<string>();
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
    for (const n of Object.keys(pkg[field] ?? {})) names.add(n);
  }
  return [...names];
}

/** The one workspace `workspace` selects (npm sets it to the folder it runs in), by path or by name. */
async function selectedWorkspace(cfg: NpmConfig, rootPkg: Record<string, any>): Promise<string | undefined> {
  const filters = cfg.get('workspace');
  if (!Array.isArray(filters) || filters.length !== 1) return undefined;
  const filter = String(filters[0]);
  const dir = resolve(cfg.localPrefix, filter);
  if (dir !== cfg.localPrefix && existsSync(join(dir, 'package.json'))) return dir;
  try {
    // npm's own workspace mapper, as a dependency of @npmcli/config (not one of ours).
    const fromConfig = createRequire(require.resolve('@npmcli/config'));
    const mapWorkspaces = fromConfig('@npmcli/map-workspaces') as (o: object) => Promise<Map<string, string>>;
    return (await mapWorkspaces({ cwd: cfg.localPrefix, pkg: rootPkg })).get(filter);
  } catch {
    return undefined;
  }
}

export async function buildContext(opts: DoctorOptions): Promise<DoctorContext> {
  const argv = [...(opts.npmArgs ?? [])];
  if (opts.registry) argv.push(`--registry=${opts.registry}`);
  const npmCfg = await loadNpmConfig({
    cwd: opts.cwd,
    env: opts.env,
    argv,
    npmPath: opts.npmPath,
    execPath: opts.execPath,
  });
  const rootPkg = readJson(join(npmCfg.localPrefix, 'package.json'));
  // Run inside a workspace (or with one `-w`), npm publishes that workspace's package, not the root's.
  const wsDir = rootPkg?.workspaces ? await selectedWorkspace(npmCfg, rootPkg) : undefined;
  const pkgPath = join(wsDir ?? npmCfg.localPrefix, 'package.json');
  const pkg = wsDir ? readJson(pkgPath) : rootPkg;
  const { client, version } = detectClient(npmCfg.localPrefix, rootPkg, opts.client);
  // pnpm 11 (and a pnpm of unknown version, most likely the current one) also reads `pnpm login`'s auth.ini.
  const cfg = client === 'pnpm' && !(Number.parseInt(version ?? '', 10) < 11) ? withPnpmAuthIni(npmCfg) : npmCfg;
  const lockfile = readLockfile(cfg.localPrefix);
  const gitRoot = gitRootOf(cfg.localPrefix);
  const tracked = new Map<string, boolean>();

  const ctx: DoctorContext = {
    opts,
    cfg,
    client,
    clientVersion: version,
    pkg,
    pkgPath: pkg ? pkgPath : undefined,
    rootPkg,
    lockfile,
    targets: [],
    gitRoot,
    now: opts.now ?? new Date(),
    isGitTracked(file) {
      if (!gitRoot) return false;
      if (!tracked.has(file)) {
        let ok = false;
        try {
          execFileSync('git', ['ls-files', '--error-unmatch', relative(gitRoot, file)], {
            cwd: gitRoot,
            stdio: 'ignore',
          });
          ok = true;
        } catch {
          /* untracked, or no git */
        }
        tracked.set(file, ok);
      }
      return tracked.get(file)!;
    },
  };
  ctx.targets = computeTargets(ctx);
  return ctx;
}

function validUrl(u: string): boolean {
  try {
    const p = new URL(u);
    return p.protocol === 'http:' || p.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * The registry `npm publish` picks (npm-registry-fetch's pickRegistry over the config with publishConfig laid
 * on top, keys given on the command line excepted): the package's scope mapping first — even over
 * publishConfig.registry and --registry —, then the `scope` setting's mapping, then `registry`.
 */
function publishRegistry(cfg: NpmConfig, pkg: Record<string, any> | undefined, name: string | undefined): string {
  const pc = pkg?.publishConfig && typeof pkg.publishConfig === 'object' ? pkg.publishConfig : {};
  const onCli = new Set(cfg.keysIn('cli'));
  const get = (key: string): string | undefined =>
    !onCli.has(key) && typeof pc[key] === 'string' ? pc[key] : cfg.getString(key);
  const own = name?.startsWith('@') ? name.slice(0, name.indexOf('/')) : undefined;
  const scopeSetting = get('scope');
  const scope = scopeSetting && !scopeSetting.startsWith('@') ? `@${scopeSetting}` : scopeSetting;
  return (
    (own && get(`${own}:registry`)) || (scope && get(`${scope}:registry`)) || get('registry') || cfg.defaultRegistry
  );
}

function computeTargets(ctx: DoctorContext): Target[] {
  const { cfg, opts, pkg } = ctx;
  const byUrl = new Map<string, Target>();
  const add = (url: string, role: Target['roles'] extends Set<infer R> ? R : never, sample: string, scope?: string) => {
    if (!validUrl(url)) return;
    let t = byUrl.get(url);
    if (!t) {
      t = { url, scopes: [], roles: new Set(), sample, credential: { kind: 'none' }, exact: { kind: 'none' } };
      byUrl.set(url, t);
    }
    t.roles.add(role);
    if (scope && !t.scopes.includes(scope)) t.scopes.push(scope);
    if (role === 'package' || role === 'publish') t.sample = sample;
  };
  add(String(cfg.get('registry')), 'default', 'pkg');
  for (const key of cfg.keys()) {
    const m = /^(@[^:]+):registry$/.exec(key);
    if (m) add(String(cfg.get(key)), 'scope', `${m[1]}/pkg`, m[1]);
  }
  for (const name of new Set([...depNames(ctx.rootPkg), ...depNames(pkg)])) {
    const { registry, scope } = registryForSpec(cfg, name);
    if (scope && cfg.getString(`${scope}:registry`)) add(registry, 'dependency', name, scope);
  }
  for (const spec of opts.packages) {
    const { registry, scope } = registryForSpec(cfg, spec);
    add(registry, 'package', spec, scope && cfg.getString(`${scope}:registry`) ? scope : undefined);
  }
  if (opts.publish) {
    const name = typeof pkg?.name === 'string' ? pkg.name : undefined;
    ctx.publishName = name;
    const reg = publishRegistry(cfg, pkg, name);
    ctx.publishRegistry = reg;
    add(reg, 'publish', name ?? 'pkg');
  }
  for (const t of byUrl.values()) {
    const name = packageName(t.sample);
    t.credential = credentialForRequest(cfg, packumentUrl(t.url, name), name);
    t.exact = credentialForRegistry(cfg, t.url);
  }
  return [...byUrl.values()];
}
