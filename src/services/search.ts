// `npm search`: local packages the caller may read, matched on name, description and keywords.
import { sql } from 'kysely';
import type { Principal } from '../domain/principal.ts';
import type { Ctx } from './context.ts';
import { readableNames } from './read.ts';

type Meta = { version?: string; description?: string; keywords?: string[]; date?: string; publisher?: string | null };

export async function search(ctx: Ctx, p: Principal, text: string, size: number, from: number) {
  const terms = text.toLowerCase().split(/\s+/).filter(Boolean);
  let q = ctx.store.db
    .selectFrom('packages')
    .select(['name', 'meta', 'access'])
    .where('origin', '=', 'local')
    .where('deleted_at', 'is', null);
  for (const t of terms) {
    const like = `%${t.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) =>
      eb.or([
        sql<boolean>`lower(${eb.ref('name')}) LIKE ${like} ESCAPE '\\'`,
        sql<boolean>`lower(${eb.ref('meta')}) LIKE ${like} ESCAPE '\\'`,
      ]),
    );
  }
  // Which of them the caller may read is the one read rule's answer, as for the packument itself.
  const matched = await q.orderBy('name').execute();
  const readable = new Set(
    await readableNames(
      ctx,
      p,
      matched.map((r) => r.name),
    ),
  );
  const rows = matched.filter((r) => readable.has(r.name));
  const maintainers = await ctx.store.db
    .selectFrom('maintainers')
    .innerJoin('users', 'users.id', 'maintainers.user_id')
    .select(['maintainers.package', 'users.name', 'users.email'])
    .where('maintainers.package', 'in', rows.length ? rows.map((r) => r.name) : [''])
    .execute();
  const objects = rows.slice(from, from + size).map((r) => {
    const m = JSON.parse(r.meta ?? '{}') as Meta;
    const exact = terms.length === 1 && r.name.toLowerCase() === terms[0];
    return {
      package: {
        name: r.name,
        version: m.version ?? '',
        description: m.description ?? '',
        keywords: m.keywords ?? [],
        date: m.date ?? new Date(0).toISOString(),
        links: {},
        publisher: m.publisher ? { username: m.publisher, email: '' } : undefined,
        maintainers: maintainers.filter((x) => x.package === r.name).map((x) => ({ username: x.name, email: x.email })),
      },
      score: { final: exact ? 1 : 0.5, detail: { quality: 0.5, popularity: 0.5, maintenance: 0.5 } },
      searchScore: exact ? 1 : 0.5,
      flags: r.access === 'public' ? {} : { private: true },
    };
  });
  objects.sort((a, b) => b.searchScore - a.searchScore);
  return { objects, total: rows.length, time: new Date(ctx.clock.now()).toISOString() };
}
