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
  const findings: Finding[] = runRules(ctx);
  const notes: string[] = [];
  if (!opts.offline) {
    const { runProbes } = await import('./probes.ts');
    const probed = await runProbes(ctx, findings);
    findings.push(...probed.findings);
    notes.push(...probed.notes);
  }
  return { ctx, report: buildReport(ctx, findings), notes };
}
