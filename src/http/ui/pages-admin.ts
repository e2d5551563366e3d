// Administration: users (add, disable, verify e-mail), the audit log with filters, organizations. What
// `tessera user | audit | org` do on the server's own machine, for administrators in the browser.
import type { AuditEntry, AuditFilter, OrgRow, UserRow } from '../../services/admin.ts';
import { html, type Html } from './html.ts';
import { csrfField, layout, otpField, type View } from './layout.ts';

export type Msg = { error?: string; notice?: string };

const when = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 19);
const messages = (m: Msg) => html`${m.error ? html`<p class="error" role="alert">${m.error}</p>` : ''}
${m.notice ? html`<p class="notice" role="status">${m.notice}</p>` : ''}`;

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

export function usersPage(v: View, users: UserRow[], msg: Msg = {}, f: Record<string, string> = {}): Html {
  return frame(
    v,
    'Users',
    html`${messages(msg)}
<table><thead><tr><th scope="col">Name</th><th scope="col">E-mail</th><th scope="col">State</th><th scope="col">Created</th>
<th scope="col"><span class="hint">Actions</span></th></tr></thead><tbody>
${users.map(
  (u, i) => html`<tr><td>${u.name}${u.admin ? html` <span class="badge">admin</span>` : ''}</td>
<td>${u.email} <span class="badge">${u.emailVerified ? 'verified' : 'not verified'}</span></td>
<td>${u.disabled ? 'disabled' : 'active'}</td><td>${when(u.created)}</td><td>${userActions(v, u, i)}</td></tr>`,
)}
</tbody></table>
<h2 id="add-h">Add a user</h2>
<form method="post" action="/-/web/admin/users" aria-labelledby="add-h">${csrfField(v)}
<label for="new-name">User name</label><input id="new-name" name="name" required value="${f.name ?? ''}">
<label for="new-email">E-mail</label><input id="new-email" name="email" type="email" required value="${f.email ?? ''}">
<label for="new-password">Password</label>
<input id="new-password" name="password" type="password" autocomplete="new-password" aria-describedby="new-password-hint">
<p class="hint" id="new-password-hint">Empty for an account that signs in only through single sign-on.</p>
<label class="check"><input type="checkbox" name="verified" value="on"${f.verified ? html` checked` : ''}> E-mail address verified</label>
<label class="check"><input type="checkbox" name="admin" value="on"${f.admin ? html` checked` : ''}> Administrator</label>
${otpField(v)}<p><button>Add user</button></p></form>`,
  );
}

export function auditPage(
  v: View,
  rows: AuditEntry[],
  f: AuditFilter & { sinceText?: string; untilText?: string },
): Html {
  return frame(
    v,
    'Audit log',
    html`<form method="get" action="/-/web/admin/audit" class="filters">
<label for="f-user">User</label><input id="f-user" name="user" value="${f.user ?? ''}">
<label for="f-event">Event</label><input id="f-event" name="event" value="${f.event ?? ''}" placeholder="denied">
<label for="f-reason">Reason</label><input id="f-reason" name="reason" value="${f.reason ?? ''}" placeholder="not-maintainer">
<label for="f-since">Since</label><input id="f-since" name="since" value="${f.sinceText ?? ''}" aria-describedby="f-time-hint">
<label for="f-until">Until</label><input id="f-until" name="until" value="${f.untilText ?? ''}" aria-describedby="f-time-hint">
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

export function adminOrgsPage(v: View, orgs: OrgRow[], msg: Msg = {}, f: Record<string, string> = {}): Html {
  return frame(
    v,
    'Organizations',
    html`${messages(msg)}
<table><thead><tr><th scope="col">Organization</th><th scope="col">Owners</th><th scope="col">Members</th>
<th scope="col">Created</th></tr></thead><tbody>
${orgs.map(
  (
    o,
  ) => html`<tr><td><a href="/-/web/org/${encodeURIComponent(o.name)}">@${o.name}</a></td><td>${o.owners.join(', ')}</td>
<td>${o.members}</td><td>${when(o.created)}</td></tr>`,
)}</tbody></table>
<h2 id="org-h">Create an organization</h2>
<form method="post" action="/-/web/admin/orgs" aria-labelledby="org-h">${csrfField(v)}
<label for="org-name">Name (the scope @name)</label><input id="org-name" name="name" required value="${f.name ?? ''}">
<label for="org-owner">Owner (a user name)</label><input id="org-owner" name="owner" required value="${f.owner ?? ''}">
${otpField(v)}<p><button>Create organization</button></p></form>`,
  );
}
