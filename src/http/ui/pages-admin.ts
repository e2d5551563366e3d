// Administration: users (add, disable, verify e-mail), the audit log with filters, organizations. What
// `tessera user | audit | org` do on the server's own machine, for administrators in the browser.
import type { AuditEntry, AuditFilter, OrgRow, UserRow } from '../../services/admin.ts';
import { html, type Html } from './html.ts';
import { csrfField, layout, otpField, type View } from './layout.ts';
import { fieldError, refusedHere, topError, typed, type Refused } from './refused.ts';

/** `refused`: a refused post, shown in its form when the page has one with fields (else at the top). */
export type Msg = { error?: string; refused?: Refused };

const when = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 19);
const messages = (m: Msg, shown = false) => html`${m.error ? html`<p class="error" role="alert">${m.error}</p>` : ''}
${topError(m.refused, shown)}`;
const checked = (at: Refused | undefined, name: string) => (at?.values[name] === 'on' ? html` checked` : '');

function frame(v: View, title: string, body: Html): Html {
  return layout(
    v,
    title,
    html`<nav aria-label="Administration"><ul class="nav-list tabs">
<li><a href="/-/web/admin/users">Users</a></li><li><a href="/-/web/admin/audit">Audit log</a></li>
<li><a href="/-/web/admin/orgs">Organizations</a></li></ul></nav><h1>${title}</h1>${body}`,
  );
}

/** Row actions ask for the administrator's code when their 2FA is on; ids stay unique on the page. */
function rowOtp(v: View, id: string, label: string): Html | '' {
  if (!v.user?.tfa) return '';
  return html`<label for="${id}">${label}</label><input id="${id}" name="otp" inputmode="numeric" autocomplete="one-time-code" required>`;
}

function userActions(v: View, u: UserRow, i: number): Html {
  const form = (path: string, button: string, danger: boolean) => html`<form class="inline" method="post"
 action="/-/web/admin/users/${path}">${csrfField(v)}<input type="hidden" name="name" value="${u.name}">
${rowOtp(v, `otp-${path}-${i}`, `One-time password to ${button.toLowerCase()}`)}
<button${danger ? html` class="danger"` : html` class="secondary"`}>${button}</button></form>`;
  return html`${u.emailVerified ? '' : form('verify', `Verify the e-mail of ${u.name}`, false)}
${u.disabled ? '' : form('disable', `Disable ${u.name}`, true)}`;
}

export function usersPage(v: View, users: UserRow[], msg: Msg = {}): Html {
  const adding = refusedHere(msg.refused, 'users');
  const err = fieldError(adding, 'new-name');
  return frame(
    v,
    'Users',
    html`${messages(msg, !!adding)}
<table><thead><tr><th scope="col">Name</th><th scope="col">E-mail</th><th scope="col">State</th><th scope="col">Created</th>
<th scope="col"><span class="hint">Actions</span></th></tr></thead><tbody>
${users.map(
  (u, i) => html`<tr><td>${u.name}${u.admin ? html` <span class="badge">admin</span>` : ''}</td>
<td>${u.email} <span class="badge">${u.emailVerified ? 'verified' : 'not verified'}</span></td>
<td>${u.disabled ? 'disabled' : 'active'}</td><td>${when(u.created)}</td><td>${userActions(v, u, i)}</td></tr>`,
)}
</tbody></table>
<h2 id="add-h">Add a user</h2>
<form method="post" action="/-/web/admin/users" aria-labelledby="add-h">${csrfField(v)}${err.alert}
<label for="new-name">User name</label>
<input id="new-name" name="name" required value="${typed(adding, 'name')}"${err.attrs}>
<label for="new-email">E-mail</label>
<input id="new-email" name="email" type="email" required value="${typed(adding, 'email')}">
<label for="new-password">Password</label>
<input id="new-password" name="password" type="password" autocomplete="new-password" aria-describedby="new-password-hint">
<p class="hint" id="new-password-hint">Empty for an account that signs in only through single sign-on.</p>
<label class="check"><input type="checkbox" name="verified" value="on"${checked(adding, 'verified')}>
 E-mail address verified</label>
<label class="check"><input type="checkbox" name="admin" value="on"${checked(adding, 'admin')}> Administrator</label>
${otpField(v)}<p><button>Add user</button></p></form>`,
  );
}

