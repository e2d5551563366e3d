// Values npm loads but cannot use: unset ${VAR}, whitespace in secrets, placeholders, bad tokens.
import { crc32 } from 'node:zlib';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeFinding } from '../../domain/findings.ts';
import type { Finding } from '../../domain/findings.ts';
import { isTesseraToken, tokenChecksumValid } from '../../domain/tokens.ts';
import { effectiveCredentials, sourceOf, where } from './rule.ts';
import type { Rule } from './rule.ts';
import { azureFeedBase } from './vendors.ts';

const IMPORTANT = /(^registry$|:registry$|^\/\/|proxy$|^cafile$|^ca$|^userconfig$)/;

/** `${NAME}` forms in a raw value that npm leaves unexpanded. */
export function unexpandedRefs(
  raw: string,
  env: Record<string, string | undefined>,
): { text: string; name: string; kind: 'unset' | 'fallback' | 'bare' | 'escaped' }[] {
  const out: { text: string; name: string; kind: 'unset' | 'fallback' | 'bare' | 'escaped' }[] = [];
  for (const m of raw.matchAll(/(\\*)\$\{([^${}]+)\}/g)) {
    const inner = m[2];
    // An odd number of backslashes escapes it: npm drops one backslash and keeps `${NAME}` as text.
    if (m[1].length % 2) {
      if (/^[A-Za-z_][A-Za-z0-9_]*\??$/.test(inner))
        out.push({ text: m[0], name: inner.replace(/\?$/, ''), kind: 'escaped' });
      continue;
    }
    if (inner.endsWith('?')) continue; // ${VAR?}: empty when unset, by design
    const fb = /^([A-Za-z_][A-Za-z0-9_]*)(:?-)(.*)$/.exec(inner);
    if (fb) out.push({ text: `\${${inner}}`, name: fb[1], kind: 'fallback' });
    else if (env[inner] === undefined) out.push({ text: `\${${inner}}`, name: inner, kind: 'unset' });
  }
  return out;
}

export const unexpandedEnvVar: Rule = {
  id: 'unexpanded-env-var',
  detect(ctx) {
    const out: Finding[] = [];
    for (const key of ctx.cfg.keys()) {
      const o = ctx.cfg.origin(key);
      if (!o?.entry || typeof o.entry.rawValue !== 'string') continue;
      const refs = unexpandedRefs(o.entry.key + '=' + o.entry.rawValue, ctx.cfg.env);
      const bare = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(o.entry.rawValue.trim());
      if (bare) refs.push({ text: bare[0], name: bare[1], kind: 'bare' });
      for (const ref of refs) {
        const important = IMPORTANT.test(key);
        // An escaped reference is deliberate text everywhere but in a secret, where it is never meant.
        if (ref.kind === 'escaped' && !key.startsWith('//')) continue;
        const what =
          ref.kind === 'escaped'
            ? `\`${ref.text}\` in \`${key}\` is escaped by its backslash, so npm sends the literal text \`\${${ref.name}}\`, never the variable`
            : ref.kind === 'unset'
              ? `\`${ref.text}\` in \`${key}\` is not set in this environment, so npm sends the literal text \`${ref.text}\``
              : ref.kind === 'fallback'
                ? `\`${ref.text}\` in \`${key}\` uses a default-value form npm does not support; npm keeps it literally`
                : `\`${ref.text}\` in \`${key}\` is not expanded by npm (only \${${ref.name}} is)`;
        out.push(
          makeFinding('unexpanded-env-var', {
            severity: important ? 'error' : 'warning',
            message: `${what} (${where(ctx, o)}).`,
            fix:
              ref.kind === 'escaped'
                ? `Remove the backslash, so npm reads the variable: \`${key}=\${${ref.name}}\`, and export ${ref.name}.`
                : ref.kind === 'unset'
                  ? `Export it before running npm: \`export ${ref.name}=<value>\` (in CI: map the secret to ${ref.name} in that step's env). If it is optional, write \`\${${ref.name}?}\` (npm ≥ 11.6).`
                  : `Write \`\${${ref.name}}\` and export ${ref.name}; npm supports only \${NAME} and \${NAME?}.`,
            source: sourceOf(o),
          }),
        );
      }
    }
    return out;
  },
};

