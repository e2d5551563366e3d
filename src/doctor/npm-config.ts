// npm's configuration, loaded by npm's own loader (@npmcli/config), plus the file and line of every value.
import { createRequire } from 'node:module';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { parseIniLines, detectEncoding } from './ini-lines.ts';
import type { Encoding, IniEntry, IniFile } from './ini-lines.ts';

const require = createRequire(import.meta.url);

/** `pnpm-auth`: pnpm 11's auth.ini, laid in for pnpm projects (pnpm-auth.ts). */
export type Where = 'default' | 'builtin' | 'global' | 'user' | 'pnpm-auth' | 'project' | 'env' | 'cli';
export const FILE_LAYERS = ['project', 'user', 'global', 'builtin'] as const;
export type FileWhere = (typeof FILE_LAYERS)[number] | 'pnpm-auth';

/** Where one value came from. `line` is 0 for env/cli/default. */
export interface Origin {
  where: Where;
  file: string;
  line: number;
  /** The ini entry for file layers (raw text before env expansion). */
  entry?: IniEntry;
  /** The environment variable name for the env layer. */
  envName?: string;
}

export interface FileLayer {
  where: FileWhere;
  file: string;
  exists: boolean;
  /** Why npm did not read it (global mode, same as user config), if so. */
  skipped?: string;
  readError?: string;
  parsed?: IniFile;
  encoding?: Encoding;
  /** Expanded key → entries (last one wins; arrays keep all). */
  byKey: Map<string, IniEntry[]>;
}

export interface NpmLog {
  level: string;
  message: string;
  args: string[];
}

interface NpmcliConfig {
  get(key: string, where?: Where): unknown;
  find(key: string): Where | null;
  data: Map<Where, { data: Record<string, unknown>; source: string | null; loadError?: unknown }>;
  localPrefix: string;
  globalPrefix: string;
  home: string;
  localPackage: boolean;
  load(): Promise<void>;
}

export interface NpmConfig {
  get(key: string): unknown;
  getString(key: string): string | undefined;
  find(key: string): Where | null;
  /** Where the effective value of `key` comes from. */
  origin(key: string): Origin | undefined;
  /** Every layer that sets `key`, highest priority first. */
  origins(key: string): Origin[];
  /** Every key set in a non-default layer, highest priority first (duplicates across layers kept once). */
  keys(): string[];
  /** Keys set in one layer. */
  keysIn(where: Where): string[];
  layers: FileLayer[];
  logs: NpmLog[];
  env: Record<string, string | undefined>;
  cwd: string;
  home: string;
  localPrefix: string;
  globalPrefix: string;
  defaultRegistry: string;
  raw: NpmcliConfig;
}

export interface LoadOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  /** npm command-line flags, e.g. ['--registry=https://…/']. */
  argv?: string[];
  /** npm's install directory (holds the builtin `npmrc`); found on PATH when omitted. */
  npmPath?: string;
  /** The node binary npm runs under (decides the global prefix); found on PATH when omitted. */
  execPath?: string;
}

