// Sign-in, the account (profile, password, sessions) and access tokens. Forms post back with the form
// token; actions that change credentials ask again for the password or a one-time password.
import type { SessionInfo } from '../../services/web-sessions.ts';
import { html, type Html } from './html.ts';
import { csrfField, layout, otpField, type View } from './layout.ts';
import { fieldError, refusedHere, topError, type Refused } from './refused.ts';

const when = (t: number | string | null | undefined) =>
  t === null || t === undefined ? '—' : new Date(t).toISOString().replace('T', ' ').slice(0, 16);
const alert = (error?: string) => (error ? html`<p class="error" role="alert">${error}</p>` : '');

/** The company sign-in (auth.oidc), when configured: a link that leaves for the provider. */
export type SsoLink = { name: string; href: string; only: boolean };

export function signInPage(v: View, o: { error?: string; name?: string; next?: string; sso?: SsoLink } = {}): Html {
  const sso = o.sso
    ? html`<p><a class="button" href="${o.sso.href}">Sign in with ${o.sso.name}</a></p>
${
  o.sso.only
    ? html`<h2>Administrators</h2>
<p class="hint">Passwords are turned off; break-glass administrators only.</p>`
    : html`<p class="hint">Or with a password:</p>`
}`
    : '';
  return layout(
    v,
    'Sign in',
    html`<h1>Sign in</h1>${alert(o.error)}${sso}
<form method="post" action="/-/web/signin">${csrfField(v)}
<input type="hidden" name="next" value="${o.next ?? ''}">
<label for="name">Username</label><input id="name" name="name" autocomplete="username" required value="${o.name ?? ''}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<label for="otp">One-time password (if two-factor authentication is on)</label>
<input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code">
<p><button>Sign in</button></p></form>`,
  );
}

export type Profile = { name: string; email: string; email_verified: boolean; tfa: unknown; created: string };

/** A one-time password field whose form may hold the refusal (`err`): tied to it when it does. */
function otpIn(v: View, label: string, id: string, err: ReturnType<typeof fieldError>): Html | '' {
  if (!v.user?.tfa) return '';
  return html`<label for="${id}">${label}</label>
<input id="${id}" name="otp" inputmode="numeric" autocomplete="one-time-code" required${err.attrs}>`;
}

export function accountPage(
  v: View,
  p: Profile,
  sessions: SessionInfo[],
  msg: { error?: string; refused?: Refused } = {},
  password = true,
) {
  const tfa = p.tfa && typeof p.tfa === 'object' ? (p.tfa as { mode: string; pending: boolean }) : null;
  // A refusal is shown in the form that was posted (none of their fields is kept: all are secrets).
  const r = msg.refused;
  const pw = fieldError(password ? refusedHere(r, 'password') : undefined, 'old');
  const ending = sessions.find((s) => !s.current && refusedHere(r, 'sessions/revoke', { id: s.id }));
  const everywhere = fieldError(refusedHere(r, 'sessions/revoke-all'), 'otp-everywhere');
  const shown = !!(pw.alert || ending || everywhere.alert);
  return layout(
    v,
    'Your account',
    html`<h1>Your account</h1>${alert(msg.error)}${topError(r, shown)}
<table><tbody>
<tr><th scope="row">Username</th><td>${p.name}</td></tr>
<tr><th scope="row">E-mail</th><td>${p.email} ${
      p.email_verified ? html`<span class="badge">verified</span>` : html`<span class="badge">not verified</span>`
    }</td></tr>
<tr><th scope="row">Two-factor authentication</th><td>${tfa ? `${tfa.mode}${tfa.pending ? ' (pending)' : ''}` : 'off'}
 <a href="/-/web/account/2fa">Manage two-factor authentication</a></td></tr>
<tr><th scope="row">Created</th><td>${when(p.created)}</td></tr></tbody></table>
${
  password
    ? html`<h2 id="password-h">Change password</h2>
<form method="post" action="/-/web/account/password" aria-labelledby="password-h">${csrfField(v)}${pw.alert}
<label for="old">Current password</label>
<input id="old" name="old" type="password" autocomplete="current-password" required${pw.attrs}>
<label for="new">New password</label><input id="new" name="new" type="password" autocomplete="new-password" required>
${otpField(v)}
<p class="hint">Every other sign-in (npm login sessions and web sessions) ends.</p>
<p><button>Change password</button></p></form>`
    : html`<h2>Password</h2>
<p>This account has no password kept here: it signs in through the company's sign-in or directory (change
the password there), or passwords are turned off on this registry.</p>`
}
<h2>Active sessions</h2>
<table><thead><tr><th scope="col">Kind</th><th scope="col">Client</th><th scope="col">Created</th>
<th scope="col">Last used</th><th scope="col">Expires</th><th scope="col"><span class="hint">Action</span></th></tr></thead><tbody>
${sessions.map((s) => {
  const end = fieldError(s === ending ? r : undefined, `otp-end-${s.id}`);
  return html`<tr><td>${s.kind === 'web-session' ? 'web' : 'npm login'}${s.current ? ' (this one)' : ''}</td>
<td>${s.agent ?? s.name ?? ''}</td><td>${when(s.created)}</td><td>${when(s.lastUsed)}</td><td>${when(s.expires)}</td>
<td>${
    s.current
      ? ''
      : html`<form method="post" action="/-/web/account/sessions/revoke">${csrfField(v)}${end.alert}
<input type="hidden" name="id" value="${s.id}">
${otpIn(v, `One-time password to end session ${s.id.slice(0, 8)}`, `otp-end-${s.id}`, end)}
<button class="danger" aria-label="End session ${s.id.slice(0, 8)}">End</button></form>`
  }</td></tr>`;
})}
</tbody></table>
<form method="post" action="/-/web/account/sessions/revoke-all" aria-labelledby="everywhere-h">${csrfField(v)}
<h3 id="everywhere-h">Sign out everywhere</h3>
<p class="hint">Ends every session above, npm login sessions and web sessions, this one too. Access tokens you
created keep working: revoke them on the tokens page.</p>
${everywhere.alert}${otpIn(v, 'One-time password to sign out everywhere', 'otp-everywhere', everywhere)}
<p><button class="danger">End every session</button></p></form>`,
  );
}

