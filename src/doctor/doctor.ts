// The doctor: build the context, lint offline, then probe (unless --offline), and report.
import type { Finding } from '../domain/findings.ts';
import { buildContext } from './context.ts';
import type { DoctorContext, DoctorOptions } from './context.ts';
import { runRules } from './rules/index.ts';
import { buildReport } from './report.ts';
import type { DoctorReport } from './report.ts';

export interface DoctorResult {
  ctx: DoctorContext;
  report: DoctorReport;
  notes: string[];
}

export async function runDoctor(opts: DoctorOptions): Promise<DoctorResult> {
  const ctx = await buildContext(opts);
  let findings: Finding[] = runRules(ctx);
  const notes: string[] = [];
  if (!opts.offline) {
    const { runProbes } = await import('./probes.ts');
    const probed = await runProbes(ctx, findings);
    // What a probe saw about a registry replaces what the offline rules could only suppose (same id).
    const seen = new Set(probed.findings.map((f) => `${f.id} ${f.registry}`));
    findings = findings.filter((f) => f.registry === undefined || !seen.has(`${f.id} ${f.registry}`));
    findings.push(...probed.findings);
    notes.push(...probed.notes);
  }
  return { ctx, report: buildReport(ctx, findings), notes };
}