function findOnPath(name: string, env: Record<string, string | undefined>): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.includes('node_modules/.bin')) continue;
    const p = join(dir, name);
    try {
      if (statSync(p).isFile()) return realpathSync(p);
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** npm's install dir, from the `npm` on PATH (…/npm/bin/npm-cli.js → …/npm). */
export function findNpmPath(env: Record<string, string | undefined>): string {
  const bin = findOnPath('npm', env);
  return bin ? dirname(dirname(bin)) : join(dirname(dirname(process.execPath)), 'lib/node_modules/npm');
}

function envKey(name: string): string {
  let key = name.slice('npm_config_'.length);
  if (!key.startsWith('//')) key = key.replace(/(?!^)_/g, '-').toLowerCase();
  return key;
}

export async function loadNpmConfig(opts: LoadOptions): Promise<NpmConfig> {
  const Config = require('@npmcli/config') as new (o: object) => NpmcliConfig;
  const defs = require('@npmcli/config/lib/definitions') as {
    definitions: Record<string, { default: unknown }>;
    shorthands: object;
    flatten: object;
    nerfDarts: string[];
  };
  const envReplace = require('@npmcli/config/lib/env-replace.js') as (s: string, env: object) => string;
  // A copy: the loader writes npm_config_* back into the env it is given (setEnvs).
  const env = { ...opts.env };
  const npmPath = opts.npmPath ?? findNpmPath(opts.env);
  const execPath = opts.execPath ?? findOnPath('node', opts.env) ?? process.execPath;
  const config = new Config({
    definitions: defs.definitions,
    shorthands: defs.shorthands,
    flatten: defs.flatten,
    nerfDarts: defs.nerfDarts,
    npmPath,
    env,
    argv: ['node', 'npm', ...(opts.argv ?? [])],
    cwd: opts.cwd,
    execPath,
    platform: process.platform,
    warn: true,
  });
  const logs: NpmLog[] = [];
  const onLog = (level: string, ...args: unknown[]) => {
    if (level !== 'silly' && level !== 'timing')
      logs.push({ level, message: args.map(String).join(' '), args: args.map(String) });
  };
  process.on('log', onLog);
  try {
    await config.load();
  } finally {
    process.off('log', onLog);
  }

  const layers: FileLayer[] = [];
  for (const where of FILE_LAYERS) {
    const d = config.data.get(where)!;
    const source = d.source ?? '';
    const layer: FileLayer = { where, file: source, exists: false, byKey: new Map() };
    if (source.startsWith('(')) {
      layer.skipped = source;
      layer.file = where === 'project' ? join(config.localPrefix, '.npmrc') : source;
    } else {
      try {
        const buf = readFileSync(source);
        layer.exists = true;
        layer.encoding = detectEncoding(buf);
        layer.parsed = parseIniLines(buf.toString('utf8'), layer.encoding);
        for (const e of layer.parsed.entries) {
          if (e.section !== null) continue;
          const k = envReplace(e.key, env);
          const list = layer.byKey.get(k);
          if (list && e.isArray) list.push(e);
          else layer.byKey.set(k, [e]);
        }
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') layer.readError = code ?? String(err);
      }
    }
    layers.push(layer);
  }

  const envNames = new Map<string, string>();
  for (const [name, value] of Object.entries(opts.env)) {
    if (/^npm_config_/i.test(name) && value !== '' && value !== undefined) envNames.set(envKey(name), name);
  }

  const originIn = (key: string, where: Where): Origin => {
    if (where === 'env') {
      const name = envNames.get(key) ?? `npm_config_${key}`;
      return { where, file: `environment variable ${name}`, line: 0, envName: name };
    }
    if (where === 'cli') return { where, file: 'command line', line: 0 };
    if (where === 'default') return { where, file: 'npm defaults', line: 0 };
    const layer = layers.find((l) => l.where === where);
    const entries = layer?.byKey.get(key);
    const entry = entries?.[entries.length - 1];
    return { where, file: layer?.file ?? where, line: entry?.line ?? 0, entry };
  };

  const order: Where[] = ['cli', 'env', 'project', 'user', 'global', 'builtin', 'default'];
  const has = (where: Where, key: string) => Object.hasOwn(config.data.get(where)!.data, key);

  return {
    get: (key) => config.get(key),
    getString: (key) => {
      const v = config.get(key);
      return typeof v === 'string' ? v : undefined;
    },
    find: (key) => config.find(key),
    origin(key) {
      const where = config.find(key);
      return where ? originIn(key, where) : undefined;
    },
    origins: (key) => order.filter((w) => has(w, key)).map((w) => originIn(key, w)),
    keys() {
      const seen = new Set<string>();
      for (const w of order) if (w !== 'default') for (const k of Object.keys(config.data.get(w)!.data)) seen.add(k);
      return [...seen];
    },
    keysIn: (where) => Object.keys(config.data.get(where)!.data),
    layers,
    logs,
    env: opts.env,
    cwd: opts.cwd,
    home: config.home,
    localPrefix: config.localPrefix,
    globalPrefix: config.globalPrefix,
    defaultRegistry: String(defs.definitions.registry.default),
    raw: config,
  };
}

/**
 * The hosts npm reaches without a proxy, as @npmcli/agent reads them: npm's `noproxy` (default ''), else the
 * NO_PROXY variable in any letter case (the last one set wins); `from` names the variable when it decides.
 */
export function noProxyList(cfg: Pick<NpmConfig, 'get' | 'env'>): { list: string[]; from?: string } {
  const configured = cfg.get('noproxy');
  let value = Array.isArray(configured) ? configured.join(',') : String(configured ?? '');
  let from: string | undefined;
  if (!value) {
    for (const [k, v] of Object.entries(cfg.env)) if (k.toLowerCase() === 'no_proxy') [from, value] = [k, v ?? ''];
    if (!value) from = undefined;
  }
  return {
    list: value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    from,
  };
}

/** A file layer's path for messages: `~/.npmrc` style when under home. */
export function displayPath(file: string, home: string): string {
  return home && file.startsWith(home + '/') ? '~' + file.slice(home.length) : file;
}
