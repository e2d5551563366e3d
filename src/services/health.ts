// Readiness: the database answers and takes writes, and the blob store answers, each within a time limit. Liveness needs no check:
// answering at all is the proof.
import { databaseAnswers } from '../store/health.ts';
import type { Ctx } from './context.ts';

export type Part = 'database' | 'database-writes' | 'blobs';
export type Readiness = { failing: Part[]; errors: Partial<Record<Part, string>> };

const LIMIT_MS = 2_000;

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** `database-writes`: the database answers but takes no writes (a publish would be `store-unavailable`); asked
 *  only of a database that answers, so an outage names `database` alone. */
export async function readiness(ctx: Ctx): Promise<Readiness> {
  const checks: [Part, () => Promise<unknown>][][] = [
    [
      ['database', () => databaseAnswers(ctx.store.db)],
      ['database-writes', () => ctx.store.takesWrites()],
    ],
    [['blobs', async () => ctx.store.blobs.check?.()]],
  ];
  const out: Readiness = { failing: [], errors: {} };
  await Promise.all(
    checks.map(async (chain) => {
      for (const [part, check] of chain) {
        try {
          await within(Promise.resolve().then(check), LIMIT_MS);
        } catch (e) {
          out.failing.push(part);
          out.errors[part] = (e as Error).message;
          return;
        }
      }
    }),
  );
  out.failing.sort();
  return out;
}
