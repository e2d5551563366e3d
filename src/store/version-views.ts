// What the web pages keep per version, written when the version is published (README HTML, file list).
import type { Db } from './store.ts';

export type VersionView = { readmeHtml: string; files: [path: string, size: number][] };

export async function putVersionView(db: Db, name: string, version: string, v: VersionView): Promise<void> {
  const row = { readme_html: v.readmeHtml, files: JSON.stringify(v.files) };
  await db
    .insertInto('version_views')
    .values({ package: name, version, ...row })
    .onConflict((oc) => oc.columns(['package', 'version']).doUpdateSet(row))
    .execute();
}

export async function getVersionView(db: Db, name: string, version: string): Promise<VersionView | undefined> {
  const row = await db
    .selectFrom('version_views')
    .select(['readme_html', 'files'])
    .where('package', '=', name)
    .where('version', '=', version)
    .executeTakeFirst();
  return row && { readmeHtml: row.readme_html, files: JSON.parse(row.files) as VersionView['files'] };
}
