// A refused form post, drawn again where it was posted: the refusal inside that form (open), tied to a field
// (aria-invalid, aria-describedby), with what was typed kept — never the form token or a secret (a password,
// a one-time password, a hook's secret). The pages decide which form a post was by its action (and hidden
// fields, for a form per row); a form the page does not draw again has its refusal at the top.
import { html, type Html } from './html.ts';

/** The refused post: the form's action, what was typed in it (secrets left out), the refusal's text. */
export type Refused = { action: string; values: Record<string, string>; error: string; reason?: string };

/** Fields never sent back to the browser. */
const SECRETS = new Set(['_csrf', 'otp', 'password', 'old', 'new', 'secret']);

/** What a refused form shows again: every field typed, but no secret. */
export function kept(form: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(form)) if (!SECRETS.has(k) && typeof v === 'string') out[k] = v;
  return out;
}

/** The refused post, for the page that shows it again. */
export function refusal(action: string, form: Record<string, unknown>, e: { message: string; reason?: string }) {
  return { action, values: kept(form), error: e.message, reason: e.reason } satisfies Refused;
}

/** The refused post when `action` (and the hidden fields in `which`) name this form; else undefined. */
export function refusedHere(r: Refused | undefined, action: string, which: Record<string, string> = {}) {
  if (!r || r.action !== action) return undefined;
  return Object.entries(which).every(([k, v]) => (r.values[k] ?? '') === v) ? r : undefined;
}

/** What was typed in field `name` of the refused form (empty for a fresh form). */
export const typed = (at: Refused | undefined, name: string, fresh = '') => (at ? (at.values[name] ?? '') : fresh);

/** The refusal inside its form, and the attributes that tie the field `id` to it (and to its `hint`, if any). */
export function fieldError(at: Refused | undefined, id: string, hint?: string): { alert: Html | ''; attrs: Html | '' } {
  const described = hint ? html` aria-describedby="${hint}"` : '';
  if (!at) return { alert: '', attrs: described };
  return {
    alert: html`<p class="error" role="alert" id="${id}-error">${at.error}</p>`,
    attrs: html` aria-invalid="true" aria-describedby="${id}-error${hint ? ` ${hint}` : ''}"`,
  };
}

/** The page's own message: the refusal, unless its form showed it. */
export function topError(r: Refused | undefined, shownInForm: boolean): Html | '' {
  return r && !shownInForm ? html`<p class="error" role="alert">${r.error}</p>` : '';
}
