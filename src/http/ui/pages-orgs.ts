// Organizations and teams: members and roles, teams and their members, team grants on the org's packages.
// Each form is one `npm org | team | access` command; the refusals are that command's.
import { html, type Html } from './html.ts';
import { csrfField, layout, otpField, type View } from './layout.ts';
import { fieldError, refusedHere, typed } from './refused.ts';

/** `form`: the form a refusal answers (its action and team) and what was typed in it, shown again there. */
export type Msg = { error?: string; form?: { path: string; values: Record<string, string> } };
export type Team = { name: string; members: string[]; packages: Record<string, string> };
export type OrgView = { org: string; members: Record<string, string>; teams: Team[] };

const orgUrl = (org: string) => `/-/web/org/${encodeURIComponent(org)}`;

/** The page's messages; a refusal of a form that has fields is shown next to that form instead (atForm). */
const messages = (m: Msg) => html`${m.error && !m.form ? html`<p class="error" role="alert">${m.error}</p>` : ''}`;

/** The refused form's state, when `path` (and, for a team's forms, `team`) names the form that was posted. */
function atForm(m: Msg, path: string, team?: string) {
  const r = m.error && m.form ? { action: m.form.path, values: m.form.values, error: m.error } : undefined;
  const at = refusedHere(r, path, team === undefined ? {} : { team });
  return at && { ...at, value: (name: string) => typed(at, name) };
}

const options = (values: string[], selected: string) =>
  values.map((o) => html`<option value="${o}"${o === selected ? html` selected` : ''}>${o}</option>`);

export function orgsPage(v: View, orgs: { org: string; role: string }[]): Html {
  return layout(
    v,
    'Organizations',
    html`<h1>Your organizations</h1>
${
  orgs.length
    ? html`<table><thead><tr><th scope="col">Organization</th><th scope="col">Your role</th></tr></thead><tbody>
${orgs.map((o) => html`<tr><td><a href="${orgUrl(o.org)}">@${o.org}</a></td><td>${o.role}</td></tr>`)}</tbody></table>`
    : html`<p>You are not a member of any organization. An administrator creates them; an owner adds members.</p>`
}`,
  );
}

/** A small form posting to one action of the organization, its fields given as HTML. */
function action(v: View, org: string, path: string, fields: Html, button: string, danger = false): Html {
  return html`<form class="inline" method="post" action="${orgUrl(org)}/${path}">${csrfField(v)}${fields}
<button${danger ? html` class="danger"` : ''}>${button}</button></form>`;
}

const hidden = (name: string, value: string) => html`<input type="hidden" name="${name}" value="${value}">`;

/** One-time password fields need ids unique on the page. */
function otp(v: View, id: string, label: string): Html | '' {
  if (!v.user?.tfa) return '';
  return html`<label for="${id}">${label}</label><input id="${id}" name="otp" inputmode="numeric" autocomplete="one-time-code" required>`;
}

