// The page a person sees after `npm login` prints "Login at: <url>". Plain HTML, no scripts.
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function loginPage(opts: { action: string; create: boolean; error?: string; name?: string }): string {
  const title = opts.create ? 'Create your Tessera account' : 'Sign in to Tessera';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1.2rem;padding:.6rem 1.2rem}.error{color:#a00;border:1px solid #a00;padding:.5rem}</style></head>
<body><h1>${title}</h1>
<p>Your terminal is waiting for this sign-in to finish.</p>
${opts.error ? `<p class="error" role="alert">${esc(opts.error)}</p>` : ''}
<form method="post" action="${esc(opts.action)}">
<label for="name">Username</label><input id="name" name="name" autocomplete="username" required value="${esc(opts.name ?? '')}">
${opts.create ? '<label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="email" required>' : ''}
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="${opts.create ? 'new-password' : 'current-password'}" required>
<button type="submit">${opts.create ? 'Create account' : 'Sign in'}</button>
</form></body></html>`;
}

export function donePage(name: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed in</title></head>
<body style="font:16px system-ui,sans-serif;max-width:26rem;margin:4rem auto"><h1>Signed in as ${esc(name)}</h1>
<p>You can close this window and return to your terminal.</p></body></html>`;
}