type TokenRow = Record<string, unknown>;

function permissions(t: TokenRow): string {
  return ((t.permissions as { name: string; action: string }[]) ?? []).map((x) => `${x.name}: ${x.action}`).join(', ');
}

function limits(t: TokenRow): string {
  const parts = [
    t.packages_all ? 'all packages' : '',
    ...((t.packages as string[]) ?? []),
    ...((t.scopes as string[]) ?? []).map((s) => `${s}/*`),
    ...((t.orgs as string[]) ?? []).map((o) => `org ${o}`),
  ].filter(Boolean);
  return parts.join(', ') || '—';
}

export function tokensPage(v: View, tokens: TokenRow[], msg: { error?: string; notice?: string } = {}): Html {
  const own = tokens.filter((t) => t.type !== 'session' && t.type !== 'web-session');
  return layout(
    v,
    'Access tokens',
    html`<h1>Access tokens</h1>${alert(msg.error)}
<p><a class="button" href="/-/web/tokens/new">Create a token</a></p>
${
  own.length
    ? html`<table><thead><tr><th scope="col">Name</th><th scope="col">Token</th><th scope="col">Kind</th>
<th scope="col">Permissions</th><th scope="col">Packages, scopes, orgs</th><th scope="col">CIDR ranges</th>
<th scope="col">Expires</th><th scope="col">Last used</th><th scope="col"><span class="hint">Action</span></th></tr></thead><tbody>
${own.map(
  (
    t,
  ) => html`<tr><td>${(t.name as string) ?? ''}${t.description ? html`<br><span class="hint">${t.description}</span>` : ''}</td>
<td class="mono">${t.token}</td><td>${t.type}${t.bypass_2fa ? ' (bypasses 2FA)' : ''}</td><td>${permissions(t)}</td>
<td>${limits(t)}</td><td>${((t.cidr_whitelist as string[] | null) ?? []).join(', ') || '—'}</td><td>${when(t.expires as string)}</td>
<td>${when(t.accessed as string)}</td><td><form method="post" action="/-/web/tokens/revoke">${csrfField(v)}
<input type="hidden" name="key" value="${t.key}">${otpField(v, `One-time password to revoke ${String(t.token)}`, `otp-revoke-${String(t.key)}`)}
<button class="danger" aria-label="Revoke ${String(t.name ?? t.token)}">Revoke</button></form></td></tr>`,
)}
</tbody></table>`
    : html`<p>You have no access tokens.</p>`
}
<p class="hint">Login sessions are listed on <a href="/-/web/account">your account</a>.</p>`,
  );
}

const PERMS = ['read-only', 'read-write', 'read-write-stage-only', 'no-access'];

/** A refused token form: the refusal's text, and the field (an id of the form's) it is about, if one. */
export type TokenRefused = { error: string; field?: string };

/** Every option `npm token create` has, by the names npm sends them under. A refusal about one field is shown at
 *  that field (aria-invalid, aria-describedby); any other above the form. */
