// pnpm and Yarn Berry: the same files read by other rules (reference §5, §6).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { LineCounter, YAMLMap } from 'yaml';
import { makeFinding } from '../../domain/findings.ts';
import type { Finding } from '../../domain/findings.ts';
import type { DoctorContext } from '../context.ts';
import { credentialForRequest } from '../credentials.ts';
import { unexpandedRefs } from './values.ts';
import { effectiveCredentials, sourceOf, where } from './rule.ts';
import type { Rule } from './rule.ts';

function versionAtLeast(v: string | undefined, min: string): boolean | undefined {
  if (!v) return undefined;
  const a = v.split('.').map((x) => parseInt(x, 10));
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) > b[i];
  }
  return true;
}

export const pnpmConfig: Rule = {
  id: 'pnpm-config',
  detect(ctx) {
    if (ctx.client !== 'pnpm') return [];
    const out: Finding[] = [];
    const v = ctx.clientVersion;
    const major = v ? parseInt(v, 10) : undefined;
    const ignoresProjectEnv = versionAtLeast(v, major === 11 ? '11.5.3' : '10.34.2');
    for (const layer of ctx.cfg.layers) {
      if (!layer.parsed) continue;
      const unset = layer.parsed.entries.flatMap((e) =>
        unexpandedRefs(`${e.key}=${e.rawValue ?? ''}`, ctx.cfg.env)
          .filter((r) => r.kind === 'unset')
          .map((r) => ({ e, r })),
      );
      if (unset.length && (major === undefined || major < 11)) {
        const { e, r } = unset[0];
        out.push(
          makeFinding('pnpm-config', {
            severity: 'error',
            message: `${r.text} is not set, and pnpm ${v ?? '≤ 10'} then drops the whole file ${layer.file} ("Failed to replace env in config") — every registry and scope line in it is lost.`,
            fix: `Export ${r.name} before running pnpm, or write \`\${${r.name}:-}\` (pnpm's default-value form) if it is optional.`,
            source: { file: layer.file, line: e.line },
          }),
        );
      }
      if (layer.where === 'project' && ignoresProjectEnv !== false) {
        for (const e of layer.parsed.entries) {
          if (!(e.key.startsWith('//') || /registry$|proxy$/.test(e.key)) || !String(e.rawValue ?? '').includes('${'))
            continue;
          out.push(
            makeFinding('pnpm-config', {
              severity: ignoresProjectEnv ? 'error' : 'warning',
              message: `pnpm ${ignoresProjectEnv ? v : '≥ 10.34.2 / 11.5.3'} ignores \`${e.key}\` in the project .npmrc (${layer.file}:${e.line}): it no longer expands \${…} in credentials or registry URLs from project files.`,
              fix: `Move the line to ~/.npmrc, or set it with \`pnpm config set ${e.key.replace(/=.*/, '')} <value>\`, or pass it through the environment.`,
              source: { file: layer.file, line: e.line },
            }),
          );
        }
      }
    }
    for (const c of effectiveCredentials(ctx)) {
      if (c.prefix.endsWith('/')) continue;
      out.push(
        makeFinding('pnpm-config', {
          message: `\`${c.key}\` (${where(ctx, c.origin)}) has no trailing slash before :${c.field}; pnpm never matches such keys (npm does).`,
          fix: `Write \`${c.prefix}/:${c.field}=…\`.`,
          source: sourceOf(c.origin),
        }),
      );
    }
    out.push(...workspaceRegistries(ctx));
    if (major !== undefined && major >= 11) {
      for (const key of ctx.cfg.keysIn('env')) {
        const o = ctx.cfg.origin(key);
        out.push(
          makeFinding('pnpm-config', {
            message: `pnpm 11 ignores ${o?.envName ?? key}: it reads pnpm_config_* variables, not npm_config_*.`,
            fix: `Rename it to ${(o?.envName ?? key).replace(/^npm_config_/i, 'pnpm_config_')}.`,
            source: sourceOf(o),
          }),
        );
      }
    }
    return out;
  },
};

// Loaded only for Yarn projects: the yaml parser is the slowest module to load.
const require = createRequire(import.meta.url);
const yaml = (): typeof import('yaml') => require('yaml');

