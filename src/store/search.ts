// `npm search`'s queries: local packages whose name or stored metadata holds every term, and their maintainers.
import { sql } from 'kysely';
import type { Db } from './store.ts';

export type SearchRow = { name: string; meta: string | null; access: string };

/** Live local packages matching every (lowercase) term in the name or the metadata text, by name. */
export async function searchLocalPackages(db: Db, terms: readonly string[]): Promise<SearchRow[]> {
  let q = db
    .selectFrom('packages')
    .select(['name', 'meta', 'access'])
    .where('origin', '=', 'local')
    .where('deleted_at', 'is', null);
  // SQL's lower() folds ASCII letters only (SQLite always, PostgreSQL under the C locale): a term with other
  // letters ("über" for "Über") is matched below, on the rows the ASCII terms let through.
  const ascii = (t: string) => /^[\x00-\x7f]*$/.test(t);
  for (const t of terms.filter(ascii)) {
    const like = `%${t.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
    // lower() and LIKE … ESCAPE are the same in SQLite and PostgreSQL.
    q = q.where((eb) =>
      eb.or([
        sql<boolean>`lower(${eb.ref('name')}) LIKE ${like} ESCAPE '\\'`,
        sql<boolean>`lower(${eb.ref('meta')}) LIKE ${like} ESCAPE '\\'`,
      ]),
    );
  }
  const rows = await q.orderBy('name').execute();
  const others = terms.filter((t) => !ascii(t));
  if (others.length === 0) return rows;
  return rows.filter((r) => {
    const text = `${r.name}\n${r.meta ?? ''}`.toLowerCase();
    return others.every((t) => text.includes(t));
  });
}

/** The maintainers of these packages, with their e-mail addresses. */
export async function searchMaintainers(
  db: Db,
  names: readonly string[],
): Promise<{ package: string; name: string; email: string }[]> {
  if (names.length === 0) return [];
  return db
    .selectFrom('maintainers')
    .innerJoin('users', 'users.id', 'maintainers.user_id')
    .select(['maintainers.package', 'users.name', 'users.email'])
    .where('maintainers.package', 'in', names)
    .orderBy('maintainers.package')
    .orderBy('users.name')
    .execute();
}
