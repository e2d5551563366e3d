// Readiness: the database and the blob store answer, each within a time limit. Liveness needs no check:
// answering at all is the proof.
import { databaseAnswers } from '../store/health.ts';
import type { Ctx } from './context.ts';

export type Part = 'database' | 'blobs';
export type Readiness = { failing: Part[]; errors: Partial<Record<Part, string>> };

const LIMIT_MS = 2_000;

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export async function readiness(ctx: Ctx): Promise<Readiness> {
  const checks: [Part, () => Promise<unknown>][] = [
    ['database', () => databaseAnswers(ctx.store.db)],
    ['blobs', async () => ctx.store.blobs.check?.()],
  ];
  const out: Readiness = { failing: [], errors: {} };
  await Promise.all(
    checks.map(async ([part, check]) => {
      try {
        await within(Promise.resolve().then(check), LIMIT_MS);
      } catch (e) {
        out.failing.push(part);
        out.errors[part] = (e as Error).message;
      }
    }),
  );
  out.failing.sort();
  return out;
}
