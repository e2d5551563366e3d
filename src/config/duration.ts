// Durations as people write them in config and on the command line: 90d, 12h, 10m, 2s, 500ms.
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseDuration(text: string | number): number {
  // A bare number has no unit: `sessionTtl: 8` meant hours or seconds, never the 8 ms it would be. 0 is 0 in any.
  if (typeof text === 'number') {
    if (text === 0) return 0;
    throw new Error(`${text} has no unit (write e.g. ${Math.abs(text)}s or ${Math.abs(text)}m)`);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(text);
  if (!m) throw new Error(`invalid duration "${text}" (use e.g. 90d, 12h, 10m, 2s)`);
  return Math.round(Number(m[1]) * UNITS[m[2]]);
}
