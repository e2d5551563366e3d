// A package's settings: access, 2FA policy, maintainers, dist-tags, deprecation, trusted publishers and its
// staged versions. A section is drawn when the policy allows its action; a one-time password field appears
// when that decision asks for one. Every form names the package in a hidden field and posts the form token.
import type { Decision } from '../../domain/policy.ts';
import { Refusal } from '../../domain/reasons.ts';
import type { Settings, TrustRow } from '../../services/web-settings.ts';
import { html, type Html } from './html.ts';
import { csrfField, layout, type View } from './layout.ts';
import { packageUrl } from './pages-browse.ts';
import { refusedHere as refusedAt, type Refused } from './refused.ts';

/** `form`: the form a refusal answers (its action) and what was typed in it, shown again there. */
export type Msg = { error?: string; form?: { action: string; values: Record<string, string> } };
/** The settings as drawn: with the refused form, when a post was refused, to show it again as it was. */
type Shown = Settings & { refused?: Refused };

/** The refused post, when `action` (and the hidden fields in `which`) name this form. */
const refusedHere = (s: Shown, action: string, which: Record<string, string> = {}) =>
  refusedAt(s.refused, action, which);

/** Whether the refused post's form is on the page (else its refusal goes at the top). */
function placed(s: Shown): boolean {
  const r = s.refused;
  if (!r) return false;
  if (r.action === 'owner-add') return s.decisions.owner.allowed;
  if (r.action === 'tag-add') return s.decisions['dist-tag'].allowed;
  if (r.action === 'deprecate') return s.decisions.deprecate.allowed;
  if (r.action !== 'trust-add' || !s.trust || !s.decisions.trust.allowed) return false;
  return r.values.type !== 'generic' || s.genericIssuers.includes(r.values.issuer ?? '');
}

export const settingsUrl = (name: string) => `/-/web/settings/${name.split('/').map(encodeURIComponent).join('/')}`;

/** The one-time password field a decision asks for; ids are per form, so every label names its own field. */
function otp(form: string, d: Decision): Html | '' {
  if (!d.allowed || !d.otp) return '';
  return html`<label for="${form}-otp">One-time password</label>
<input id="${form}-otp" name="otp" inputmode="numeric" autocomplete="one-time-code" required>`;
}

/** Why a section cannot be changed, in the words of the refusal the API would give. */
function why(d: Decision): Html | '' {
  return d.allowed
    ? ''
    : html`<p class="hint">${new Refusal(d.reason, d.params).message}
<a href="/-/help/${d.reason}">Why, and how to fix it</a></p>`;
}

/** A form; `at`: its refused post, whose refusal is shown in it. */
function form(v: View, s: Settings, action: string, body: Html, label?: string, at?: Refused): Html {
  return html`<form method="post" action="/-/web/settings/${action}"${label ? html` aria-label="${label}"` : ''}>
${csrfField(v)}<input type="hidden" name="package" value="${s.name}">
${at ? html`<p class="error" role="alert" id="refused-error">${at.error}</p>` : ''}${body}</form>`;
}

type TextOpts = { required?: boolean; hint?: string; at?: Refused; first?: boolean };

/** A text field; in a refused form, with what was typed, and the first one tied to the refusal. */
function text(id: string, name: string, label: string, o: TextOpts = {}): Html {
  const described = [o.at && o.first ? 'refused-error' : '', o.hint ? `${id}-hint` : ''].filter(Boolean).join(' ');
  return html`<label for="${id}">${label}</label><input id="${id}" name="${name}"${o.required ? html` required` : ''}
${described ? html` aria-describedby="${described}"` : ''}${o.at && o.first ? html` aria-invalid="true"` : ''}
 value="${o.at?.values[name] ?? ''}">
${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ''}`;
}

function accessSection(v: View, s: Settings): Html | '' {
  const d = s.decisions.access;
  if (!d.allowed) return '';
  const radio = (value: string, label: string) => html`<label class="check"><input type="radio" name="access"
 value="${value}"${s.access === value ? html` checked` : ''}> ${label}</label>`;
  const access = s.scoped
    ? form(
        v,
        s,
        'access',
        html`<fieldset><legend>Who may install it</legend>
${radio('public', 'Public: anyone who can reach the registry')}
${radio('restricted', 'Restricted: maintainers, the organization and teams granted it')}</fieldset>
${otp('access', d)}<p><button>Save access</button></p>`,
      )
    : html`<p>Public. Only scoped packages can be restricted.</p>`;
  const mfa = (value: string, label: string) => html`
<option value="${value}"${s.mfa === value ? html` selected` : ''}>${label}</option>`;
  return html`<h2 id="access-h">Access</h2>${access}
<h2 id="mfa-h">Two-factor authentication for publishing</h2>
${form(
  v,
  s,
  'mfa',
  html`<label for="mfa">Publishing needs</label><select id="mfa" name="mfa">
${mfa('none', "Nothing more than the publisher's token")}
${mfa('publish', 'A one-time password (2FA) for every publish')}
${mfa('automation', 'A one-time password, or an automation or bypass-2FA token')}</select>
<p class="hint">As <code>npm access set mfa=none|publish|automation</code>.</p>${otp('mfa', d)}
<p><button>Save 2FA policy</button></p>`,
)}`;
}

