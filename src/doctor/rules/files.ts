// The .npmrc files themselves: unreadable, not read at all, dead or odd keys, secrets committed to git.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { makeFinding } from '../../domain/findings.ts';
import type { Finding } from '../../domain/findings.ts';
import type { DoctorContext } from '../context.ts';
import { parseIniLines } from '../ini-lines.ts';
import type { Where } from '../npm-config.ts';
import { splitCredentialKey } from '../credentials.ts';
import { sourceOf, where } from './rule.ts';
import type { Rule } from './rule.ts';

const require = createRequire(import.meta.url);

export const npmrcUnreadable: Rule = {
  id: 'npmrc-unreadable',
  detect(ctx) {
    const out: Finding[] = [];
    for (const layer of ctx.cfg.layers) {
      if (layer.readError) {
        out.push(
          makeFinding('npmrc-unreadable', {
            message: `npm cannot read ${layer.file} (${layer.readError}); every setting in it is ignored.`,
            fix:
              layer.readError === 'EISDIR'
                ? `${layer.file} is a folder, not a file: move it away and write the settings into a file of that name${layer.where === 'user' ? ' (or point NPM_CONFIG_USERCONFIG / --userconfig at a file)' : ''}.`
                : `Fix its ownership/permissions: \`chown $(id -u) ${layer.file} && chmod 600 ${layer.file}\`.`,
            source: { file: layer.file, line: 0 },
          }),
        );
      }
      if (layer.encoding && layer.encoding !== 'utf8') {
        out.push(
          makeFinding('npmrc-unreadable', {
            message: `${layer.file} is ${layer.encoding === 'binary' ? 'not a text file' : `encoded as ${layer.encoding.toUpperCase()}`}; npm reads it as UTF-8 and every key in it is garbage.`,
            fix:
              layer.encoding === 'binary'
                ? `Recreate ${layer.file} as a plain UTF-8 text file.`
                : `Save it as UTF-8: \`iconv -f UTF-16 -t UTF-8 ${layer.file} > ${layer.file}.new && mv ${layer.file}.new ${layer.file}\` (PowerShell: \`Set-Content -Encoding utf8\`).`,
            source: { file: layer.file, line: 1 },
          }),
        );
        continue;
      }
      for (const s of layer.parsed?.sections ?? []) {
        const lost = layer.parsed!.entries.filter((e) => e.section === s.name).map((e) => e.key);
        out.push(
          makeFinding('npmrc-unreadable', {
            severity: 'warning',
            message: `${layer.file} has a [${s.name}] section; npm ignores every key under it${lost.length ? ` (${lost.slice(0, 3).join(', ')}${lost.length > 3 ? ', …' : ''})` : ''}.`,
            fix: `Delete the \`[${s.name}]\` line so the keys below it are top-level.`,
            source: { file: layer.file, line: s.line },
          }),
        );
      }
      for (const e of layer.parsed?.entries ?? []) {
        if (!e.truncated || e.section !== null) continue;
        const secret = splitCredentialKey(e.key) !== undefined;
        out.push(
          makeFinding('npmrc-unreadable', {
            severity: secret ? 'error' : 'warning',
            message: `The value of \`${e.key}\` in ${layer.file} contains # or ; and npm cuts it there${secret ? '' : ` (it reads \`${String(e.value)}\`)`}.`,
            fix: `Quote the value: \`${e.key}="…"\`, or escape the character as \\# or \\;.`,
            source: { file: layer.file, line: e.line },
          }),
        );
      }
    }
    return out;
  },
};

function hasAuthOrRegistry(file: string): boolean {
  try {
    return parseIniLines(readFileSync(file, 'utf8')).entries.some((e) => /registry$|^\/\/|_auth/.test(e.key));
  } catch {
    return false;
  }
}