export function auditPage(
  v: View,
  rows: AuditEntry[],
  f: AuditFilter & { sinceText?: string; untilText?: string },
  refused?: Refused,
): Html {
  // A filter that cannot be read is refused in the filter form, with every filter as typed.
  const badSince = refusedHere(refused, 'audit/since');
  const badUntil = refusedHere(refused, 'audit/until');
  const at = badSince ?? badUntil;
  const since = fieldError(badSince, 'f-since', 'f-time-hint');
  const until = fieldError(badUntil, 'f-until', 'f-time-hint');
  const value = (name: keyof typeof f) => (at ? typed(at, name.replace(/Text$/, '')) : String(f[name] ?? ''));
  return frame(
    v,
    'Audit log',
    html`<form method="get" action="/-/web/admin/audit" class="filters">${since.alert}${until.alert}
<label for="f-user">User</label><input id="f-user" name="user" value="${value('user')}">
<label for="f-event">Event</label><input id="f-event" name="event" value="${value('event')}" placeholder="denied">
<label for="f-reason">Reason</label>
<input id="f-reason" name="reason" value="${value('reason')}" placeholder="not-maintainer">
<label for="f-since">Since</label><input id="f-since" name="since" value="${value('sinceText')}"${since.attrs}>
<label for="f-until">Until</label><input id="f-until" name="until" value="${value('untilText')}"${until.attrs}>
<p class="hint" id="f-time-hint">A date and time (2026-05-01T12:00Z) or a duration back from now (24h, 7d).</p>
<p><button>Filter</button></p></form>
<p role="status">${rows.length} entr${rows.length === 1 ? 'y' : 'ies'}, newest first${rows.length >= 200 ? ' (the newest 200)' : ''}.</p>
<table><thead><tr><th scope="col">Time (UTC)</th><th scope="col">Event</th><th scope="col">User</th><th scope="col">Reason</th>
<th scope="col">Token</th><th scope="col">Detail</th></tr></thead><tbody>
${rows.map(
  (r) => html`<tr><td>${when(r.at)}</td><td>${r.event}</td><td>${r.user ?? ''}</td>
<td>${r.reason ? html`<a href="/-/help/${r.reason}">${r.reason}</a>` : ''}</td><td class="mono">${r.token ? r.token.slice(0, 8) : ''}</td>
<td class="mono">${r.detail ?? ''}</td></tr>`,
)}</tbody></table>`,
  );
}

export function adminOrgsPage(v: View, orgs: OrgRow[], msg: Msg = {}): Html {
  const creating = refusedHere(msg.refused, 'orgs');
  const err = fieldError(creating, 'org-name');
  return frame(
    v,
    'Organizations',
    html`${messages(msg, !!creating)}
<table><thead><tr><th scope="col">Organization</th><th scope="col">Owners</th><th scope="col">Members</th>
<th scope="col">Created</th></tr></thead><tbody>
${orgs.map(
  (
    o,
  ) => html`<tr><td><a href="/-/web/org/${encodeURIComponent(o.name)}">@${o.name}</a></td><td>${o.owners.join(', ')}</td>
<td>${o.members}</td><td>${when(o.created)}</td></tr>`,
)}</tbody></table>
<h2 id="org-h">Create an organization</h2>
<form method="post" action="/-/web/admin/orgs" aria-labelledby="org-h">${csrfField(v)}${err.alert}
<label for="org-name">Name (the scope @name)</label>
<input id="org-name" name="name" required value="${typed(creating, 'name')}"${err.attrs}>
<label for="org-owner">Owner (a user name)</label>
<input id="org-owner" name="owner" required value="${typed(creating, 'owner')}">
${otpField(v)}<p><button>Create organization</button></p></form>`,
  );
}
