// Package settings in the web pages. Each form calls the service its npm command calls (npm access set,
// npm owner, npm dist-tag, npm deprecate, npm trust), so the policy, the one-time password and the refusals
// are the API's. A package the caller may not manage is the not-found page of a name that does not exist.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../domain/principal.ts';
import { Refusal } from '../../domain/reasons.ts';
import type { ClaimRule } from '../../domain/trust.ts';
import { setPackageAccess } from '../../services/package-access.ts';
import { changeOwner, removeDistTag, setDistTag, updateDocument } from '../../services/package-writes.ts';
import { addTrust, revokeTrust } from '../../services/trust.ts';
import { deprecationDocument, packageSettings } from '../../services/web-settings.ts';
import type { View } from '../ui/layout.ts';
import { packageUrl } from '../ui/pages-browse.ts';
import { settingsPage, settingsUrl, type Msg } from '../ui/pages-settings.ts';
import { done, formContext, pageContext, sendPage, toSignIn, webPlugin } from '../web/common.ts';
import { kept } from '../ui/refused.ts';

type Form = Record<string, string>;

const list = (s: string | undefined) => (s ?? '').split(/[\s,]+/).filter(Boolean);

/** `claim=value` lines; a claim named twice becomes a list the id token's claim must contain. */
function claimLines(text: string | undefined): Record<string, ClaimRule> {
  const out: Record<string, string[]> = {};
  for (const line of (text ?? '').split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (!line.trim()) continue;
    if (eq <= 0) throw new Refusal('invalid-request', { detail: `"${line.trim()}" is not claim=value` });
    (out[line.slice(0, eq).trim()] ??= []).push(line.slice(eq + 1).trim());
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.length === 1 ? v[0] : v]));
}

/** The form as the body `npm trust github|gitlab|circleci` sends (generic: as an administrator's curl would). */
export function trustBody(f: Form): Record<string, unknown> {
  const permissions = [f.publish === 'on' && 'createPackage', f.stage === 'on' && 'createStagedPackage'].filter(
    Boolean,
  );
  const env = f.environment ? { environment: f.environment } : {};
  const circle = 'oidc.circleci.com/';
  const claims: Record<string, unknown> =
    f.type === 'github'
      ? { repository: f.repository, workflow_ref: { file: f.file }, ...env }
      : f.type === 'gitlab'
        ? { project_path: f.project, ci_config_ref_uri: { file: f.file }, ...env }
        : f.type === 'circleci'
          ? {
              [`${circle}org-id`]: f.org_id,
              [`${circle}project-id`]: f.project_id,
              [`${circle}pipeline-definition-id`]: f.pipeline_definition_id,
              [`${circle}vcs-origin`]: f.vcs_origin,
              ...(list(f.context_ids).length ? { [`${circle}context-ids`]: list(f.context_ids) } : {}),
            }
          : claimLines(f.claims);
  return { type: f.type, ...(f.type === 'generic' ? { issuer: f.issuer } : {}), claims, permissions };
}

const MFA: Record<string, object> = {
  none: { publish_requires_tfa: false },
  publish: { publish_requires_tfa: true, automation_token_overrides_tfa: false },
  automation: { publish_requires_tfa: true, automation_token_overrides_tfa: true },
};

/** One settings form: the service it calls, and what the page says once it has. */
type Change = (ctx: FastifyInstance['tessera']['ctx'], p: Principal, name: string, f: Form) => Promise<string>;

