// npm's hooks API, as libnpmhook speaks it: a user's own webhooks on a package, a scope or an owner's
// packages. Who may make which is policy's authorizeHook; deliveries go through the queue of config hooks
// (hooks.ts), each signed with the hook's secret, which is sealed at rest and never shown again.
import type { HookCreateBody, HookUpdateBody } from '../domain/commands.ts';
import { authorizeHook, hookWithinGrants, type HookTarget, type OrgRole } from '../domain/policy.ts';
import type { Principal, User } from '../domain/principal.ts';
import { Refusal } from '../domain/reasons.ts';
import type { HookRow } from '../store/schema.ts';
import { seal } from '../store/secret-box.ts';
import {
  countHooks,
  deleteHook,
  hookById,
  insertHookWithinLimit,
  listHooks,
  scopeOrg,
  updateHook,
  type HookType,
} from '../store/user-hooks.ts';
import { userByName } from './accounts.ts';
import { audit, type Ctx } from './context.ts';
import { deny } from './deny.ts';
import { factsFor } from './read.ts';
import { requireSecondFactor } from './two-factor.ts';

/** A hook as the API shows it (npm's fields); the secret is never among them. */
export type HookView = {
  id: string;
  username: string;
  type: HookType;
  name: string;
  endpoint: string;
  created: string;
  updated: string;
  delivered: boolean;
  last_delivery: string | null;
  response_code: number;
  status: 'active';
};

export function present(r: HookRow, username: string): HookView {
  const code = r.response_code ?? 0;
  return {
    id: r.id,
    username,
    type: r.type,
    name: r.name,
    endpoint: r.endpoint,
    created: new Date(r.created_at).toISOString(),
    updated: new Date(r.updated_at).toISOString(),
    delivered: code >= 200 && code < 300,
    last_delivery: r.last_delivery === null ? null : new Date(r.last_delivery).toISOString(),
    response_code: code,
    status: 'active',
  };
}

async function allow(ctx: Ctx, p: Principal, write: boolean, target?: HookTarget, label = ''): Promise<User> {
  const d = authorizeHook(p, write, target);
  if (!d.allowed) throw await deny(ctx, p, d, label);
  await requireSecondFactor(ctx, p, d);
  return (p as Principal & { user: User }).user;
}

/** An absolute http(s) URL with no credentials in it: endpoints are shown in every list and the audit log. */
export function checkEndpoint(endpoint: string): string {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    throw new Refusal('hook-endpoint-invalid', { detail: 'not an absolute URL' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new Refusal('hook-endpoint-invalid', { detail: `${u.protocol} is not http or https` });
  }
  if (u.username || u.password) throw new Refusal('hook-endpoint-invalid', { detail: 'the URL carries credentials' });
  return endpoint;
}

/** What the new hook would watch, as the caller stands to it. libnpmhook strips owner names' `~`; not all clients do. */
async function targetOf(ctx: Ctx, p: Principal & { user: User }, type: HookType, raw: string): Promise<HookTarget> {
  if (type === 'package') return { type, pkg: await factsFor(ctx, p, raw) };
  if (type === 'scope') {
    if (!/^@[^/@\s]+$/.test(raw))
      throw new Refusal('invalid-request', { detail: `"${raw}" is not a scope such as @acme` });
    const org = await scopeOrg(ctx.store.db, raw, p.user.id);
    return { type, scope: raw, org: org && { name: org.name, role: org.role as OrgRole | null } };
  }
  const name = raw.replace(/^~/, '');
  return { type, name, exists: (await userByName(ctx, name)) !== undefined };
}

export async function createHook(ctx: Ctx, p: Principal, body: HookCreateBody): Promise<HookView> {
  if (p.user === null) await allow(ctx, p, true);
  const caller = p as Principal & { user: User };
  const target = await targetOf(ctx, caller, body.type, body.name);
  const name = target.type === 'package' ? target.pkg.name : target.type === 'scope' ? target.scope : target.name;
  const user = await allow(ctx, p, true, target, name);
  const endpoint = checkEndpoint(body.endpoint);
  const limit = ctx.config.hookApi.maxPerUser;
  if ((await countHooks(ctx.store.db, user.id)) >= limit) throw new Refusal('hook-limit-reached', { limit });
  // The count above answers early; the one under the user's lock holds across nodes.
  const row = await insertHookWithinLimit(
    ctx.store.db,
    {
      user_id: user.id,
      type: body.type,
      name,
      endpoint,
      secret: seal(ctx.store.dataDir, body.secret),
    },
    ctx.clock.now(),
    limit,
  );
  if (!row) throw new Refusal('hook-limit-reached', { limit });
  await audit(ctx, { event: 'hook-created', user: user.name, detail: { id: row.id, type: row.type, name, endpoint } });
  return present(row, user.name);
}

export async function listOwnHooks(ctx: Ctx, p: Principal, q: { package?: string; limit: number; offset: number }) {
  const user = await allow(ctx, p, false);
  const page = { name: q.package, limit: q.limit, offset: q.offset };
  if (hookWithinGrants(p, { type: 'owner', name: user.name })) {
    const { rows, total } = await listHooks(ctx.store.db, user.id, page);
    return { objects: rows.map((r) => present(r, user.name)), total };
  }
  // A limited token: its hooks are paged after those outside its grants are left out (at most maxPerUser).
  const all = await listHooks(ctx.store.db, user.id, { name: q.package, limit: Number.MAX_SAFE_INTEGER, offset: 0 });
  const rows = all.rows.filter((r) => hookWithinGrants(p, r));
  return { objects: rows.slice(q.offset, q.offset + q.limit).map((r) => present(r, user.name)), total: rows.length };
}

async function own(ctx: Ctx, p: Principal, user: User, id: string): Promise<HookRow> {
  const row = await hookById(ctx.store.db, id, user.id);
  if (!row || !hookWithinGrants(p, row)) throw new Refusal('hook-not-found', { id: id.slice(0, 32) });
  return row;
}

export async function getHook(ctx: Ctx, p: Principal, id: string): Promise<HookView> {
  const user = await allow(ctx, p, false);
  return present(await own(ctx, p, user, id), user.name);
}

export async function changeHook(ctx: Ctx, p: Principal, id: string, body: HookUpdateBody): Promise<HookView> {
  const user = await allow(ctx, p, true);
  const row = await own(ctx, p, user, id);
  const endpoint = checkEndpoint(body.endpoint);
  const secret = body.secret ? seal(ctx.store.dataDir, body.secret) : row.secret;
  const now = ctx.clock.now();
  await updateHook(ctx.store.db, id, endpoint, secret, now);
  await audit(ctx, {
    event: 'hook-updated',
    user: user.name,
    detail: { id, endpoint, secret: body.secret ? 'new' : 'kept' },
  });
  return present({ ...row, endpoint, secret, updated_at: now }, user.name);
}

/** Deletes the hook (and its undelivered events); answers with it, as npm's registry did. */
export async function removeHook(ctx: Ctx, p: Principal, id: string): Promise<HookView> {
  const user = await allow(ctx, p, true);
  const row = await own(ctx, p, user, id);
  await deleteHook(ctx.store.db, id);
  await audit(ctx, { event: 'hook-deleted', user: user.name, detail: { id, type: row.type, name: row.name } });
  return present(row, user.name);
}