function maintainersSection(v: View, s: Shown): Html {
  const d = s.decisions.owner;
  const at = refusedHere(s, 'owner-add');
  return html`<h2>Maintainers</h2>${why(d)}
<table><thead><tr><th scope="col">User</th><th scope="col"><span class="hint">Action</span></th></tr></thead><tbody>
${s.maintainers.map(
  (m, i) =>
    html`<tr><td>${m}</td><td>${
      d.allowed
        ? form(
            v,
            s,
            'owner-remove',
            html`
<input type="hidden" name="user" value="${m}">${otp(`owner-remove-${i}`, d)}
<button class="danger" aria-label="Remove ${m}">Remove</button>`,
          )
        : ''
    }</td></tr>`,
)}</tbody></table>
${
  d.allowed
    ? form(
        v,
        s,
        'owner-add',
        html`
${text('owner-user', 'user', 'Add a maintainer (username)', { required: true, at, first: true })}
${otp('owner-add', d)}<p><button>Add maintainer</button></p>`,
        'Add a maintainer',
        at,
      )
    : ''
}`;
}

function tagsSection(v: View, s: Shown): Html {
  const d = s.decisions['dist-tag'];
  const at = refusedHere(s, 'tag-add');
  return html`<h2>Dist-tags</h2>${why(d)}
<table><thead><tr><th scope="col">Tag</th><th scope="col">Version</th>
<th scope="col"><span class="hint">Action</span></th>
</tr></thead><tbody>${Object.entries(s.distTags).map(
    ([t, ver], i) => html`<tr><td><code>${t}</code></td>
<td><a href="${packageUrl(s.name, ver)}">${ver}</a></td>
<td>${
      d.allowed && t !== 'latest'
        ? form(
            v,
            s,
            'tag-remove',
            html`
<input type="hidden" name="tag" value="${t}">${otp(`tag-remove-${i}`, d)}
<button class="danger" aria-label="Remove tag ${t}">Remove</button>`,
          )
        : ''
    }</td></tr>`,
  )}</tbody></table>
${
  d.allowed
    ? form(
        v,
        s,
        'tag-add',
        html`${text('tag-name', 'tag', 'Tag', { required: true, at, first: true })}
${text('tag-version', 'version', 'Version', {
  required: true,
  hint: `One of the ${s.versionCount} published versions.`,
  at,
})}
${otp('tag-add', d)}<p><button>Set tag</button></p>`,
        'Set a dist-tag',
        at,
      )
    : ''
}`;
}

function deprecateSection(v: View, s: Shown): Html {
  const d = s.decisions.deprecate;
  const at = refusedHere(s, 'deprecate');
  return html`<h2>Deprecate a version</h2>${why(d)}
<p class="hint">npm prints the message to everyone who installs the version.</p>
${
  d.allowed
    ? form(
        v,
        s,
        'deprecate',
        html`${text('dep-version', 'version', 'Version', { required: true, at, first: true })}
${text('dep-message', 'message', 'Message', { hint: 'Shown by npm on install. Empty to undeprecate.', at })}
${otp('deprecate', d)}<p><button>Deprecate</button></p>`,
        'Deprecate a version',
        at,
      )
    : ''
}`;
}

function claims(c: TrustRow['claims']): Html {
  const show = (r: unknown) =>
    Array.isArray(r) ? r.join(', ') : r && typeof r === 'object' ? `file ${(r as { file: string }).file}` : String(r);
  return html`<ul class="mono">${Object.entries(c).map(([k, r]) => html`<li>${k}: ${show(r)}</li>`)}</ul>`;
}