/** pnpm's own credential places the npm config does not hold: `pnpm login`'s auth.ini, pnpm_config__auth, a tokenHelper. */
function pnpmOwnAuth(ctx: DoctorContext, nerfDart: string): boolean {
  const env = ctx.cfg.env;
  if (env.pnpm_config__auth || env.PNPM_CONFIG__AUTH) return true;
  if (ctx.cfg.keys().some((k) => k.startsWith(nerfDart.split('/').slice(0, 3).join('/')) && k.endsWith(':tokenHelper')))
    return true;
  const dirs = [
    env.XDG_CONFIG_HOME && join(env.XDG_CONFIG_HOME, 'pnpm'),
    join(ctx.cfg.home, '.config', 'pnpm'),
    join(ctx.cfg.home, 'Library', 'Preferences', 'pnpm'),
    env.LOCALAPPDATA && join(env.LOCALAPPDATA, 'pnpm', 'config'),
  ];
  const host = nerfDart.split('/')[2];
  return dirs.some((d) => {
    if (!d || !existsSync(join(d, 'auth.ini'))) return false;
    return readFileSync(join(d, 'auth.ini'), 'utf8').includes(`//${host}`);
  });
}

/**
 * pnpm 11 also takes `registries` (scope → URL, `default`) from pnpm-workspace.yaml, which npm never reads:
 * the registry table is npm's view, so say where pnpm sends those scopes, and whether .npmrc holds a
 * credential for each (pnpm reads credentials from .npmrc only).
 */
function workspaceRegistries(ctx: DoctorContext): Finding[] {
  let file: string | undefined;
  for (let d = ctx.cfg.localPrefix; ; d = dirname(d)) {
    if (existsSync(join(d, 'pnpm-workspace.yaml'))) file = join(d, 'pnpm-workspace.yaml');
    if (file || dirname(d) === d) break;
  }
  if (!file) return [];
  const lines = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(readFileSync(file, 'utf8'), { lineCounter: lines });
  const { isMap, isScalar } = yaml();
  const root = doc.contents;
  const regs = isMap(root) ? (root as YAMLMap).get('registries', true) : undefined;
  if (!isMap(regs)) return [];
  const out: Finding[] = [];
  const listed: string[] = [];
  for (const pair of regs.items) {
    if (!isScalar(pair.key) || !isScalar(pair.value) || typeof pair.value.value !== 'string') continue;
    const scope = String(pair.key.value);
    const url = pair.value.value;
    const line = lines.linePos((pair.key as { range?: [number] }).range?.[0] ?? 0).line;
    listed.push(`${scope} → ${url}`);
    const host = url.replace(/^https?:/, '').replace(/\/?$/, '/');
    if (!/^https?:\/\//.test(url) || credentialForRequest(ctx.cfg, url).kind !== 'none' || pnpmOwnAuth(ctx, host))
      continue;
    out.push(
      makeFinding('pnpm-config', {
        severity: 'warning',
        message: `${file}:${line} sends ${scope === 'default' ? 'every unscoped package' : scope} to ${url}, and no .npmrc line holds a credential for it: pnpm sends none (a private registry answers 401 or 404).`,
        fix: `If that registry needs one, add \`${host}:_authToken=\${NPM_TOKEN}\` to ~/.npmrc (\`pnpm config set ${host}:_authToken "$NPM_TOKEN"\`).`,
        source: { file, line },
      }),
    );
  }
  if (listed.length)
    out.unshift(
      makeFinding('pnpm-config', {
        severity: 'info',
        message: `pnpm reads \`registries\` from ${file} (${listed.join(', ')}); npm does not, and the registry table here is npm's view.`,
        fix: 'Nothing to change if pnpm is the only client; for npm users, add the same `@scope:registry=` lines to .npmrc.',
        source: { file, line: lines.linePos((regs as { range?: [number] }).range?.[0] ?? 0).line },
      }),
    );
  return out;
}

interface YarnRc {
  file: string;
  doc: ReturnType<typeof import('yaml').parseDocument>;
  lines: LineCounter;
  text: string;
}

function yarnrcFiles(ctx: DoctorContext): YarnRc[] {
  const files: string[] = [];
  for (let d = ctx.opts.cwd; ; d = dirname(d)) {
    files.push(join(d, '.yarnrc.yml'));
    if (dirname(d) === d) break;
  }
  const home = join(ctx.cfg.home, '.yarnrc.yml');
  if (!files.includes(home)) files.push(home);
  const out: YarnRc[] = [];
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const lines = new (yaml().LineCounter)();
    out.push({ file, doc: yaml().parseDocument(text, { lineCounter: lines }), lines, text });
  }
  return out;
}

