// "Why was I refused?": the caller's own refusals from the audit log, each with the reason's help page and
// fix; and pasted npm/pnpm/Yarn output explained by the same code as `tessera explain`.
import { notUnderstood, type Explanation } from '../../doctor/explain.ts';
import { reasons } from '../../domain/reasons.ts';
import type { MyRefusal } from '../../services/web-self.ts';
import { html, raw, type Html } from './html.ts';
import { csrfField, layout, type View } from './layout.ts';
import { kbFix } from './kb-fix.ts';

const when = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 19);

/** Backticks in a fix are commands: shown as code, the rest as text (all escaped). */
function commands(text: string): Html {
  return html`${text.split('`').map((part, i) => (i % 2 ? html`<code>${part}</code>` : part))}`;
}

export function refusalsPage(v: View, rows: MyRefusal[]): Html {
  return layout(
    v,
    'Why was I refused?',
    html`<h1>Why was I refused?</h1>
<p>Your most recent refusals, newest first, as the registry's audit log holds them. To understand an error
on your screen instead, <a href="/-/web/explain">paste npm's output</a>.</p>
${
  rows.length
    ? rows.map(
        (r, i) => html`<section class="refusal" aria-labelledby="refusal-${i}">
<h2 id="refusal-${i}"><code>${r.reason}</code> <span class="hint">${when(r.at)}${r.package ? ` · ${r.package}` : ''}${
          r.token ? ` · token ${r.token}…` : ''
        }</span></h2>
<p>${reasons[r.reason].summary} <a href="/-/help/${r.reason}">Help: ${r.reason}</a></p>
<div class="fix">${raw(kbFix(r.reason))}</div></section>`,
      )
    : html`<p role="status">No refusals recorded for you.</p>`
}`,
  );
}

type Result = { ex: Explanation; notices: string[]; said?: string; lines: string[] };

export function explainPage(v: View, text = '', result?: Result): Html {
  return layout(
    v,
    'Explain an npm error',
    html`<h1>Explain an npm, pnpm or Yarn error</h1>
<p>Paste the output (or an npm debug log). It is read here, by the same code as <code>tessera explain</code>, and
not stored; your own npm configuration is not looked at (run <code>tessera explain</code> in the project for that).</p>
<form method="post" action="/-/web/explain">${csrfField(v)}
<label for="output">Output</label><textarea id="output" name="output" rows="12" required>${text}</textarea>
<p><button>Explain</button></p></form>
${result ? explanation(result) : ''}`,
  );
}

function explanation({ ex, notices, said, lines }: Result): Html {
  // The words of `tessera explain` (notUnderstood): what was not found, and what to paste instead.
  if (ex.code === 'UNKNOWN')
    return html`<div role="status">${notUnderstood(lines).map((l) => html`<p>${commands(l)}</p>`)}</div>`;
  return html`<h2>error ${ex.code}${ex.status ? ` (HTTP ${ex.status})` : ''}${ex.method ? ` on ${ex.method}` : ''}</h2>
${ex.url ? html`<p>Request: <code>${ex.url}</code></p>` : ''}
${ex.method === 'PUT' ? html`<p>A PUT is a publish (or another write): this is about publish permission, not installs.</p>` : ''}
${
  ex.method === 'GET'
    ? html`<p>A GET is an install or a metadata read: this is about read access, the registry's
configuration or the network.</p>`
    : ''
}
${said ? html`<p>The registry said: <q>${said}</q></p>` : ''}
${notices.map((n) => html`<p>npm notice: ${n}</p>`)}
${
  ex.causes.length
    ? html`<ol class="causes">${ex.causes.map(
        (c, i) =>
          html`<li><strong>${c.id}</strong>${
            i === 0 ? ' (most likely)' : ''
          }<p>${commands(c.fix)}</p><p><a href="/-/help/${c.id}">Help: ${c.id}</a></p></li>`,
      )}</ol>`
    : html`<p>No known cause for this code; run <code>tessera doctor</code> in the project folder.</p>`
}`;
}
