// Network probes (filled in step 3).
import type { Finding } from '../domain/findings.ts';
import type { DoctorContext } from './context.ts';

export async function runProbes(_ctx: DoctorContext, _offline: Finding[]): Promise<{ findings: Finding[]; notes: string[] }> {
  return { findings: [], notes: [] };
}