export const tokenHasWhitespace: Rule = {
  id: 'token-has-whitespace',
  detect(ctx) {
    return effectiveCredentials(ctx).flatMap((c) => {
      if (!/[\s\x00-\x1f\x7f]/.test(c.value)) return [];
      const raw = c.origin?.entry?.rawValue ?? '';
      const v = /\$\{([^}?]+)\??\}/.exec(raw)?.[1];
      const chars = /\r/.test(c.value)
        ? 'a carriage return'
        : /\n/.test(c.value)
          ? 'a newline'
          : /\t/.test(c.value)
            ? 'a tab'
            : /[\x00-\x1f\x7f]/.test(c.value)
              ? 'a control character'
              : 'a space';
      return [
        makeFinding('token-has-whitespace', {
          message: `The value of \`${c.key}\` (${where(ctx, c.origin)}) contains ${chars}${v ? `, coming from the variable ${v}` : ''}; npm sends it as is.`,
          fix: v
            ? `Strip it when exporting: \`export ${v}="$(printf %s "$${v}" | tr -d '[:space:]')"\` (store the secret without a trailing newline: \`echo -n\`).`
            : `Remove the stray characters from the line (save the file with LF line endings).`,
          source: sourceOf(c.origin),
        }),
      ];
    });
  },
};

const PLACEHOLDER =
  /^(XXXXX-XXXXX-XXXXX-XXXXX|undefined|null|<[^>]*>|your[-_ ]?(auth[-_ ]?)?token[-_ ]?here|changeme|replace[-_ ]?me|token|x{3,})$/i;

export const placeholderToken: Rule = {
  id: 'placeholder-token',
  detect(ctx) {
    return effectiveCredentials(ctx).flatMap((c) => {
      if (c.field === 'certfile' || c.field === 'keyfile' || c.field === 'username') return [];
      const empty = c.value === '' && c.origin?.entry !== undefined;
      if (!empty && !PLACEHOLDER.test(c.value.trim())) return [];
      const raw = c.origin?.entry?.rawValue ?? '';
      const v = /\$\{([^}?]+)\??\}/.exec(raw)?.[1];
      return [
        makeFinding('placeholder-token', {
          message:
            `\`${c.key}\` (${where(ctx, c.origin)}) is ${empty ? 'empty' : `the placeholder \`${c.value}\``}${v ? ` (from the variable ${v})` : ''}, not a real credential.` +
            (c.value === 'XXXXX-XXXXX-XXXXX-XXXXX'
              ? ' actions/setup-node ≤ v6 exports this value when NODE_AUTH_TOKEN is not set.'
              : ''),
          fix: v
            ? `Set ${v} to the real token in this environment (in GitHub Actions: \`env: ${v}: \${{ secrets.NPM_TOKEN }}\`); for trusted publishing, make sure nothing sets a placeholder (setup-node v7+).`
            : 'Replace it with the real token, kept in an environment variable: `…:_authToken=${NPM_TOKEN}`.',
          source: sourceOf(c.origin),
        }),
      ];
    });
  },
};

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function base62(n: number, width: number): string {
  let out = '';
  for (let v = n; v > 0; v = Math.floor(v / 62)) out = BASE62[v % 62] + out;
  return out.padStart(width, '0');
}

/** npm_ tokens: 36 base62 characters, the last six a CRC32 of the first 30 (soft signal: unverified). */
export function npmTokenCheck(token: string): 'ok' | 'bad-length' | 'bad-checksum' {
  const body = token.slice(4);
  if (!/^[0-9A-Za-z]{36}$/.test(body)) return 'bad-length';
  return base62(crc32(body.slice(0, 30)) >>> 0, 6) === body.slice(30) ? 'ok' : 'bad-checksum';
}