function lineOf(rc: YarnRc, node: unknown): number {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? rc.lines.linePos(range[0]).line : 0;
}

/** Yarn's settings from the environment: `yarn_` (any case) stripped, the rest camel-cased. */
function yarnEnvSettings(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    const key = k.toLowerCase();
    if (key.startsWith('yarn_')) out[key.slice(5).replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())] = v;
  }
  return out;
}

function isBerry(ctx: DoctorContext): boolean {
  if (ctx.clientVersion) return parseInt(ctx.clientVersion, 10) >= 2;
  return existsSync(join(ctx.cfg.localPrefix, '.yarnrc.yml'));
}

export const yarnConfig: Rule = {
  id: 'yarn-config',
  detect(ctx) {
    if (ctx.client !== 'yarn' || !isBerry(ctx)) return [];
    const out: Finding[] = [];
    const rcs = yarnrcFiles(ctx);
    const { isMap, isScalar } = yaml();
    // Every setting may also come from a YARN_* variable (any case: YARN_NPM_AUTH_TOKEN is npmAuthToken),
    // above the rc files: CI often passes the token that way.
    const env = yarnEnvSettings(ctx.cfg.env);
    let hasAuth = Boolean(env.npmAuthToken || env.npmAuthIdent);
    let server: string | undefined = env.npmRegistryServer || undefined;
    let alwaysAuth = env.npmAlwaysAuth !== undefined && /^(true|1)$/i.test(env.npmAlwaysAuth);
    let topToken = hasAuth;
    // npmRegistries entries apply only where Yarn's lookup finds them: judged once every file is read.
    const registryEntries: { key: string; rc: YarnRc; node: unknown; auth: boolean }[] = [];
    const scopeServers: string[] = [];
    for (const rc of rcs) {
      // Yarn expands variables in the values it parsed: a `${VAR}` in a comment or a key is never read.
      const unset: { ref: string; name: string; line: number }[] = [];
      yaml().visit(rc.doc, {
        Scalar(key, node) {
          if (key === 'key' || typeof node.value !== 'string') return;
          for (const m of node.value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g))
            if (ctx.cfg.env[m[1]] === undefined) unset.push({ ref: m[0], name: m[1], line: lineOf(rc, node) });
        },
      });
      for (const { ref, name, line } of unset) {
        out.push(
          makeFinding('yarn-config', {
            severity: 'error',
            message: `${ref} in ${rc.file} is not set: Yarn stops every command with "Environment variable not found (${name})".`,
            fix: `Export ${name}, or give it a default: \`\${${name}:-}\`.`,
            source: { file: rc.file, line },
          }),
        );
      }
      const root = rc.doc.contents;
      if (!isMap(root)) continue;
      const get = (k: string) => (root as YAMLMap).get(k, true);
      if (get('npmAuthToken') || get('npmAuthIdent')) {
        hasAuth = true;
        topToken = true;
      }
      const s = get('npmRegistryServer');
      if (isScalar(s) && server === undefined) server = String(s.value);
      const pub = get('npmPublishRegistry');
      if (isScalar(pub)) scopeServers.push(String(pub.value));
      const aa = get('npmAlwaysAuth');
      if (isScalar(aa) && aa.value === true && env.npmAlwaysAuth === undefined) alwaysAuth = true;
      for (const section of ['npmScopes', 'npmRegistries']) {
        const m = get(section);
        if (!isMap(m)) continue;
        for (const pair of m.items) {
          const k = isScalar(pair.key) ? String(pair.key.value) : '';
          const v = pair.value;
          const auth = isMap(v) && Boolean((v as YAMLMap).get('npmAuthToken') || (v as YAMLMap).get('npmAuthIdent'));
          if (section === 'npmRegistries') registryEntries.push({ key: k, rc, node: pair.key, auth });
          else if (auth) hasAuth = true;
          if (section === 'npmScopes' && isMap(v)) {
            for (const f of ['npmRegistryServer', 'npmPublishRegistry']) {
              const u = (v as YAMLMap).get(f);
              if (typeof u === 'string') scopeServers.push(u);
            }
          }
          if (section === 'npmScopes' && k.startsWith('@')) {
            out.push(
              makeFinding('yarn-config', {
                severity: 'error',
                message: `npmScopes key "${k}" in ${rc.file} starts with @; Yarn looks the scope up without it, so this entry is never used.`,
                fix: `Write \`${k.slice(1)}:\` under npmScopes.`,
                source: { file: rc.file, line: lineOf(rc, pair.key) },
              }),
            );
          }
        }
      }
    }
    out.push(...unmatchedRegistries(registryEntries, server, scopeServers, () => (hasAuth = true)));
    const npmrcCreds = effectiveCredentials(ctx).filter((c) => c.origin && c.origin.where !== 'default');
    if (!hasAuth && npmrcCreds.length) {
      const c = npmrcCreds[0];
      out.push(
        makeFinding('yarn-config', {
          severity: 'error',
          message: `Yarn Berry ignores .npmrc: the credential at ${where(ctx, c.origin)} is never sent, and no npmAuthToken is set in .yarnrc.yml.`,
          fix: 'Add to .yarnrc.yml: `npmScopes: { <scope>: { npmRegistryServer: "https://…/", npmAuthToken: "${NPM_TOKEN}" } }` (or a top-level npmAuthToken).',
          source: sourceOf(c.origin),
        }),
      );
    }
    if (server && topToken && !alwaysAuth) {
      out.push(
        makeFinding('yarn-config', {
          severity: 'warning',
          message: `npmRegistryServer is ${server} with a top-level token, but npmAlwaysAuth is not true: Yarn sends no credential for unscoped packages (YN0041 on private ones).`,
          fix: 'Add `npmAlwaysAuth: true` to .yarnrc.yml.',
        }),
      );
    }
    return out;
  },
};

