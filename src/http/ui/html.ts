// The web pages' one template tool: a tagged template that escapes every value unless it is already Html.
// Escaping is the default, so a page cannot forget it; raw() is only for HTML sanitized at publish time.
export class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function piece(v: unknown): string {
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(piece).join('');
  if (v === undefined || v === null || v === false) return '';
  return escapeHtml(String(v));
}

/** html`<p>${text}</p>`: strings, numbers and arrays are escaped; nested html`` fragments are kept. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1];
  return new Html(out);
}

/** Trusted HTML: the README, sanitized when its version was published. */
export function raw(text: string): Html {
  return new Html(text);
}

/** A link target from package data: http(s) only, so a `javascript:` homepage is no link at all. */
export function safeHref(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  const m = /^(?:git\+)?(https?:\/\/[^\s]+?)(?:\.git)?$/i.exec(url.trim());
  return m ? m[1] : undefined;
}
