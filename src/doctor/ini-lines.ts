// Line-level reading of .npmrc files with exactly ini 6's rules, so every value npm loads can be
// traced back to its file and line (@npmcli/config keeps values, not positions).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ini = require('ini') as { unsafe(v: string): string };

export interface IniEntry {
  /** 1-based line number. */
  line: number;
  /** Key as written, `[]` suffix removed. */
  key: string;
  isArray: boolean;
  /** Text after the first `=`, untrimmed; undefined for a line without `=`. */
  rawValue: string | undefined;
  /** Value as ini parses it (quotes removed, inline comment cut); true for a line without `=`. */
  value: string | boolean | null;
  /** Enclosing [section], if any: npm ignores such keys. */
  section: string | null;
  /** An unquoted value lost text to an inline `#` or `;` comment. */
  truncated: boolean;
}

export type Encoding = 'utf8' | 'utf16le' | 'utf16be' | 'binary';

export interface IniFile {
  entries: IniEntry[];
  sections: { name: string; line: number }[];
  encoding: Encoding;
}

export function detectEncoding(buf: Buffer): Encoding {
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return 'utf16le';
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) return 'utf16be';
  const sample = buf.subarray(0, 512);
  let zeros = 0;
  for (const b of sample) if (b === 0) zeros++;
  if (zeros > 0) {
    // Every other byte zero: UTF-16 without BOM (PowerShell's `echo x > .npmrc` on older versions).
    return zeros * 3 >= sample.length ? (sample[0] === 0 ? 'utf16be' : 'utf16le') : 'binary';
  }
  return 'utf8';
}

const LINE_RE = /^\[([^\]]*)\]\s*$|^([^=]+)(=(.*))?$/i;

function isQuoted(v: string): boolean {
  return (v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"));
}

/** True when an unquoted value contains an unescaped `;` or `#` (ini cuts the value there). */
function hasInlineComment(raw: string): boolean {
  const v = raw.trim();
  if (isQuoted(v)) return false;
  let esc = false;
  for (const c of v) {
    if (esc) esc = false;
    else if (c === '\\') esc = true;
    else if (c === ';' || c === '#') return true;
  }
  return false;
}

export function parseIniLines(text: string, encoding: Encoding = 'utf8'): IniFile {
  const entries: IniEntry[] = [];
  const sections: { name: string; line: number }[] = [];
  let section: string | null = null;
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line || /^\s*[;#]/.test(line) || /^\s*$/.test(line)) continue;
    const m = LINE_RE.exec(line);
    if (!m) continue;
    if (m[1] !== undefined) {
      section = ini.unsafe(m[1]);
      sections.push({ name: section, line: i + 1 });
      continue;
    }
    const keyRaw = ini.unsafe(m[2]);
    const isArray = keyRaw.length > 2 && keyRaw.endsWith('[]');
    const key = isArray ? keyRaw.slice(0, -2) : keyRaw;
    if (key === '__proto__') continue;
    const rawValue = m[3] ? m[4] : undefined;
    let value: string | boolean | null = rawValue === undefined ? true : ini.unsafe(rawValue);
    if (value === 'true' || value === 'false' || value === 'null') value = JSON.parse(value) as boolean | null;
    entries.push({
      line: i + 1,
      key,
      isArray,
      rawValue,
      value,
      section,
      truncated: rawValue !== undefined && hasInlineComment(rawValue),
    });
  }
  return { entries, sections, encoding };
}
