// Yarn 2–4 ("Berry"): `➤ YN0041: │ pkg@npm:1.0.0: Invalid authentication (as an anonymous user)`, the
// YN0035 request details, YN0001 stacks — with or without the `➤ YNxxxx` prefix people often drop.
import type { Extracted } from './extracted.ts';
import type { Line } from './normalise.ts';

// Authentication codes say more than the generic ones.
const RANK: Record<string, number> = { YN0041: 3, YN0033: 3, YN0035: 2, YN0018: 2, YN0082: 2, YN0001: 1 };

export function parseBerry(lines: Line[], x: Extracted): void {
  for (const { text: t } of lines) {
    let m: RegExpExecArray | null;
    if ((m = /\b(YN\d{4})\b/.exec(t)) && (RANK[m[1]] ?? 0) > (RANK[x.code ?? ''] ?? 0)) x.code = m[1];
    if ((m = /Response Code: (\d{3})/.exec(t))) x.status = Number(m[1]);
    if ((m = /Request Method: (\w+)/.exec(t))) x.method = m[1];
    if ((m = /Request URL: (\S+)/.exec(t))) x.url = m[1];
    if ((m = /HTTPError: Response code (\d{3})/.exec(t))) x.status ??= Number(m[1]);
    if ((m = /RequestError: (.+)$/.exec(t))) x.networkReason ??= m[1];
    if ((m = /__archiveUrl=([^:\s]+)/.exec(t))) {
      try {
        x.url ??= decodeURIComponent(m[1]);
      } catch {
        /* keep what the message says */
      }
    }
    if (/Invalid authentication \(as an? (anonymous|unknown) user\)/.test(t)) {
      x.code ??= 'YN0041';
      x.status ??= 401;
    }
    if (/No authentication configured for request/.test(t)) x.code ??= 'YN0033';
    if (/Environment variable not found/.test(t)) x.code ??= 'YN0000';
  }
}
