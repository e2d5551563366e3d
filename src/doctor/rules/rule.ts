// What a rule is, and the small helpers every rule family uses.
import type { Finding, FindingId, FindingSource } from '../../domain/findings.ts';
import type { DoctorContext } from '../context.ts';
import type { Origin } from '../npm-config.ts';
import { displayPath } from '../npm-config.ts';
import { splitCredentialKey } from '../credentials.ts';

export interface Rule {
  id: FindingId;
  detect(ctx: DoctorContext): Finding[];
}

export function sourceOf(o: Origin | undefined): FindingSource | undefined {
  return o ? { file: o.file, line: o.line } : undefined;
}

/** `~/.npmrc:3`, `environment variable NPM_CONFIG_X`, … for messages. */
export function where(ctx: DoctorContext, o: Origin | undefined): string {
  if (!o) return 'npm defaults';
  if (o.line === 0) return o.file;
  return `${displayPath(o.file, ctx.cfg.home)}:${o.line}`;
}

export interface EffectiveCredential {
  key: string;
  prefix: string;
  field: string;
  value: string;
  origin: Origin | undefined;
}

/** Every credential key in effect (after layering), with its value and origin. */
export function effectiveCredentials(ctx: DoctorContext): EffectiveCredential[] {
  const out: EffectiveCredential[] = [];
  for (const key of ctx.cfg.keys()) {
    const split = splitCredentialKey(key);
    if (!split?.prefix) continue;
    const v = ctx.cfg.get(key);
    out.push({ key, ...split, value: v === undefined || v === null ? '' : String(v), origin: ctx.cfg.origin(key) });
  }
  return out;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}

export function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/** The `//host[:port]/path/` prefix of a credential key, parsed; undefined if malformed. */
export function keyHost(prefix: string): string | undefined {
  const m = /^\/\/([^/]+)(\/.*)?$/.exec(prefix);
  return m ? m[1] : undefined;
}
