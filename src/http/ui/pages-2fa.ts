// Two-factor authentication in the browser, as `npm profile enable-2fa | disable-2fa` does it: the
// password first, a QR code (drawn here as SVG, no outside service) and the secret, the first code to
// confirm, the recovery codes once; mode changes and turning it off ask for the password and a code.
import { renderSVG } from 'uqr';
import { html, raw, type Html } from './html.ts';
import { csrfField, layout, type View } from './layout.ts';
import { fieldError, refusedHere, topError, type Refused } from './refused.ts';

export type TfaState = false | { mode: string; pending: boolean };
type Msg = { error?: string; refused?: Refused };

const MODES = [
  ['auth-and-writes', 'Sign-in and writes (publish, tokens, owners, …)'],
  ['auth-only', 'Sign-in only'],
] as const;

const messages = (m: Msg) => html`${m.error ? html`<p class="error" role="alert">${m.error}</p>` : ''}`;

function modeSelect(current?: string): Html {
  return html`<label for="mode">Ask for a code on</label><select id="mode" name="mode">
${MODES.map(([m, label]) => html`<option value="${m}"${m === current ? html` selected` : ''}>${label}</option>`)}</select>`;
}

type Err = ReturnType<typeof fieldError>;
const none: Err = { alert: '', attrs: '' };

/** The account's password; not required, as an account of the company sign-in has none to give. In a refused
 *  form it carries the refusal (the first field a person fixes: the password, or the code after it). */
const passwordField = (id: string, err?: Err) => {
  const e = err ?? fieldError(undefined, id, `${id}-hint`);
  return html`<label for="${id}">Password</label>
<input id="${id}" name="password" type="password" autocomplete="current-password"${e.attrs}>
<p class="hint" id="${id}-hint">Accounts of the company sign-in have none: leave it empty.</p>`;
};

const code = (label: string, err: Err = none) => html`<label for="otp">${label}</label>
<input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" required${err.attrs}>`;

export function tfaPage(v: View, state: TfaState, msg: Msg = {}): Html {
  const title = 'Two-factor authentication';
  const r = msg.refused;
  // The refused form, when this state of the page draws it; a password refusal goes to the password field,
  // any other to the form's code field.
  const at = (action: string, drawn: boolean) => (drawn ? refusedHere(r, action) : undefined);
  const onPassword = r?.reason === 'password-wrong' || r?.reason === 'password-required';
  const tie = (a: Refused | undefined, pw: string, otp?: string) => {
    const toPw = !!a && (onPassword || !otp);
    const p = fieldError(toPw ? a : undefined, pw, `${pw}-hint`);
    const o = otp ? fieldError(toPw ? undefined : a, otp) : none;
    return { alert: p.alert || o.alert, pw: p, otp: o };
  };
  if (!state || state.pending) {
    const enabling = at('enable', true);
    const cancelling = at('disable', !!state);
    const enable = tie(enabling, 'password');
    const cancel = tie(cancelling, 'cancel-password');
    return layout(
      v,
      title,
      html`<h1>${title}</h1>${messages(msg)}${topError(r, !!(enabling || cancelling))}
<p>${
        state
          ? 'An enrolment was started but not confirmed: start it again to get a new QR code.'
          : 'Two-factor authentication is off.'
      }</p>
<form method="post" action="/-/web/account/2fa/enable">${csrfField(v)}${enable.alert}
${modeSelect(enabling?.values.mode)}${passwordField('password', enable.pw)}
<p><button>Turn on two-factor authentication</button></p></form>
${
  state
    ? html`<form method="post" action="/-/web/account/2fa/disable">${csrfField(v)}${cancel.alert}
${passwordField('cancel-password', cancel.pw)}
<p><button class="secondary">Cancel the enrolment</button></p></form>`
    : ''
}`,
    );
  }
  const changing = at('mode', true);
  const disabling = at('disable', true);
  const mode = tie(changing, 'password', 'otp');
  const off = tie(disabling, 'off-password', 'off-otp');
  return layout(
    v,
    title,
    html`<h1>${title}</h1>${messages(msg)}${topError(r, !!(changing || disabling))}
<p>On: a one-time password is asked for on <strong>${
      state.mode === 'auth-only' ? 'sign-in only' : 'sign-in and writes'
    }</strong> (<code>${state.mode}</code>).</p>
<h2 id="mode-h">Change the mode</h2>
<form method="post" action="/-/web/account/2fa/mode" aria-labelledby="mode-h">${csrfField(v)}
${mode.alert}${modeSelect(changing?.values.mode ?? state.mode)}${passwordField('password', mode.pw)}
${code('One-time password', mode.otp)}<p><button>Change mode</button></p></form>
<h2 id="off-h">Turn it off</h2>
<form method="post" action="/-/web/account/2fa/disable" aria-labelledby="off-h">${csrfField(v)}
${off.alert}${passwordField('off-password', off.pw)}
<label for="off-otp">One-time password to turn it off</label>
<input id="off-otp" name="otp" inputmode="numeric" autocomplete="one-time-code" required${off.otp.attrs}>
<p><button class="danger">Turn off two-factor authentication</button></p></form>`,
  );
}