export const tokenChecksumInvalid: Rule = {
  id: 'token-checksum-invalid',
  detect(ctx) {
    const out: Finding[] = [];
    for (const c of effectiveCredentials(ctx)) {
      if (c.field !== '_authToken') continue;
      let problem: string | undefined;
      let severity: 'error' | 'warning' = 'error';
      if (isTesseraToken(c.value) && !tokenChecksumValid(c.value)) {
        problem = `is a Tessera token (tsr_) whose checksum does not match (${c.value.length} characters; a whole token has 40)`;
      } else if (c.value.startsWith('npm_')) {
        const r = npmTokenCheck(c.value);
        if (r === 'bad-length') problem = `is an npm_ token with ${c.value.length} characters instead of 40`;
        else if (r === 'bad-checksum') {
          problem = 'is an npm_ token whose last six characters do not match its CRC32 checksum';
          severity = 'warning';
        }
      }
      if (!problem) continue;
      out.push(
        makeFinding('token-checksum-invalid', {
          severity,
          message: `The token in \`${c.key}\` (${where(ctx, c.origin)}) ${problem}: it was truncated or mistyped.`,
          fix: 'Copy the whole token again from where it was created (or create a new one: `npm token create`) and paste it without line breaks.',
          source: sourceOf(c.origin),
        }),
      );
    }
    return out;
  },
};

export const userconfigRedirected: Rule = {
  id: 'userconfig-redirected',
  detect(ctx) {
    const o = ctx.cfg.origin('userconfig');
    if (!o || o.where === 'default') return [];
    const used = String(ctx.cfg.get('userconfig'));
    const usual = join(ctx.cfg.home, '.npmrc');
    if (used === usual) return [];
    const usualExists = existsSync(usual);
    return [
      makeFinding('userconfig-redirected', {
        severity: usualExists ? 'warning' : 'info',
        message: `npm reads its user config from ${used} (set by ${where(ctx, o)}), not ${usual}${usualExists ? ', so the settings in ' + usual + ' are ignored' : ''}.`,
        fix: o.envName
          ? `Edit ${used}, or \`unset ${o.envName}\` to use ${usual} (actions/setup-node sets NPM_CONFIG_USERCONFIG when registry-url is given).`
          : `Edit ${used}, or remove the userconfig setting at ${where(ctx, o)}.`,
        source: sourceOf(o),
      }),
    ];
  },
};

/**
 * A `_password` written in plain text. npm sends `username:` + the base64-decoding of `_password`; the
 * decoding of a plain password is not text (or not even base64). Azure feeds have their own rule (vendors.ts).
 */
export const passwordNotBase64: Rule = {
  id: 'password-not-base64',
  detect(ctx) {
    const out: Finding[] = [];
    for (const c of effectiveCredentials(ctx)) {
      if (c.field !== '_password' || !c.value || c.value.includes('${') || azureFeedBase(c.prefix)) continue;
      const body = c.value.replace(/=+$/, '');
      let text: string | undefined;
      if (!/[^A-Za-z0-9+/]/.test(body) && body.length % 4 !== 1) {
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(body, 'base64'));
        } catch {
          /* not UTF-8: not the encoding of a password */
        }
      }
      if (text && !/[\u0000-\u001f\u007f]/.test(text)) continue;
      out.push(
        makeFinding('password-not-base64', {
          message: `\`${c.key}\` (${where(ctx, c.origin)}) is not the base64 of a password: npm decodes it before sending, so the registry gets garbage and answers 401.`,
          fix: `Encode it: \`printf %s '<password>' | base64\`, and write \`${c.key}=<that>\` (or one \`${c.prefix}:_auth=\` with the base64 of \`username:password\`).`,
          source: sourceOf(c.origin),
        }),
      );
    }
    return out;
  },
};

export const valueRules: Rule[] = [
  unexpandedEnvVar,
  tokenHasWhitespace,
  placeholderToken,
  tokenChecksumInvalid,
  userconfigRedirected,
  passwordNotBase64,
];
