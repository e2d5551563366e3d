// E-mail verification links: only a digest of each link's token is stored, one pending link per account.
import type { Db } from './store.ts';
import type { EmailVerificationRow } from './schema.ts';
import { bumpRevocations } from './tokens.ts';
import { markEmailVerified } from './users.ts';

/** The account's one pending link: a new one replaces whatever was sent before. */
export async function replaceVerification(db: Db, row: EmailVerificationRow): Promise<void> {
  await db.deleteFrom('email_verifications').where('user_id', '=', row.user_id).execute();
  await db.insertInto('email_verifications').values(row).execute();
}

/** A link by its token's digest, with the account's name and current address. */
export async function verificationById(db: Db, id: string) {
  return db
    .selectFrom('email_verifications')
    .innerJoin('users', 'users.id', 'email_verifications.user_id')
    .select([
      'email_verifications.id',
      'email_verifications.email',
      'email_verifications.expires_at',
      'users.id as uid',
      'users.name',
      'users.email as current',
    ])
    .where('email_verifications.id', '=', id)
    .executeTakeFirst();
}

/** Uses the link up and marks the address verified, in one transaction with the revocation counter
 *  (cached principals carry the flag). */
export async function confirmVerification(db: Db, id: string, userId: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('email_verifications').where('id', '=', id).execute();
    await markEmailVerified(trx, { id: userId });
    await bumpRevocations(trx);
  });
}
