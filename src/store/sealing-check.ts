// Every node of a cluster must seal and open secrets (TOTP seeds, hook and SSO secrets) with the same
// secret.key. A node that made its own key would answer 500 to the next 2FA step begun on another node, so
// the shared database records the key's fingerprint (the one `tessera migrate` marks its copy with) and a
// node whose key differs refuses to start.
import { installId } from './migrate-copy.ts';
import type { Db } from './store.ts';

const MARK = 'migrated-from';

/** Records this key's fingerprint when none is recorded; otherwise whether it is the recorded one. */
export async function sealingKeyMatches(db: Db, key: Buffer): Promise<{ ok: boolean; recorded: string; ours: string }> {
  const ours = installId(key);
  await db
    .insertInto('meta')
    .values({ key: MARK, value: ours })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db.selectFrom('meta').select('value').where('key', '=', MARK).executeTakeFirstOrThrow();
  return { ok: row.value === ours, recorded: row.value, ours };
}
