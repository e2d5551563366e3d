// pnpm 11's own credential file, where `pnpm login` writes: <pnpm config>/auth.ini. pnpm reads it on every
// command (config/reader loadNpmrcFiles.js), above ~/.npmrc (or the file `npmrcAuthFile` names) and below the
// project's .npmrc, the environment and the command line; values may use ${VAR}; an unscoped `_authToken` (and
// the other per-registry keys) there is pinned to the file's `registry`, else the default one. The doctor lays
// it into npm's configuration as one more file layer, so the registry table, the credential rules and the
// probes see it as pnpm does, with its file and line (the secret itself is never printed).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nerfDart } from './credentials.ts';
import { detectEncoding, parseIniLines } from './ini-lines.ts';
import type { IniEntry } from './ini-lines.ts';
import type { FileLayer, NpmConfig, Origin, Where } from './npm-config.ts';

const require = createRequire(import.meta.url);

/** pnpm's getConfigDir: $XDG_CONFIG_HOME/pnpm, else per platform. */
export function pnpmConfigDir(env: Record<string, string | undefined>, home: string, platform = process.platform) {
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'pnpm');
  if (platform === 'darwin') return join(home, 'Library/Preferences/pnpm');
  if (platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'pnpm/config');
  return join(home, '.config/pnpm');
}

/** pnpm's keys that belong to one registry: unscoped in auth.ini, they are pinned to its registry. */
const PINNED = ['_authToken', '_auth', 'username', '_password', 'tokenHelper', 'cert', 'key'];
/** Layers that outrank auth.ini in pnpm. */
const ABOVE = new Set<Where>(['cli', 'env', 'project']);

/** npm's configuration with pnpm's auth.ini laid in where pnpm reads it (unchanged when there is none). */
export function withPnpmAuthIni(cfg: NpmConfig): NpmConfig {
  const file = join(pnpmConfigDir(cfg.env, cfg.home), 'auth.ini');
  const layer: FileLayer = { where: 'pnpm-auth', file, exists: false, byKey: new Map() };
  try {
    const buf = readFileSync(file);
    layer.exists = true;
    layer.encoding = detectEncoding(buf);
    layer.parsed = parseIniLines(buf.toString('utf8'), layer.encoding);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return cfg;
    layer.readError = code ?? String(err);
  }
  const envReplace = require('@npmcli/config/lib/env-replace.js') as (s: string, env: object) => string;
  const values = new Map<string, { value: string; entry: IniEntry }>();
  for (const e of layer.parsed?.entries ?? []) {
    if (e.section !== null || typeof e.value !== 'string') continue;
    const k = envReplace(e.key, cfg.env);
    layer.byKey.set(k, [e]);
    values.set(k, { value: envReplace(e.value, cfg.env), entry: e });
  }
  const registry = values.get('registry')?.value ?? cfg.defaultRegistry;
  for (const key of PINNED) {
    const v = values.get(key);
    if (!v) continue;
    values.delete(key);
    try {
      const pinned = `${nerfDart(registry.endsWith('/') ? registry : `${registry}/`)}:${key}`;
      if (!values.has(pinned)) values.set(pinned, v);
    } catch {
      /* no registry to pin it to: pnpm drops it */
    }
  }

  const ours = (key: string) => {
    const w = cfg.find(key);
    return !(w && ABOVE.has(w)) && values.has(key);
  };
  const originOf = (key: string): Origin => {
    const { entry } = values.get(key)!;
    return { where: 'pnpm-auth', file, line: entry.line, entry };
  };
  const layers = [...cfg.layers];
  layers.splice(layers.findIndex((l) => l.where === 'project') + 1, 0, layer);
  return {
    ...cfg,
    get: (key) => (ours(key) ? values.get(key)!.value : cfg.get(key)),
    getString: (key) => (ours(key) ? values.get(key)!.value : cfg.getString(key)),
    find: (key) => (ours(key) ? 'pnpm-auth' : cfg.find(key)),
    origin: (key) => (ours(key) ? originOf(key) : cfg.origin(key)),
    origins(key) {
      const list = cfg.origins(key);
      if (!values.has(key)) return list;
      const at = list.findIndex((o) => !ABOVE.has(o.where));
      return [...list.slice(0, at < 0 ? list.length : at), originOf(key), ...(at < 0 ? [] : list.slice(at))];
    },
    keys: () => [...new Set([...cfg.keys(), ...values.keys()])],
    keysIn: (where) => (where === 'pnpm-auth' ? [...values.keys()] : cfg.keysIn(where)),
    layers,
  };
}