const CHANGES: Record<string, Change> = {
  access: async (ctx, p, name, f) => {
    await setPackageAccess(ctx, p, name, { access: f.access });
    return `${name} is now ${f.access === 'public' ? 'public' : 'restricted'}.`;
  },
  mfa: async (ctx, p, name, f) => {
    const body = MFA[f.mfa];
    if (!body) throw new Refusal('invalid-request', { detail: 'mfa must be none, publish or automation' });
    await setPackageAccess(ctx, p, name, body);
    return `The 2FA policy of ${name} is now "${f.mfa}".`;
  },
  'owner-add': async (ctx, p, name, f) => {
    await changeOwner(ctx, p, name, f.user?.trim(), true);
    return `${f.user} is a maintainer of ${name}.`;
  },
  'owner-remove': async (ctx, p, name, f) => {
    await changeOwner(ctx, p, name, f.user, false);
    return `${f.user} is no longer a maintainer of ${name}.`;
  },
  'tag-add': async (ctx, p, name, f) => {
    await setDistTag(ctx, p, name, String(f.tag ?? '').trim(), String(f.version ?? '').trim());
    return `${f.tag} now points to ${f.version}.`;
  },
  'tag-remove': async (ctx, p, name, f) => {
    await removeDistTag(ctx, p, name, String(f.tag ?? ''));
    return `The tag ${f.tag} is removed.`;
  },
  deprecate: async (ctx, p, name, f) => {
    const version = String(f.version ?? '').trim();
    await updateDocument(ctx, p, name, await deprecationDocument(ctx, name, version, String(f.message ?? '').trim()));
    return f.message?.trim() ? `${name}@${version} is deprecated.` : `${name}@${version} is no longer deprecated.`;
  },
  'trust-add': async (ctx, p, name, f) => {
    await addTrust(ctx, p, name, trustBody(f) as never);
    return 'The trusted publisher is added.';
  },
  'trust-revoke': async (ctx, p, name, f) => {
    await revokeTrust(ctx, p, name, String(f.id ?? ''));
    return 'The trusted publisher is revoked; tokens it issued no longer work.';
  },
};

/** `@scope/name` or `name`, as the settings URL carries it. */
function nameOf(wild: string): string {
  const segs = wild.split('/').map((s) => decodeURIComponent(s));
  const n = segs[0]?.startsWith('@') ? 2 : 1;
  if (!segs[0] || segs.length !== n) throw new Refusal('not-found');
  return segs.join('/');
}

export async function webSettingsRoutes(app: FastifyInstance): Promise<void> {
  const { ctx } = app.tessera;
  webPlugin(app);

  const show = async (reply: FastifyReply, view: View, p: Principal, name: string, msg: Msg, status = 200) =>
    sendPage(reply, status, settingsPage(view, await packageSettings(ctx, p, name), msg));

  app.get<{ Params: { '*': string } }>('/-/web/settings/*', async (req, reply) => {
    const { caller, view } = await pageContext(req, reply);
    if (!caller.principal.user) return toSignIn(req, reply);
    return show(reply, view, caller.principal, nameOf(req.params['*']), {});
  });

  app.post<{ Params: { action: string } }>('/-/web/settings/:action', async (req: FastifyRequest, reply) => {
    const { caller, principal, view, form } = await formContext(req, reply);
    if (!principal.user) return toSignIn(req, reply);
    const change = CHANGES[(req.params as { action: string }).action];
    if (!change) throw new Refusal('not-found');
    const name = String(form.package ?? '');
    let notice: string;
    try {
      notice = await change(ctx, principal, name, form);
    } catch (e) {
      // Hidden and missing stay the plain not-found page; every other refusal is shown on the form.
      if (!(e instanceof Refusal) || e.reason === 'not-found') throw e;
      reply.header('x-tessera-reason', e.reason);
      // Shown again in the form that was posted, with what was typed (never the one-time password).
      const values = kept(form);
      const action = (req.params as { action: string }).action;
      return show(reply, view, caller.principal, name, { error: e.message, form: { action, values } }, e.status);
    }
    // Someone who just gave up the last right to manage it sees the package instead.
    const manages = await packageSettings(ctx, caller.principal, name).then(
      () => true,
      (e: unknown) => {
        if (e instanceof Refusal && e.reason === 'not-found') return false;
        throw e;
      },
    );
    return done(req, reply, caller, manages ? settingsUrl(name) : packageUrl(name), notice);
  });
}
