// Plain-text table output.
export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(cells[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) console.log(line(r));
}

export const fmt = {
  rps: (n: number) => (Number.isFinite(n) ? Math.round(n).toString() : 'n/a'),
  ms: (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a'),
  us: (n: number) => (Number.isFinite(n) ? n.toFixed(0) : 'n/a'),
  ratio: (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a'),
  range: ([lo, hi]: [number, number]) => `(${lo.toFixed(2)}–${hi.toFixed(2)})`,
  bytes: (n: number) =>
    n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} kB` : `${n} B`,
};