/** One add form per kind of CI: the fields `npm trust github|gitlab|circleci` take, or free claims for generic. */
function trustForms(v: View, s: Shown, d: Decision): Html {
  const checked = (at: Refused | undefined, name: string, fresh: boolean) =>
    (at ? at.values[name] === 'on' : fresh) ? html` checked` : '';
  const perms = (k: string, at: Refused | undefined) => html`<fieldset><legend>It may</legend>
<label class="check"><input type="checkbox" name="publish" value="on"${checked(at, 'publish', true)}>
 Publish (createPackage)</label>
<label class="check"><input type="checkbox" name="stage" value="on"${checked(at, 'stage', false)}>
 Stage versions for approval (createStagedPackage)</label>
</fieldset>${otp(`trust-${k}`, d)}`;
  const one = (k: string, title: string, type: string, fields: (at?: Refused) => Html, issuer?: string) => {
    const at = refusedHere(s, 'trust-add', issuer ? { type, issuer } : { type });
    return html`<details${at ? html` open` : ''}>
<summary>${title}</summary>${form(
      v,
      s,
      'trust-add',
      html`<input type="hidden" name="type" value="${type}">
${issuer ? html`<input type="hidden" name="issuer" value="${issuer}">` : ''}${fields(at)}${perms(k, at)}
<p><button>Add ${title} publisher</button></p>`,
      `Add a ${title} trusted publisher`,
      at,
    )}</details>`;
  };
  const env = (k: string, at?: Refused) => text(`${k}-env`, 'environment', 'Environment (optional)', { at });
  return html`<h3>Add a trusted publisher</h3>
${one(
  'github',
  'GitHub Actions',
  'github',
  (at) => html`
${text('github-repo', 'repository', 'Repository (owner/name)', { required: true, at, first: true })}
${text('github-file', 'file', 'Workflow file', {
  required: true,
  hint: 'Its name in .github/workflows, e.g. publish.yml.',
  at,
})}
${env('github', at)}`,
)}
${one(
  'gitlab',
  'GitLab CI/CD',
  'gitlab',
  (at) => html`
${text('gitlab-project', 'project', 'Project (group/name)', { required: true, at, first: true })}
${text('gitlab-file', 'file', 'Pipeline file', { required: true, hint: 'e.g. .gitlab-ci.yml', at })}
${env('gitlab', at)}`,
)}
${one(
  'circleci',
  'CircleCI',
  'circleci',
  (at) => html`${text('cc-org', 'org_id', 'Organization id', { required: true, at, first: true })}
${text('cc-project', 'project_id', 'Project id', { required: true, at })}
${text('cc-pipeline', 'pipeline_definition_id', 'Pipeline definition id', { required: true, at })}
${text('cc-vcs', 'vcs_origin', 'VCS origin', { required: true, hint: 'e.g. github.com/acme/app', at })}
${text('cc-contexts', 'context_ids', 'Context ids (optional, comma-separated)', { at })}`,
)}
${s.genericIssuers.map((name, i) =>
  one(
    `generic-${i}`,
    name,
    'generic',
    (at) => html`
<label for="generic-${i}-claims">Claims</label>
<textarea id="generic-${i}-claims" name="claims" rows="4" required
 aria-describedby="${at ? 'refused-error ' : ''}generic-${i}-hint"${at ? html` aria-invalid="true"` : ''}>${
   at?.values.claims ?? ''
 }</textarea>
<p class="hint" id="generic-${i}-hint">One per line, <code>claim=value</code>, as the issuer's id tokens carry them
(e.g. <code>repository=team/lib</code>); a claim named twice must hold every value.</p>`,
    name,
  ),
)}`;
}

function trustSection(v: View, s: Shown): Html | '' {
  if (!s.trust) return '';
  const d = s.decisions.trust;
  return html`<h2>Trusted publishers</h2>
<p class="hint">CI jobs that publish without a token, proving who they are with an OpenID Connect id token.</p>${why(d)}
${
  s.trust.length
    ? html`<table><thead><tr><th scope="col">Kind</th><th scope="col">Claims</th><th scope="col">May</th>
<th scope="col"><span class="hint">Action</span></th></tr></thead><tbody>${s.trust.map(
        (c) => html`<tr>
<td>${c.type}${'issuer' in c ? html` (${c.issuer})` : ''}</td><td>${claims(c.claims)}</td>
<td>${c.permissions.map((p) => (p === 'createPackage' ? 'publish' : 'stage')).join(', ')}</td>
<td>${
          d.allowed
            ? form(
                v,
                s,
                'trust-revoke',
                html`<input type="hidden" name="id" value="${c.id}">
${otp(`trust-revoke-${c.id}`, d)}
<button class="danger" aria-label="Revoke ${c.type} publisher ${c.id.slice(0, 8)}">Revoke</button>`,
              )
            : ''
        }</td></tr>`,
      )}</tbody></table>`
    : html`<p>None.</p>`
}
${d.allowed ? trustForms(v, s, d) : ''}`;
}

function stagedSection(s: Settings): Html | '' {
  if (!s.staged) return '';
  return html`<h2>Staged versions</h2>${
    s.staged.length
      ? html`<ul>${s.staged.map(
          (i) => html`<li>
<a href="/-/web/staged/${i.id}">${i.version}</a> (tag <code>${i.tag}</code>), staged by ${i.actor}
${i.actorType === 'user' ? '' : '(trusted publisher)'}</li>`,
        )}</ul>`
      : html`<p>None waiting for approval.</p>`
  }`;
}

export function settingsPage(v: View, settings: Settings, msg: Msg = {}): Html {
  const refused = msg.error && msg.form ? { ...msg.form, error: msg.error } : undefined;
  const s: Shown = { ...settings, refused };
  // A refusal goes into the form that was posted, when that form has fields; the others' at the top.
  const top = msg.error && !placed(s) ? msg.error : undefined;
  return layout(
    v,
    `Settings: ${s.name}`,
    html`<h1>Settings of <a href="${packageUrl(s.name)}">${s.name}</a></h1>
${top ? html`<p class="error" role="alert">${top}</p>` : ''}
${accessSection(v, s)}${maintainersSection(v, s)}${tagsSection(v, s)}${deprecateSection(v, s)}
${trustSection(v, s)}${stagedSection(s)}`,
  );
}
