// The company sign-in's second step: the registry's own one-time password, for an account with 2FA when
// the provider's MFA is not trusted (auth.oidc.trustMfa).
import { html, type Html } from './html.ts';
import { csrfField, layout, type View } from './layout.ts';

/** `state` names the sign-in this code confirms (one of several a browser may have under way). */
export function ssoOtpPage(v: View, name: string, state: string, error?: string): Html {
  return layout(
    v,
    'Confirm with your one-time password',
    html`<h1>Confirm with your one-time password</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<p>Signed in as <strong>${name}</strong> by your company account. This account has two-factor authentication:
give the code from your authenticator.</p>
<form method="post" action="/-/signin/oidc/otp">${csrfField(v)}<input type="hidden" name="state" value="${state}">
<label for="otp">One-time password</label>
<input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" required>
<p><button>Confirm</button></p></form>`,
  );
}
