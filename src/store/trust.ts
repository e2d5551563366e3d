// A package's trusted publishers (`npm trust`): OIDC identities that may publish it without a token.
import type { Db } from './store.ts';
import type { ClaimRule, TrustConfig, TrustPermission, TrustType } from '../domain/trust.ts';

/** A package's configurations, oldest first. */
export async function trustConfigsOf(db: Db, name: string): Promise<TrustConfig[]> {
  const rows = await db
    .selectFrom('trust_configs')
    .selectAll()
    .where('package', '=', name)
    .orderBy('created_at')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    type: r.type as TrustType,
    issuer: r.issuer,
    claims: JSON.parse(r.claims) as Record<string, ClaimRule>,
    permissions: JSON.parse(r.permissions) as TrustPermission[],
  }));
}

export async function insertTrustConfigs(
  db: Db,
  name: string,
  configs: TrustConfig[],
  createdBy: number,
  now: number,
): Promise<void> {
  for (const c of configs) {
    await db
      .insertInto('trust_configs')
      .values({
        id: c.id,
        package: name,
        type: c.type,
        issuer: c.issuer,
        claims: JSON.stringify(c.claims),
        permissions: JSON.stringify(c.permissions),
        created_by: createdBy,
        created_at: now,
      })
      .execute();
  }
}

/** Who added a configuration: the user a token minted from it publishes as; undefined once it is revoked. */
export async function trustConfigCreator(db: Db, id: string): Promise<number | undefined> {
  const row = await db.selectFrom('trust_configs').select('created_by').where('id', '=', id).executeTakeFirst();
  return row?.created_by;
}

/** Deletes one configuration of a package; false when it has none of that id. */
export async function deleteTrustConfig(db: Db, name: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('trust_configs').where('package', '=', name).where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The ids of the live tokens minted from a configuration. A tokens query (store-accounts' aggregate), here
 *  because only revoking a trust configuration asks it; to be folded into the tokens store. */
export async function liveTokensFromTrustConfig(db: Db, id: string): Promise<string[]> {
  const rows = await db
    .selectFrom('tokens')
    .select('id')
    .where('kind', '=', 'oidc')
    .where('revoked_at', 'is', null)
    .where('grants', 'like', `%"configId":"${id}"%`)
    .execute();
  return rows.map((r) => r.id);
}
