// `npm search`: local packages the caller may read, matched on name, description and keywords.
import type { Principal } from '../domain/principal.ts';
import { searchLocalPackages, searchMaintainers } from '../store/search.ts';
import type { Ctx } from './context.ts';
import { readableNames } from './read.ts';

type Meta = { version?: string; description?: string; keywords?: string[]; date?: string; publisher?: string | null };

export async function search(ctx: Ctx, p: Principal, text: string, size: number, from: number) {
  const terms = text.toLowerCase().split(/\s+/).filter(Boolean);
  const matched = await searchLocalPackages(ctx.store.db, terms);
  // Which of them the caller may read is the one read rule's answer, as for the packument itself.
  const readable = new Set(
    await readableNames(
      ctx,
      p,
      matched.map((r) => r.name),
    ),
  );
  const rows = matched.filter((r) => readable.has(r.name));
  const maintainers = await searchMaintainers(
    ctx.store.db,
    rows.map((r) => r.name),
  );
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
