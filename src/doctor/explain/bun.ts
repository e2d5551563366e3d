// bun install: `error: GET https://…/@acme%2fui - 401`, `error: @acme/ui@1.0.0 failed to resolve`,
// `error: package "x" not found host/path 404`, `error: forbidden while loading "@acme/ui" 403`, and the
// socket's failure by its name (`error: FailedToOpenSocket downloading package manifest @acme/ui`).
import type { Extracted } from './extracted.ts';
import type { Line } from './normalise.ts';

export function parseBun(lines: Line[], x: Extracted): void {
  for (const { text: t } of lines) {
    let m: RegExpExecArray | null;
    if ((m = /^error: (GET|PUT|POST|DELETE|HEAD) (https?:\/\/\S+) - (\d{3})\b/.exec(t))) {
      x.method ??= m[1];
      x.url ??= m[2];
      x.status ??= Number(m[3]);
    }
    // Older bun names the package and the URL without its scheme.
    if ((m = /^error: package "([^"]+)" not found (\S+) (\d{3})$/.exec(t))) {
      x.spec ??= m[1];
      x.url ??= /^https?:/.test(m[2]) ? m[2] : `https://${m[2]}`;
      x.status ??= Number(m[3]);
      x.method ??= 'GET';
    }
    if ((m = /^error: [a-z][a-z ]* while loading "([^"]+)" (\d{3})$/.exec(t))) {
      x.spec ??= m[1];
      x.status ??= Number(m[2]);
      x.method ??= 'GET';
    }
    if ((m = /^error: ([A-Z][A-Za-z_]+) downloading (?:package manifest|tarball) (\S+)/.exec(t))) {
      x.code ??= m[1];
      x.networkReason ??= m[1];
      x.spec ??= m[2];
    }
    if ((m = /^error: (\S+@\S+) failed to resolve$/.exec(t))) x.spec ??= m[1];
  }
}