export function newTokenPage(v: View, f: Record<string, string> = {}, r?: TokenRefused): Html {
  const at = (id: string, hint?: string) =>
    fieldError(r?.field === id ? { action: 'tokens', values: f, error: r.error } : undefined, id, hint);
  const text = (id: string, label: string, hint: string) => {
    const e = at(id, `${id}-hint`);
    return html`<label for="${id}">${label}</label>${e.alert}
<input id="${id}" name="${id}" value="${f[id] ?? ''}"${e.attrs}><p class="hint" id="${id}-hint">${hint}</p>`;
  };
  const check = (id: string, label: string) => {
    const e = at(id);
    return html`${e.alert}<label class="check"><input type="checkbox" id="${id}" name="${id}" value="on"${
      f[id] ? html` checked` : ''
    }${e.attrs}> ${label}</label>`;
  };
  const select = (id: string, label: string, value: string, options: string[]) => {
    const e = at(id);
    return html`<label for="${id}">${label}</label>${e.alert}<select id="${id}" name="${id}"${e.attrs}>
${options.map((o) => html`<option value="${o}"${o === value ? html` selected` : ''}>${o || 'default'}</option>`)}</select>`;
  };
  const fields = ['name', 'token_description', 'expires', 'packages_and_scopes_permission', 'packages_all', 'packages'];
  fields.push('scopes', 'orgs_permission', 'orgs', 'cidr', 'bypass_2fa', 'password', 'otp');
  const top = r && !(r.field && fields.includes(r.field) && (r.field !== 'otp' || v.user?.tfa)) ? alert(r.error) : '';
  const pw = at('password', 'password-hint');
  const otp = at('otp');
  return layout(
    v,
    'Create a token',
    html`<h1>Create a granular access token</h1>${top}
<form method="post" action="/-/web/tokens">${csrfField(v)}
${text('name', 'Name', 'To recognise the token in the list (--name).')}
${text('token_description', 'Description', 'Optional (--token-description).')}
${text('expires', 'Expires in days', "Empty for the registry's default (--expires).")}
<fieldset><legend>Packages and scopes</legend>
${select('packages_and_scopes_permission', 'Permission', f.packages_and_scopes_permission ?? '', ['', ...PERMS])}
${check('packages_all', 'All packages (--packages-all)')}
${text('packages', 'Packages', 'Comma-separated names (--packages).')}
${text('scopes', 'Scopes', 'Comma-separated, e.g. @acme (--scopes).')}</fieldset>
<fieldset><legend>Organizations</legend>
${select('orgs_permission', 'Permission', f.orgs_permission ?? '', ['', ...PERMS.filter((p) => p !== 'read-write-stage-only')])}
${text('orgs', 'Organizations', 'Comma-separated (--orgs).')}</fieldset>
${text('cidr', 'Allowed CIDR ranges', 'Comma-separated, e.g. 192.168.0.0/16 (--cidr).')}
${check('bypass_2fa', 'Publish without a one-time password (--bypass-2fa)')}
<fieldset><legend>Confirm it is you</legend>
<label for="password">Password</label>${pw.alert}<input id="password" name="password" type="password"
 autocomplete="current-password"${pw.attrs}>
<p class="hint" id="password-hint">Accounts of the company sign-in have none: leave it empty.</p>
${
  v.user?.tfa
    ? html`<label for="otp">One-time password</label>${otp.alert}
<input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" required${otp.attrs}>`
    : ''
}</fieldset>
<p><button>Create token</button></p></form>`,
  );
}

/** The token a form made, on the page its post redirected to; without it (read already), that it was shown once. */
export function createdTokenPage(v: View, token: string | undefined, nerfDart: string): Html {
  if (token === undefined) {
    return layout(
      v,
      'Token shown once',
      html`<h1>Your new token</h1>
<p class="notice" role="status">The token was shown once and is not shown again. If you did not copy it, revoke it
and create another.</p>
<p><a href="/-/web/tokens">Back to your tokens</a></p>`,
    );
  }
  return layout(
    v,
    'Token created',
    html`<h1>Your new token</h1>
<p class="notice" role="status">Copy it now: it is shown only this once.</p>
<label for="new-token">Token</label>
<div class="secret"><input id="new-token" class="mono" readonly value="${token}">
<button type="button" class="secondary" data-copy="new-token" hidden>Copy</button></div>
<label for="npmrc-line">Line for .npmrc</label>
<div class="secret"><input id="npmrc-line" class="mono" readonly value="${nerfDart}:_authToken=${token}">
<button type="button" class="secondary" data-copy="npmrc-line" hidden>Copy</button></div>
<p><a href="/-/web/tokens">Back to your tokens</a></p>`,
  );
}
