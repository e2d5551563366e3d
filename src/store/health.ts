// Whether the database answers at all: the cheapest query that reads a table every install has.
import { sql } from 'kysely';
import type { Db } from './store.ts';

export async function databaseAnswers(db: Db): Promise<void> {
  await sql`SELECT max(version) AS v FROM schema_version`.execute(db);
}