export const npmrcIgnored: Rule = {
  id: 'npmrc-ignored',
  detect(ctx) {
    const out: Finding[] = [];
    for (const log of ctx.cfg.logs) {
      const m = /ignoring workspace config at (.+)$/.exec(log.message);
      if (!m) continue;
      out.push(
        makeFinding('npmrc-ignored', {
          message: `npm ignores ${m[1]}: it sits in a workspace package, and npm reads only the workspace root's .npmrc (${join(ctx.cfg.localPrefix, '.npmrc')}).`,
          fix: `Move its settings to ${join(ctx.cfg.localPrefix, '.npmrc')} (or to ~/.npmrc for credentials).`,
          source: { file: m[1], line: 1 },
        }),
      );
    }
    const project = ctx.cfg.layers.find((l) => l.where === 'project');
    if (project?.skipped?.includes('same as "user"') && ctx.opts.cwd !== ctx.cfg.home) {
      out.push(
        makeFinding('npmrc-ignored', {
          message: `npm took your home directory ${ctx.cfg.home} as the project root (it found package.json or node_modules there), so no project .npmrc is read for ${ctx.opts.cwd}.`,
          fix: `Remove the stray ${join(ctx.cfg.home, 'package.json')} or ${join(ctx.cfg.home, 'node_modules')}, or add a package.json to ${ctx.opts.cwd}.`,
        }),
      );
    }
    const loaded = new Set(ctx.cfg.layers.filter((l) => l.exists).map((l) => l.file));
    const userHome = join(ctx.cfg.home, '.npmrc');
    for (let d = ctx.opts.cwd; ; d = dirname(d)) {
      const f = join(d, '.npmrc');
      if (!loaded.has(f) && f !== userHome && !out.some((x) => x.source?.file === f) && existsSync(f)) {
        const matters = hasAuthOrRegistry(f);
        out.push(
          makeFinding('npmrc-ignored', {
            severity: matters ? 'warning' : 'info',
            message: `npm does not read ${f}: the project root is ${ctx.cfg.localPrefix}, and npm reads only the .npmrc there${d.startsWith(ctx.cfg.localPrefix) ? '' : ' (a parent folder without package.json or node_modules is never read)'}.`,
            fix: `Move its settings to ${join(ctx.cfg.localPrefix, '.npmrc')}, or to ~/.npmrc.`,
            source: { file: f, line: 1 },
          }),
        );
      }
      if (dirname(d) === d) break;
    }
    return out;
  },
};

function definitions(): Record<string, { type: unknown; deprecated?: unknown }> {
  return (require('@npmcli/config/lib/definitions') as { definitions: Record<string, { type: unknown }> }).definitions;
}

function isBooleanKey(defs: ReturnType<typeof definitions>, key: string): boolean {
  const t = defs[key]?.type;
  if (t === Boolean) return true;
  return Array.isArray(t) && t.includes(Boolean) && !t.includes(String);
}

export const invalidBoolean: Rule = {
  id: 'invalid-boolean',
  detect(ctx) {
    const defs = definitions();
    const out: Finding[] = [];
    const layers: Where[] = ['env', 'project', 'user', 'global', 'builtin'];
    for (const w of layers) {
      for (const key of ctx.cfg.keysIn(w)) {
        if (!isBooleanKey(defs, key)) continue;
        const v = ctx.cfg.raw.get(key, w);
        if (typeof v !== 'string' || v === 'true' || v === 'false') continue;
        const o = ctx.cfg.origins(key).find((x) => x.where === w);
        const intent = /^(0|no|off|n|false)$/i.test(v.trim()) ? 'false' : 'true';
        out.push(
          makeFinding('invalid-boolean', {
            message: `\`${key}=${v}\` (${where(ctx, o)}) is not a boolean: npm treats any non-empty text as true${intent === 'false' ? ', so this does NOT turn it off' : ''}.`,
            fix: `Write exactly \`${key}=${intent}\`.`,
            source: sourceOf(o),
          }),
        );
      }
    }
    return out;
  },
};

