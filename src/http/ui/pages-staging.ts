// The staging queue: the staged versions of the caller's packages, and one staged version under review
// (who staged it, what changed against the latest published version, its files), approved or rejected with
// a one-time password, as `npm stage approve|reject --otp` would.
import type { StageItem } from '../../services/stage.ts';
import type { StagedReview } from '../../services/web-staging.ts';
import { html, type Html } from './html.ts';
import { csrfField, layout, type View } from './layout.ts';
import { packageUrl } from './pages-browse.ts';
import type { Msg } from './pages-settings.ts';

const when = (iso: string) => iso.replace('T', ' ').slice(0, 16);
const kind = (i: StageItem) => (i.actorType === 'user' ? 'user' : 'CI identity');
const who = (i: StageItem) => html`${i.actor} <span class="badge">${kind(i)}</span>`;
const alerts = (msg: Msg) => html`${msg.error ? html`<p class="error" role="alert">${msg.error}</p>` : ''}`;

export function stagedListPage(v: View, items: StageItem[], msg: Msg = {}): Html {
  return layout(
    v,
    'Staged versions',
    html`<h1>Staged versions</h1>${alerts(msg)}
<p class="hint">Versions staged with <code>npm stage publish</code> (or by a trusted publisher) wait here for a
maintainer's approval; installs do not see them.</p>
${
  items.length
    ? html`<table><thead><tr><th scope="col">Package</th><th scope="col">Version</th><th scope="col">Tag</th>
<th scope="col">Staged by</th><th scope="col">Staged</th><th scope="col">Expires</th></tr></thead><tbody>
${items.map(
  (i) => html`<tr><td>${i.packageName}</td><td><a href="/-/web/staged/${i.id}"
 aria-label="Review ${i.packageName}@${i.version}">${i.version}</a></td><td><code>${i.tag}</code></td><td>${who(i)}</td>
<td>${when(i.createdAt)}</td><td>${when(i.expiresAt)}</td></tr>`,
)}</tbody></table>`
    : html`<p>No staged versions of your packages.</p>`
}`,
  );
}

function decision(v: View, id: string, verb: 'approve' | 'reject'): Html {
  return html`<form method="post" action="/-/web/staged/${id}/${verb}"
 aria-label="${verb === 'approve' ? 'Approve' : 'Reject'}">
${csrfField(v)}<label for="${verb}-otp">One-time password to ${verb}</label>
<input id="${verb}-otp" name="otp" inputmode="numeric" autocomplete="one-time-code" required>
<p><button${verb === 'reject' ? html` class="danger"` : ''}>
${verb === 'approve' ? 'Approve and publish' : 'Reject'}</button></p>
</form>`;
}

export function stagedPage(v: View, r: StagedReview, msg: Msg = {}): Html {
  const i = r.item;
  const cell = (x: string | null) => (x === null ? html`<span class="hint">—</span>` : html`<code>${x}</code>`);
  return layout(
    v,
    `Review ${i.packageName}@${i.version}`,
    html`<h1>Review ${i.packageName}@${i.version}</h1>
${alerts(msg)}<p>${r.description}</p>
<table><tbody><tr><th scope="row">Package</th><td><a href="${packageUrl(i.packageName)}">${i.packageName}</a></td></tr>
<tr><th scope="row">Staged by</th><td>${who(i)}</td></tr><tr><th scope="row">Tag</th><td><code>${i.tag}</code></td></tr>
<tr><th scope="row">Access</th><td>${i.access ?? 'unchanged'}</td></tr>
<tr><th scope="row">Staged</th><td>${when(i.createdAt)}</td></tr>
<tr><th scope="row">Expires</th><td>${when(i.expiresAt)}</td></tr>
<tr><th scope="row">Integrity</th><td class="mono">${i.integrity}</td></tr></tbody></table>
<h2 id="changes-h">Compared with ${
      r.latest ? html`the latest version, ${r.latest}` : 'nothing: no version is published'
    }</h2>
<table aria-labelledby="changes-h"><thead><tr><th scope="col">Field</th><th scope="col">Latest</th>
<th scope="col">Staged</th></tr></thead><tbody>${r.changes.map(
      (c) => html`<tr><th scope="row">${c.field}</th>
<td>${cell(c.before)}</td><td>${cell(c.after)}</td></tr>`,
    )}</tbody></table>
<p class="hint">Dependencies, scripts, engines and bin entries are listed only where they differ.</p>
<h2>Files (${r.files.length})</h2>
<details><summary>Files in the staged tarball</summary><ul class="mono">
${r.files.map(([f, size]) => html`<li>${f} <span class="hint">${size} B</span></li>`)}</ul></details>
<h2>Decide</h2>${decision(v, i.id, 'approve')}${decision(v, i.id, 'reject')}`,
  );
}
