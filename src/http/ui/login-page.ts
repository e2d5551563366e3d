// The pages a person sees after npm prints "Login at: <url>" (sign in or sign up) or
// "Authenticate your account at: <url>" (the web OTP step). Plain HTML, no scripts.
/** These pages carry their own style and no script: nothing inline runs, no other site frames them. (No
 *  form-action: the form posts to the registry's public URL, which a proxy may spell unlike the page's.) */
export const LOGIN_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `body{font:16px system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1.2rem;padding:.6rem 1.2rem}.error{color:#a00;border:1px solid #a00;padding:.5rem}`;

type Opts = {
  action: string;
  create: boolean;
  otpOnly?: boolean;
  error?: string;
  name?: string;
  /** The e-mail typed into a refused sign-up, shown again. */
  email?: string;
  /** The company sign-in (auth.oidc): its name and the link that leaves for it. */
  sso?: { name: string; href: string };
};

function field(id: string, label: string, attrs: string): string {
  return `<label for="${id}">${label}</label><input id="${id}" name="${id}" ${attrs}>`;
}

export function loginPage(o: Opts): string {
  const title = o.otpOnly
    ? 'Confirm with your one-time password'
    : o.create
      ? 'Create your Tessera account'
      : 'Sign in to Tessera';
  const otp = (required: boolean) =>
    field(
      'otp',
      `One-time password${required ? '' : ' (if two-factor authentication is on)'}`,
      `inputmode="numeric" autocomplete="one-time-code"${required ? ' required' : ''}`,
    );
  const fields = o.otpOnly
    ? [otp(true)]
    : [
        field('name', 'Username', `autocomplete="username" required value="${esc(o.name ?? '')}"`),
        ...(o.create
          ? [field('email', 'E-mail', `type="email" autocomplete="email" required value="${esc(o.email ?? '')}"`)]
          : []),
        field(
          'password',
          'Password',
          `type="password" autocomplete="${o.create ? 'new-password' : 'current-password'}" required`,
        ),
        ...(o.create ? [] : [otp(false)]),
      ];
  const button = o.otpOnly ? 'Confirm' : o.create ? 'Create account' : 'Sign in';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body><h1>${title}</h1>
<p>Your terminal is waiting for this step to finish.</p>
${o.error ? `<p class="error" role="alert">${esc(o.error)}</p>` : ''}
${o.sso ? `<p><a href="${esc(o.sso.href)}">Sign in with ${esc(o.sso.name)}</a></p>` : ''}
<form method="post" action="${esc(o.action)}">
${fields.join('\n')}
<button type="submit">${button}</button>
</form></body></html>`;
}

export function donePage(name: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Done</title></head>
<body style="font:16px system-ui,sans-serif;max-width:26rem;margin:4rem auto"><h1>Signed in as ${esc(name)}</h1>
<p>You can close this window and return to your terminal.</p></body></html>`;
}
