// The hooks page: one's own webhooks (npm's hooks API), a form to add one, and one to change one.
// The secret is asked for, never shown: the API does not give it back either.
import type { HookView } from '../../services/user-hooks.ts';
import { html, type Html } from './html.ts';
import { csrfField, layout, otpField, type View } from './layout.ts';
import { fieldError, refusedHere, topError, typed, type Refused } from './refused.ts';

const when = (t: string | null) => (t === null ? '—' : t.replace('T', ' ').slice(0, 16));
const alert = (error?: string) => (error ? html`<p class="error" role="alert">${error}</p>` : '');
const TYPES = [
  ['package', 'A package'],
  ['scope', 'A scope (e.g. @acme)'],
  ['owner', 'The packages a user maintains (your user name)'],
];

export type HooksMsg = { error?: string; refused?: Refused };

/** The field a hook form's refusal is tied to: the endpoint when the endpoint was refused, else the name. */
const hookField = (r: Refused, name: string) => (r.reason === 'hook-endpoint-invalid' ? 'endpoint' : name);

function secretField(label: string, required: boolean): Html {
  return html`<label for="secret">${label}</label>
<input id="secret" name="secret" type="password" autocomplete="new-password"${required ? html` required` : ''}
 aria-describedby="secret-hint"><p class="hint" id="secret-hint">Signs every delivery (x-npm-signature,
 HMAC-SHA256). It is not shown again.</p>`;
}

export function hooksPage(v: View, hooks: HookView[], msg: HooksMsg = {}): Html {
  const adding = refusedHere(msg.refused, 'add');
  const type = typed(adding, 'type', 'package');
  const tied = adding && hookField(adding, 'name');
  const name = fieldError(tied === 'name' ? adding : undefined, 'name');
  const endpoint = fieldError(tied === 'endpoint' ? adding : undefined, 'endpoint', 'endpoint-hint');
  return layout(
    v,
    'Hooks',
    html`<h1>Hooks</h1>${alert(msg.error)}${topError(msg.refused, !!adding)}
${
  hooks.length
    ? html`<table><thead><tr><th scope="col">Watches</th><th scope="col">Endpoint</th>
<th scope="col">Last delivery</th><th scope="col">Answer</th><th scope="col"><span class="hint">Actions</span></th>
</tr></thead><tbody>
${hooks.map(
  (h) => html`<tr><td>${h.type} <span class="mono">${h.name}</span></td><td class="mono">${h.endpoint}</td>
<td>${when(h.last_delivery)}</td><td>${h.response_code ? String(h.response_code) : '—'}</td>
<td><a href="/-/web/hooks/${h.id}" aria-label="Change the hook on ${h.name}">Change</a>
<form class="inline" method="post" action="/-/web/hooks/delete">${csrfField(v)}
<input type="hidden" name="id" value="${h.id}">
${otpField(v, `One-time password to delete the hook on ${h.name}`, `otp-delete-${h.id}`)}
<button class="danger" aria-label="Delete the hook on ${h.name}">Delete</button></form></td></tr>`,
)}
</tbody></table>`
    : html`<p>You have no hooks.</p>`
}
<h2 id="add-h">Add a hook</h2>
<form method="post" action="/-/web/hooks" aria-labelledby="add-h">${csrfField(v)}${name.alert}${endpoint.alert}
<label for="type">Watch</label><select id="type" name="type">
${TYPES.map(
  ([value, label]) => html`<option value="${value}"${value === type ? html` selected` : ''}>
${label}</option>`,
)}
</select>
<label for="name">Package, scope or user name</label>
<input id="name" name="name" required value="${typed(adding, 'name')}"${name.attrs}>
<label for="endpoint">Endpoint</label>
<input id="endpoint" name="endpoint" type="url" required value="${typed(adding, 'endpoint')}"${endpoint.attrs}>
<p class="hint" id="endpoint-hint">An http(s) URL, without a user name or password. Events are POSTed to it as JSON.</p>
${secretField('Secret', true)}
${otpField(v)}
<p><button>Add hook</button></p></form>
<p class="hint">A hook hears of a package only while you may read it.</p>`,
  );
}

/** The form to change a hook; `refused`: its refused post, shown in it with the endpoint as typed. */
export function editHookPage(v: View, h: HookView, refused?: Refused): Html {
  const err = fieldError(refused, 'endpoint');
  return layout(
    v,
    'Change a hook',
    html`<h1>Change the hook on <span class="mono">${h.name}</span></h1>
<form method="post" action="/-/web/hooks/${h.id}">${csrfField(v)}${err.alert}
<label for="endpoint">Endpoint</label>
<input id="endpoint" name="endpoint" type="url" required value="${typed(refused, 'endpoint', h.endpoint)}"${err.attrs}>
${secretField('New secret (leave empty to keep the current one)', false)}
${otpField(v)}
<p><button>Save</button> <a href="/-/web/hooks">Cancel</a></p></form>`,
  );
}
