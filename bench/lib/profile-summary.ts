// Summarises a .cpuprofile: self time and inclusive time per function, as a share of all samples.
//   node_modules/.bin/node bench/lib/profile-summary.ts <file.cpuprofile> [top=40] [inclusive-filter-regexp]
import { readFileSync } from 'node:fs';

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] };
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[] };

export function summarize(profile: Profile, top = 40, filter = /^/): string {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const time = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    time.set(id, (time.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...time.values()].reduce((a, b) => a + b, 0);
  const key = (n: Node) => {
    const f = n.callFrame;
    const url = f.url.replace(/^file:\/\/.*?\/(src|bench|test)\//, '$1/').replace(/^.*node_modules\//, 'node_modules/');
    return `${f.functionName || '(anonymous)'} ${url}${url ? `:${f.lineNumber + 1}` : ''}`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, t] of time) {
    const k = key(nodes.get(id)!);
    self.set(k, (self.get(k) ?? 0) + t);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const ck = key(nodes.get(cur)!);
      if (!seen.has(ck)) {
        seen.add(ck);
        inclusive.set(ck, (inclusive.get(ck) ?? 0) + t);
      }
    }
  }
  const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
  const out = [`sampled ${(total / 1e6).toFixed(1)} s`, '--- self time'];
  for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`${pct(t)}  ${k}`);
  out.push(`--- inclusive time${filter.source === '^' ? '' : ` (matching ${filter.source})`}`);
  for (const [k, t] of [...inclusive]
    .sort((a, b) => b[1] - a[1])
    .filter(([k]) => filter.test(k))
    .slice(0, top))
    out.push(`${pct(t)}  ${k}`);
  return out.join('\n');
}

if (import.meta.main) {
  const [file, top, filter] = process.argv.slice(2);
  if (!file) {
    console.error('usage: profile-summary.ts <file.cpuprofile> [top] [filter-regexp]');
    process.exit(2);
  }
  console.log(
    summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(top ?? 40), new RegExp(filter ?? '^')),
  );
}