const DEAD_FIX: Record<string, string> = {
  'always-auth':
    'Delete the line: npm has not used always-auth since 7.11; credentials are sent whenever a key matches.',
  email: 'Delete the line: npm login and publish no longer need an email.',
  _authtoken: "Use a nerf-darted key instead: `env 'npm_config_//host/:_authToken=…'` or a line in ~/.npmrc.",
};

export const deprecatedKey: Rule = {
  id: 'deprecated-key',
  detect(ctx) {
    const out: Finding[] = [];
    const defs = definitions();
    for (const log of ctx.cfg.logs) {
      const m = /^Unknown (\w+) config "([^"]+)"(?: \(([^)]+)\))?\./.exec(log.message);
      if (m) {
        const [, w, base, full] = m;
        if (w === 'cli') continue;
        const key = full ?? base;
        const o = ctx.cfg.origins(key).find((x) => x.where === w) ?? ctx.cfg.origin(key);
        out.push(
          makeFinding('deprecated-key', {
            severity: ctx.client === 'npm' || DEAD_FIX[base] ? 'warning' : 'info',
            message: `${log.message.replace(/ See `npm help npmrc`.*$/, '')} (${where(ctx, o)})`,
            fix:
              DEAD_FIX[base] ??
              `Delete the line, or correct the key name (see \`npm help npmrc\`)${ctx.client !== 'npm' ? `; it may be a ${ctx.client} setting, which npm ignores` : ''}.`,
            source: sourceOf(o),
          }),
        );
        continue;
      }
      if (log.level === 'warn' && log.args[0] === 'config' && log.args.length >= 3 && defs[log.args[1]]?.deprecated) {
        const key = log.args[1];
        const o = ctx.cfg.origin(key);
        out.push(
          makeFinding('deprecated-key', {
            message: `\`${key}\` is deprecated (${where(ctx, o)}): ${log.args.slice(2).join(' ').split('\n')[0]}`,
            fix: log.args.slice(2).join(' ').split('\n').slice(1).join(' ').trim() || `Delete \`${key}\`.`,
            source: sourceOf(o),
          }),
        );
      }
    }
    return out;
  },
};

function gitIgnored(root: string, file: string): boolean {
  try {
    execFileSync('git', ['check-ignore', '-q', relative(root, file)], { cwd: root, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const plaintextTokenInRepo: Rule = {
  id: 'plaintext-token-in-repo',
  detect(ctx: DoctorContext) {
    const out: Finding[] = [];
    const root = ctx.gitRoot;
    if (!root) return out;
    for (const layer of ctx.cfg.layers) {
      if (!layer.exists || !layer.file.startsWith(root + '/') || !layer.parsed) continue;
      for (const e of layer.parsed.entries) {
        const split = splitCredentialKey(e.key);
        const field = split?.field ?? (['_authToken', '_auth', '_password'].includes(e.key) ? e.key : undefined);
        if (!field || !['_authToken', '_auth', '_password'].includes(field)) continue;
        if (typeof e.value !== 'string' || !e.value || e.value.includes('${')) continue;
        const tracked = ctx.isGitTracked(layer.file);
        if (!tracked && gitIgnored(root, layer.file)) continue;
        const variable = 'NPM_TOKEN';
        out.push(
          makeFinding('plaintext-token-in-repo', {
            severity: tracked ? 'error' : 'warning',
            message: `${layer.file} line ${e.line} holds a ${field} in plain text, and the file is ${tracked ? 'tracked by git' : 'inside a git repository (not ignored)'}.`,
            fix: `Revoke that token, replace the value with \`\${${variable}}\` (\`${e.key}=\${${variable}}\`), export ${variable} from a secret store, and ${tracked ? 'purge it from the git history' : 'add the file to .gitignore'}.`,
            source: { file: layer.file, line: e.line },
          }),
        );
      }
    }
    return out;
  },
};

export const fileRules: Rule[] = [npmrcUnreadable, npmrcIgnored, invalidBoolean, deprecatedKey, plaintextTokenInRepo];
