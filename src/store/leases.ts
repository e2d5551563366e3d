// Leases on periodic jobs: a node runs a job only while it holds the job's lease, so several nodes on one
// database run it one at a time. A lease is taken by one conditional statement, and lapses by itself when
// its holder stops renewing it (a node that died).
import type { Db } from './store.ts';

/** Takes the lease `name` for `holder` until `now + ttlMs`, when it is free, lapsed, or `holder`'s already. */
export async function takeLease(db: Db, name: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
  const until = now + ttlMs;
  const row = await db
    .insertInto('leases')
    .values({ name, holder, until })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ holder, until })
        .where((eb) => eb.or([eb('leases.until', '<=', now), eb('leases.holder', '=', holder)])),
    )
    .returning('name')
    .executeTakeFirst();
  return row !== undefined;
}

/** Gives a lease up early (the holder stops), so another node need not wait for it to lapse. */
export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  await db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
}
