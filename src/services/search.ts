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
  // The exact name first, then by name: ranked before paging, or it would only lead its own page.
  const exact = (name: string) => terms.length === 1 && name.toLowerCase() === terms[0];
  const rows = matched
    .filter((r) => readable.has(r.name))
    .sort((a, b) => Number(exact(b.name)) - Number(exact(a.name)));
  const maintainers = await searchMaintainers(
    ctx.store.db,
    rows.map((r) => r.name),
  );
  const objects = rows.slice(from, from + size).map((r) => {
    const m = JSON.parse(r.meta ?? '{}') as Meta;
    const score = exact(r.name) ? 1 : 0.5;
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
      score: { final: score, detail: { quality: 0.5, popularity: 0.5, maintenance: 0.5 } },
      searchScore: score,
      flags: r.access === 'public' ? {} : { private: true },
    };
  });
  return { objects, total: rows.length, time: new Date(ctx.clock.now()).toISOString() };
}
