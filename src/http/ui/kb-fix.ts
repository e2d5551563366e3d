// The "How to fix it" section of a help article (kb/<id>.md, served at /-/help/<id>), as HTML for the
// "why was I refused?" page. The articles are the registry's own files; they are still sanitized, as a
// README is, so this is no second way around the escaping template.
import { readFileSync } from 'node:fs';
import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';

const KB = new URL('../../../kb/', import.meta.url);
const marked = new Marked({ gfm: true, async: false });
const cache = new Map<string, string>();

function section(text: string, name: string): string {
  const start = text.indexOf(`\n## ${name}\n`);
  if (start < 0) return '';
  const rest = text.slice(start + name.length + 5);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** Sanitized HTML of the article's fix, '' when the id has no article. Ids are the catalogue's (kebab-case). */
export function kbFix(id: string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) return '';
  let out = cache.get(id);
  if (out === undefined) {
    let text = '';
    try {
      text = readFileSync(new URL(`${id}.md`, KB), 'utf8');
    } catch {
      /* no article: no fix to show */
    }
    out = sanitizeHtml(marked.parse(section(text, 'How to fix it')) as string, {
      allowedTags: ['p', 'ul', 'ol', 'li', 'code', 'pre', 'strong', 'em', 'a'],
      allowedAttributes: { a: ['href'], pre: ['tabindex'] },
      allowedSchemes: ['http', 'https'],
      // Articles link each other by id: from these pages, that is the help route.
      transformTags: {
        pre: (tag, attribs) => ({ tagName: tag, attribs: { ...attribs, tabindex: '0' } }),
        a: (tag, attribs) => ({
          tagName: tag,
          attribs: /^[a-z0-9-]+$/.test(attribs.href ?? '') ? { href: `/-/help/${attribs.href}` } : attribs,
        }),
      },
    });
    cache.set(id, out);
  }
  return out;
}