/**
 * Yarn finds an npmRegistries entry by the registry URL without its trailing slash, or without its scheme
 * (`//host/path`): a key written any other way (a bare host, `https:` for an `http:` registry, an .npmrc
 * key) is never used, and its token never sent. Without any registry configured, Yarn's own default is
 * asked, which the project does not name: nothing is judged then.
 */
function unmatchedRegistries(
  entries: { key: string; rc: YarnRc; node: unknown; auth: boolean }[],
  server: string | undefined,
  scopeServers: string[],
  used: () => void,
): Finding[] {
  const asked = [server, ...scopeServers].filter((u): u is string => Boolean(u)).map((u) => u.replace(/\/$/, ''));
  // A registry read from a variable is not known here: judge nothing rather than guess.
  if (asked.some((u) => u.includes('${'))) asked.length = 0;
  const unmatched: typeof entries = [];
  for (const e of entries) {
    const key = e.key.replace(/\/$/, '');
    if (!asked.length || asked.some((u) => key === u || key === u.replace(/^[a-z]+:/, ''))) {
      if (e.auth) used();
    } else unmatched.push(e);
  }
  // Only an entry meant for a registry asked here (same host name, written another way) is a mistake: entries
  // for other registries (a ~/.yarnrc.yml serving several projects) are someone else's business.
  const hostOf = (u: string) => /^(?:[a-z]+:)?(?:\/\/)?([^/:"]+)/.exec(u)?.[1]?.toLowerCase();
  return unmatched.flatMap((e) => {
    const near = asked.find((u) => hostOf(u) === hostOf(e.key));
    if (!near) return [];
    return makeFinding('yarn-config', {
      severity: e.auth ? 'error' : 'warning',
      message: `npmRegistries key "${e.key}" in ${e.rc.file} matches no registry Yarn asks (${asked.join(', ')}): Yarn compares the registry URL without its scheme or trailing slash, so this entry${e.auth ? ' and its token are' : ' is'} never used.`,
      fix: `Write the key as \`"${near.replace(/^[a-z]+:/, '')}":\` under npmRegistries.`,
      source: { file: e.rc.file, line: lineOf(e.rc, e.node) },
    });
  });
}

export const clientRules: Rule[] = [pnpmConfig, yarnConfig];
