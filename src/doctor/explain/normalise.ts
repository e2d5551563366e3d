// What people paste is rarely the bare console: CI and Docker logs put timestamps, step numbers and
// service names in front of every line, copy and paste wraps long lines and mangles spacing. The
// normaliser takes all of that off, so each client's parser sees the lines its client printed.

export interface Line {
  /** npm's log level (`error`, `warn`, `notice`, `http`, `verbose`, `silly`, …) or '' for other clients. */
  level: string;
  text: string;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
// One prefix a log tool adds, taken off repeatedly (a GitHub Actions timestamp before a BuildKit step…).
const PREFIXES: RegExp[] = [
  /^\d{4}-\d\d-\d\dT[\d:.]+Z?\s+/, // GitHub Actions / Azure Pipelines timestamps
  /^\[\d{4}-\d\d-\d\d[T ][\d:.]+Z?\]\s*/, // Jenkins timestamper
  /^\d\d:\d\d:\d\d(?:\.\d+)?\s+/, // bare clock
  /^##\[(?:error|warning|group|endgroup|debug)\]/, // GitHub Actions annotations
  /^::(?:error|warning|group|endgroup)(?: [^:]*)?::/,
  /^(?:\d+)?#\d+ \d+(?:\.\d+)?\s+/, // BuildKit: `#12 1175.5 `, and `66#11 98.56 ` when line numbers stick to it
  /^\d+\.\d+ (?=npm |\s*ERR_PNPM_|error |warning |➤ )/, // BuildKit plain progress without the `#n`: seconds
  /^[\w.-]+-\d+\s+\|\s?/, // docker compose: `service-1  | `
  /^\d+\s+\|\s?/, // CodeBuild and other viewers: `514 | `
  /^'\s*(?=npm )/, // stderr quoted in a JS error: `'npm ERR! code E403\n' +`
  /^(?:npm|npx|pnpm|yarn)(?:\.cmd|\.ps1)? : (?=\S)/, // PowerShell wraps a command's first stderr line: `npm : npm ERR! …`
  // A log viewer's line number copied with the line (`42 npm ERR! …`, `cat -n`'s tab, none at all: `42npm ERR!`).
  /^\d+[ \t]*(?=(?:npm|pnpm|yarn|npx) |\[?ERR_PNPM_|error |warning |➤ |YN\d{4}:|\$ )/,
  /^>+(?: |$)/, // quoted in Markdown (`> npm ERR! …`, nested `>> `); npm's own `> pkg@1.0.0 build` lines lose nothing
];
const QUOTED_TAIL = /(?:\\n)?'\s*\+?\s*$/;

function stripPrefixes(raw: string): string {
  if (DEBUGLOG.test(raw)) return raw; // a debug log line: nothing in front of it
  let s = raw.replace(/^\uFEFF/, '');
  for (let again = true; again; ) {
    again = false;
    const t = s.replace(/^\s+/, '');
    for (const re of PREFIXES) {
      const m = re.exec(t);
      if (m?.[0].length) {
        s = t.slice(m[0].length);
        again = true;
        break;
      }
    }
  }
  if (/^npm /.test(s.trimStart()) && QUOTED_TAIL.test(s)) s = s.replace(QUOTED_TAIL, '');
  return s;
}

/** A prefix every non-empty line shares (a tool that runs npm and tags its output: `my-plugin npm ERR! …`). */
function commonWordPrefix(lines: string[]): string {
  const full = lines.filter((l) => l.trim());
  if (full.length < 2) return '';
  const first = /^([\w@./:-]+ )/.exec(full[0])?.[1];
  if (!first || /^(npm|yarn|pnpm|bun|error|warning|warn|info|verbose|\d+):?\s$/i.test(first)) return ''; // a level, not a tool
  return full.every((l) => l.startsWith(first)) ? first : '';
}

const CONSOLE = /^npm (ERR!|error|WARN|warn|notice|http|info|verb|verbose|sill|silly|timing)(?: |$)/;
const DEBUGLOG = /^\d+ (error|warn|notice|http|info|verbose|silly|timing) /;
const JSON_ERROR = /^\s*"(code|summary|detail)": "((?:[^"\\]|\\.)*)",?$/;
const LEVEL: Record<string, string> = { 'ERR!': 'error', WARN: 'warn', verb: 'verbose', sill: 'silly' };