/** Step 2: scan (or type the secret), then prove it works with the first code. The key is shown once (a reload
 *  shows the form for the code without it). */
export function enrolPage(v: View, otpauth: string | undefined, error?: string): Html {
  const confirm = html`<form method="post" action="/-/web/account/2fa/confirm">${csrfField(v)}
${code('Code from your authenticator')}<p><button>Confirm</button></p></form>`;
  if (otpauth === undefined) {
    return layout(
      v,
      'Set up your authenticator',
      html`<h1>Set up your authenticator</h1>${messages({ error })}
<p class="notice" role="status">The QR code and its secret were shown once and are not shown again. If your
authenticator app has them, confirm with a code from it; if not, <a href="/-/web/account/2fa">start again</a>.</p>
${confirm}`,
    );
  }
  const secret = new URL(otpauth).searchParams.get('secret') ?? '';
  // uqr draws with fill attributes only (no style), so the page's CSP holds; the text alternative is the secret.
  const svg = renderSVG(otpauth, { border: 2 }).replace('<svg ', '<svg role="img" aria-labelledby="qr-label" ');
  return layout(
    v,
    'Set up your authenticator',
    html`<h1>Set up your authenticator</h1>${messages({ error })}
<p id="qr-label">Scan this QR code with your authenticator app, or type the secret below into it.</p>
<div class="qr">${raw(svg)}</div>
<label for="tfa-secret">Secret</label>
<div class="secret"><input id="tfa-secret" class="mono" readonly value="${secret}">
<button type="button" class="secondary" data-copy="tfa-secret" hidden>Copy</button></div>
${confirm}`,
  );
}

/** Step 3: the recovery codes, shown this once (only their hashes are kept); without them, that they were. */
export function recoveryPage(v: View, codes: string[] | undefined): Html {
  if (codes === undefined) {
    return layout(
      v,
      'Recovery codes',
      html`<h1>Two-factor authentication is on</h1>
<p class="notice" role="status">The recovery codes were shown once and are not shown again. If you did not keep
them, turn two-factor authentication off and on again to get new ones.</p>
<p><a href="/-/web/account">Back to your account</a></p>`,
    );
  }
  return layout(
    v,
    'Recovery codes',
    html`<h1>Two-factor authentication is on</h1>
<p class="notice" role="status">Keep these recovery codes somewhere safe: they are shown only this once. Each works
once in place of a one-time password.</p>
<label for="recovery-codes">Recovery codes</label>
<textarea id="recovery-codes" class="mono" readonly rows="${codes.length}">${codes.join('\n')}</textarea>
<button type="button" class="secondary" data-copy="recovery-codes" hidden>Copy</button>
<p><a href="/-/web/account">Back to your account</a></p>`,
  );
}
