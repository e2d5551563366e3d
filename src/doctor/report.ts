// Human and --json renderers for the doctor's report. The JSON shape is a public contract (docs/doctor.md).
import { FINDINGS, sortFindings } from '../domain/findings.ts';
import type { Finding, FindingSource } from '../domain/findings.ts';
import type { CredentialKind } from './credentials.ts';
import { maskUrlPasswords, redact } from './credentials.ts';
import type { DoctorContext } from './context.ts';
import { displayPath } from './npm-config.ts';

export interface RegistryReport {
  url: string;
  scopes: string[];
  credential: { kind: CredentialKind; source?: FindingSource };
}

export interface DoctorReport {
  findings: Finding[];
  registries: RegistryReport[];
}

/** Extra, human-only facts (not part of the JSON contract). */
export interface ReportNotes {
  lines: string[];
}

export function buildReport(ctx: DoctorContext, findings: Finding[]): DoctorReport {
  return {
    findings: sortFindings(findings),
    registries: ctx.targets.map((t) => {
      const cred: RegistryReport['credential'] = { kind: t.credential.kind };
      if (t.credential.origin) cred.source = { file: t.credential.origin.file, line: t.credential.origin.line };
      return { url: t.url, scopes: [...t.scopes], credential: cred };
    }),
  };
}

// Both renderers mask URL passwords last, whatever put a registry or proxy URL into a message, fix or note.
export function renderJson(report: DoctorReport): string {
  return maskUrlPasswords(JSON.stringify({ findings: report.findings, registries: report.registries }, null, 2)) + '\n';
}

const MARK = { error: '✖', warning: '!', info: 'i' } as const;

export function renderHuman(ctx: DoctorContext, report: DoctorReport, notes: string[] = [], color = false): string {
  return maskUrlPasswords(humanText(ctx, report, notes, color));
}

function humanText(ctx: DoctorContext, report: DoctorReport, notes: string[], color: boolean): string {
  const c = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const home = ctx.cfg.home;
  const out: string[] = [];
  out.push(
    c(
      '1',
      `tessera doctor — ${ctx.client}${ctx.clientVersion ? ' ' + ctx.clientVersion : ''} configuration for ${ctx.cfg.localPrefix}`,
    ),
  );
  const files = ctx.cfg.layers.filter((l) => l.exists).map((l) => `${l.where} ${displayPath(l.file, home)}`);
  out.push(`  config files read: ${files.length ? files.join(', ') : 'none'}`);
  out.push('');
  out.push(c('1', 'Registries'));
  for (const t of ctx.targets) {
    const cr = t.credential;
    const via =
      cr.kind === 'none'
        ? c('33', 'no credential sent')
        : `${cr.kind} ${redact(cr.value ?? '')} from ${cr.origin ? (cr.origin.line ? `${displayPath(cr.origin.file, home)}:${cr.origin.line}` : cr.origin.file) : '?'}` +
          `${cr.sameHostFallback ? ' (same-host fallback)' : ''}`;
    out.push(`  ${t.url}${t.scopes.length ? ` [${t.scopes.join(', ')}]` : ''}`);
    out.push(`    → ${via}`);
    if (t.roles.has('publish')) {
      const ex = t.exact;
      out.push(
        `    publish/whoami → ${ex.kind === 'none' ? c('33', `no credential at ${ex.regKey}`) : `${ex.kind} from ${ex.origin?.line ? `${displayPath(ex.origin.file, home)}:${ex.origin.line}` : ex.origin?.file}`}`,
      );
    }
  }
  for (const n of notes) out.push(`  ${n}`);
  out.push('');
  const { findings } = report;
  if (!findings.length) {
    out.push(c('32', 'No problems found.'));
    return out.join('\n') + '\n';
  }
  const counts = { error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  out.push(c('1', `Findings: ${counts.error} error(s), ${counts.warning} warning(s), ${counts.info} note(s)`));
  for (const f of findings) {
    const col = f.severity === 'error' ? '31' : f.severity === 'warning' ? '33' : '36';
    out.push('');
    out.push(
      `${c(col, `${MARK[f.severity]} ${f.severity}`)} ${c('1', f.id)}${f.source ? `  ${f.source.line ? `${displayPath(f.source.file, home)}:${f.source.line}` : f.source.file}` : ''}`,
    );
    out.push(`  ${f.message}`);
    out.push(`  why: ${FINDINGS[f.id].why}`);
    out.push(`  fix: ${f.fix}`);
    out.push(`  see: kb/${f.id}.md`);
  }
  return out.join('\n') + '\n';
}