// Copied from a web page (an issue thread, a CI viewer's HTML): the text still carries the page's escapes.
const HTML_ESCAPED = /&(?:quot|gt|lt|#0*39|#x0*27|apos|nbsp);/;
const ENTITIES: Record<string, string> = { quot: '"', gt: '>', lt: '<', apos: "'", nbsp: ' ', amp: '&' };
function unescapeHtml(text: string): string {
  if (!HTML_ESCAPED.test(text)) return text;
  return text.replace(/&(quot|gt|lt|apos|nbsp|amp|#0*39|#x0*27);/g, (_m, e: string) => ENTITIES[e] ?? "'");
}

/** What a terminal shows of a line that `\r` rewrote (progress spinners, GitLab's section markers): the last part. */
function lastShown(line: string): string {
  if (!line.includes('\r')) return line;
  const parts = line.split('\r').filter((p) => p.trim());
  return parts[parts.length - 1] ?? '';
}

/** Lines with their npm level; wrapped continuation lines are joined back to the line they belong to. */
export function normalise(text: string): Line[] {
  // Lines ended by `\r` alone (a classic Mac text file, some Windows clipboards) are lines, not rewrites.
  const unified = text.includes('\n') ? text : text.replace(/\r/g, '\n');
  const raw = unescapeHtml(unified).replace(ANSI, '').split(/\r?\n/).map(lastShown).map(stripPrefixes);
  const common = commonWordPrefix(raw);
  const out: Line[] = [];
  for (const r of raw) {
    let m = common ? null : DEBUGLOG.exec(r); // most lines of a long log: the fast path
    if (m) {
      out.push({ level: m[1], text: tidy(r.slice(m[0].length)) });
      continue;
    }
    const line = (common && r.startsWith(common) ? r.slice(common.length) : r).replace(/\s+$/, '');
    m = DEBUGLOG.exec(line);
    if (m) {
      out.push({ level: m[1], text: tidy(line.slice(m[0].length)) });
      continue;
    }
    m = CONSOLE.exec(line.trimStart());
    if (m) {
      out.push({ level: LEVEL[m[1]] ?? m[1], text: tidy(line.trimStart().slice(m[0].length)) });
      continue;
    }
    m = DEBUGLOG.exec(line);
    if (m) {
      out.push({ level: m[1], text: tidy(line.slice(m[0].length)) });
      continue;
    }
    // `npm … --json` prints its error as an object: `"code": "E401"`, `"summary": "…"`, `"detail": "…"`.
    m = JSON_ERROR.exec(line);
    if (m) {
      let v = m[2];
      try {
        v = JSON.parse(`"${v}"`);
      } catch {
        /* keep the escaped text */
      }
      if (m[1] === 'code') out.push({ level: 'error', text: `code ${v}` });
      else for (const t of v.split('\n')) out.push({ level: 'error', text: tidy(t) });
      continue;
    }
    const prev = out[out.length - 1];
    // A line the terminal or the reporter wrapped: it continues an npm line without a prefix of its own.
    if (prev?.level && line && wrapped(prev.text, line)) {
      prev.text = tidy(joinWrapped(prev.text, line));
      continue;
    }
    out.push({ level: '', text: tidy(line) });
  }
  return out;
}

function wrapped(prev: string, line: string): boolean {
  if (/^\s{6,}\S/.test(line) && !/^\s+at /.test(line)) return true; // indented continuation
  if (/^- \S/.test(line) && /\s(GET|PUT|POST|DELETE|HEAD) \S+$/.test(prev)) return true; // `- reason` on its own line
  // A word cut at the terminal's width (80 columns, Windows consoles).
  return prev.length >= 70 && /^[a-z0-9]{1,12}(?:\b|$)/.test(line) && !/[.:]$/.test(prev);
}

function joinWrapped(prev: string, line: string): string {
  const t = line.trim();
  return prev.length >= 70 && /^[a-z0-9]/.test(t) && !/^\s/.test(line) ? prev + t : `${prev} ${t}`;
}

/** Spacing mangled by copy and paste: runs of blanks inside a line say nothing. */
function tidy(s: string): string {
  if (!/\s\s|\t|\u00a0/.test(s)) return s.trim();
  return s.replace(/[ \t\u00a0]{2,}/g, ' ').trim();
}