function teamSection(v: View, o: OrgView, t: Team, i: number, msg: Msg): Html {
  const grants = Object.entries(t.packages);
  const adding = atForm(msg, 'teams/members', t.name);
  const addError = fieldError(adding?.value('op') === 'add' ? adding : undefined, `add-${i}`);
  const granting = atForm(msg, 'grants', t.name);
  const grantError = fieldError(granting, `grant-${i}`);
  return html`<section aria-labelledby="team-${i}"><h3 id="team-${i}">${o.org}:${t.name}</h3>
<table><caption>Members of ${o.org}:${t.name}</caption><thead><tr><th scope="col">Member</th>
<th scope="col"><span class="hint">Action</span></th></tr></thead><tbody>
${t.members.map(
  (m) =>
    html`<tr><td>${m}</td><td>${
      t.name === 'developers'
        ? ''
        : action(
            v,
            o.org,
            'teams/members',
            html`${hidden('team', t.name)}${hidden('user', m)}${hidden('op', 'rm')}${otp(v, `otp-t${i}-${m}`, `One-time password to remove ${m}`)}`,
            `Remove ${m} from ${t.name}`,
            true,
          )
    }</td></tr>`,
)}</tbody></table>
${
  t.name === 'developers'
    ? html`<p class="hint">Every member of the organization is in this team.</p>`
    : action(
        v,
        o.org,
        'teams/members',
        html`${hidden('team', t.name)}${hidden('op', 'add')}${addError.alert}
<label for="add-${i}">Add a member to ${t.name}</label>
<input id="add-${i}" name="user" required value="${adding?.value('user') ?? ''}"${addError.attrs}>
${otp(v, `otp-ta${i}`, 'One-time password')}`,
        'Add to team',
      )
}
<table><caption>Packages ${o.org}:${t.name} may reach</caption><thead><tr><th scope="col">Package</th>
<th scope="col">Permission</th><th scope="col"><span class="hint">Action</span></th></tr></thead><tbody>
${
  grants.length
    ? grants.map(
        ([pkg, perm]) => html`<tr><td>${pkg}</td><td>${perm === 'write' ? 'read-write' : 'read-only'}</td>
<td>${action(
          v,
          o.org,
          'grants/revoke',
          html`${hidden('team', t.name)}${hidden('package', pkg)}${otp(
            v,
            `otp-r${i}-${pkg}`,
            `One-time password to revoke ${pkg}`,
          )}`,
          `Revoke ${pkg} from ${t.name}`,
          true,
        )}</td></tr>`,
      )
    : html`<tr><td colspan="3">No packages granted.</td></tr>`
}</tbody></table>
${action(
  v,
  o.org,
  'grants',
  html`${hidden('team', t.name)}${grantError.alert}
<label for="grant-${i}">Grant a package of @${o.org} to ${t.name}</label>
<input id="grant-${i}" name="package" required placeholder="@${o.org}/name"
 value="${granting?.value('package') ?? ''}"${grantError.attrs}>
<label for="perm-${i}">Permission</label><select id="perm-${i}" name="permissions">
${options(['read-only', 'read-write'], granting?.value('permissions') ?? '')}</select>
${otp(v, `otp-g${i}`, 'One-time password')}`,
  'Grant',
)}
${
  t.name === 'developers'
    ? ''
    : html`<p>${action(
        v,
        o.org,
        'teams/destroy',
        html`${hidden('team', t.name)}${otp(v, `otp-d${i}`, `One-time password to remove the team ${t.name}`)}`,
        `Remove the team ${t.name}`,
        true,
      )}</p>`
}</section>`;
}

export function orgPage(v: View, o: OrgView, msg: Msg = {}): Html {
  const members = Object.entries(o.members);
  const setting = atForm(msg, 'members');
  const setError = fieldError(setting, 'member-user');
  const creating = atForm(msg, 'teams');
  const createError = fieldError(creating, 'team-name');
  // A refused form without fields of its own (a remove button) has its refusal at the top of the page.
  const inTeam = o.teams.some(
    (t) =>
      (t.name !== 'developers' && atForm(msg, 'teams/members', t.name)?.value('op') === 'add') ||
      atForm(msg, 'grants', t.name),
  );
  const shown = setting || creating || inTeam;
  const top: Msg = shown ? { form: msg.form } : { ...msg, form: undefined };
  return layout(
    v,
    `@${o.org}`,
    html`<h1>Organization @${o.org}</h1>${messages(top)}
<h2>Members</h2>
<table><thead><tr><th scope="col">Member</th><th scope="col">Role</th><th scope="col"><span class="hint">Action</span></th></tr></thead>
<tbody>${members.map(
      ([name, role], i) =>
        html`<tr><td>${name}</td><td>${role}</td><td>${action(
          v,
          o.org,
          'members/remove',
          html`${hidden('user', name)}${otp(v, `otp-m${i}`, `One-time password to remove ${name}`)}`,
          `Remove ${name}`,
          true,
        )}</td></tr>`,
    )}
</tbody></table>
<h3 id="set-h">Add a member or change a role</h3>
<form method="post" action="${orgUrl(o.org)}/members" aria-labelledby="set-h">${csrfField(v)}${setError.alert}
<label for="member-user">User name</label>
<input id="member-user" name="user" required value="${setting?.value('user') ?? ''}"${setError.attrs}>
<label for="member-role">Role</label><select id="member-role" name="role">
${options(['developer', 'admin', 'owner'], setting?.value('role') ?? '')}</select>
${otpField(v)}<p><button>Set role</button></p></form>
<p class="hint">As <code>npm org set ${o.org} &lt;user&gt; &lt;role&gt;</code>: admins manage developers and admins, owners everyone.</p>
<h2>Teams</h2>
${o.teams.map((t, i) => teamSection(v, o, t, i, msg))}
<h3 id="team-h">Create a team</h3>
<form method="post" action="${orgUrl(o.org)}/teams" aria-labelledby="team-h">${csrfField(v)}${createError.alert}
<label for="team-name">Team name</label>
<input id="team-name" name="name" required value="${creating?.value('name') ?? ''}"${createError.attrs}>
<label for="team-description">Description</label>
<input id="team-description" name="description" value="${creating?.value('description') ?? ''}">
${otp(v, 'otp-team', 'One-time password')}<p><button>Create team</button></p></form>`,
  );
}
