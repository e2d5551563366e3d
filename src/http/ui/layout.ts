// The frame every web page shares: title, stylesheet and script from the registry itself, navigation,
// and the sign-out form (a POST with the form token, so no other site can sign anyone out).
import type { User } from '../../domain/principal.ts';
import { html, type Html } from './html.ts';

/** `notice`: what the form post that led here did (POST-redirect-GET), shown once at the top of the page. */
export type View = { user: User | null; csrf: string; registry: string; notice?: string };

export function csrfField(v: View): Html {
  return html`<input type="hidden" name="_csrf" value="${v.csrf}">`;
}

/** A one-time password field, for actions that ask for one when the account has 2FA; `id` is its own on a page
 *  with a form per row (a label names the first field of its id only). */
export function otpField(v: View, label = 'One-time password', id = 'otp'): Html | '' {
  if (!v.user?.tfa) return '';
  return html`<label for="${id}">${label}</label>
<input id="${id}" name="otp" inputmode="numeric" autocomplete="one-time-code" required>`;
}

export function layout(v: View, title: string, body: Html, q = ''): Html {
  const account = v.user
    ? html`<li><a href="/-/web/account">${v.user.name}</a></li><li><a href="/-/web/tokens">Access tokens</a></li>
<li><a href="/-/web/staged">Staged versions</a></li><li><a href="/-/web/hooks">Hooks</a></li><li><a href="/-/web/orgs">Organizations</a></li><li><a href="/-/web/refusals">Why was I refused?</a></li>
${v.user.admin ? html`<li><a href="/-/web/admin">Administration</a></li>` : ''}
<li><form class="inline" method="post" action="/-/web/signout">${csrfField(v)}<button class="secondary">Sign out</button></form></li>`
    : html`<li><a href="/-/web/explain">Explain an error</a></li><li><a href="/-/web/signin">Sign in</a></li>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Tessera</title><link rel="stylesheet" href="/-/web/static/web.css">
<script src="/-/web/static/web.js" defer></script></head>
<body><a class="skip" href="#main">Skip to content</a>
<header class="site"><a class="brand" href="/-/web/">Tessera</a>
<form role="search" method="get" action="/-/web/search"><label class="check" for="site-q">Search packages
<input id="site-q" type="search" name="q" value="${q}"></label></form>
<nav aria-label="Account"><ul class="nav-list">${account}</ul></nav></header>
<main id="main">${v.notice ? html`<p class="notice" role="status">${v.notice}</p>` : ''}${body}</main>
<footer class="site">Registry <code>${v.registry}/</code></footer>
</body></html>`;
}
