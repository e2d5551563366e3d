// Every offline rule, in report order.
import type { Finding } from '../../domain/findings.ts';
import type { DoctorContext } from '../context.ts';
import { credentialKeyRules } from './credential-keys.ts';
import { valueRules } from './values.ts';
import { fileRules } from './files.ts';
import { registryRules } from './registries.ts';
import { clientRules } from './clients.ts';
import { vendorRules } from './vendors.ts';
import type { Rule } from './rule.ts';

export const rules: Rule[] = [
  ...fileRules,
  ...credentialKeyRules,
  ...valueRules,
  ...registryRules,
  ...vendorRules,
  ...clientRules,
];

export function runRules(ctx: DoctorContext): Finding[] {
  const out: Finding[] = [];
  for (const rule of rules) {
    try {
      out.push(...rule.detect(ctx));
    } catch (err) {
      // One broken rule must not hide the others' findings.
      process.emitWarning(`doctor rule ${rule.id} failed: ${(err as Error).message}`);
    }
  }
  return dedupe(out);
}

function dedupe(list: Finding[]): Finding[] {
  const seen = new Set<string>();
  return list.filter((f) => {
    const k = `${f.id}|${f.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
