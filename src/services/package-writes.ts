// Writes to an existing package other than publishing a version: deprecate, star, maintainers,
// unpublish (a version or the whole package) and dist-tags. npm sends most of them as a PUT of the
// whole document; we tell them apart by what changed, and authorize each change on its own.
import semver from 'semver';
import { Refusal } from '../domain/reasons.ts';
import { authorizeNewMaintainers, canRead, type Action } from '../domain/policy.ts';
import type { Principal } from '../domain/principal.ts';
import type { PublishDoc } from '../domain/commands.ts';
import { assertReadableName, isValidTag, scopeOf } from '../domain/names.ts';
import { distTagsOf, loadState, packageHead, pickLatest, rerender } from '../store/packages.ts';
import { deleteDistTag, hasDistTag, putDistTag, removeDistTagsOf, removeDistTagsOn } from '../store/dist-tags.ts';
import { isLiveVersion, liveVersionsOf, markUnpublished, setDeprecated } from '../store/versions.ts';
import { maintainerIdsOf, maintainerNamesOf, replaceMaintainers } from '../store/maintainers.ts';
import { addStar, hasStar, removeStar } from '../store/stars.ts';
import { markPackageDeleted } from '../store/package-rows.ts';
import { userIds } from '../store/imports.ts';
import { orgExists, orgRoleOf } from '../store/orgs.ts';
import { factsFor, readPackument } from './read.ts';
import { readCache } from './read-cache.ts';
import type { Db } from '../store/store.ts';
import { dropStagedOf } from '../store/staged.ts';
import { lockPackage } from '../store/locks.ts';
import type { StagedRow } from '../store/schema.ts';
import { audit, type Ctx } from './context.ts';
import { deny } from './deny.ts';
import { decideFor } from './decide.ts';
import { requireSecondFactor } from './two-factor.ts';
import { emit, hookAudience } from './hooks.ts';

/** Decides, refuses when denied, then runs `check` (the request's own refusals) before taking the one-time
 *  password: a request refused for what it asks must not use up the code sent with it, which works once. */
async function allow(ctx: Ctx, p: Principal, action: Action, name: string, check?: () => Promise<void>) {
  const facts = await factsFor(ctx, p, name);
  const d = decideFor(ctx, p, action, facts);
  if (!d.allowed) throw await deny(ctx, p, d, name);
  await check?.();
  await requireSecondFactor(ctx, p, d);
  return facts;
}

/** A client's `_rev` must match the current revision: a stale write is a conflict, never a silent overwrite. */
async function checkRev(db: Db, name: string, rev: unknown): Promise<void> {
  if (rev === undefined || rev === null || rev === 'undefined') return;
  const row = await packageHead(db, name);
  const n = Number.parseInt(String(rev), 10);
  if (row && Number.isFinite(n) && n !== row.rev) throw new Refusal('rev-conflict', { rev: String(rev) });
}

/** The client's `_rev`, compared by the first write of its request; later writes of that request see our own. */
type RevCheck = { rev: unknown };

/** Starts a write on the package: its row locked (store/locks.ts), then the client's `_rev` compared under it. */
async function lockForWrite(trx: Db, name: string, check?: RevCheck): Promise<void> {
  await lockPackage(trx, name);
  if (!check) return;
  await checkRev(trx, name, check.rev);
  check.rev = undefined;
}

type Doc = Record<string, unknown>;

/** What a document update asks for first, judged from the body alone: the policy is asked before the package is
 *  read. A body carrying `users` is at least a star (pnpm's legacy star sends the whole document back). */
function updateAction(keys: string[]): Action {
  if (keys.includes('users')) return 'star';
  if (keys.includes('maintainers') && !keys.includes('versions')) return 'owner';
  // Deprecating and unpublishing versions share their rules; which one it is needs the current versions.
  return 'deprecate';
}

/** The strongest change a whole document asks for, against the package as it is: what a refusal should name. */
async function askedAction(ctx: Ctx, name: string, body: PublishDoc): Promise<Action | undefined> {
  const state = await loadState(ctx.store.db, name);
  if (!state || !body.versions || typeof body.versions !== 'object') return undefined;
  const sent = body.versions as Record<string, Doc>;
  if (state.versions.some((v) => !(v.version in sent))) return 'unpublish';
  const maintainers = namesOf(body.maintainers);
  if (maintainers !== undefined && !sameList(maintainers, state.maintainers.map((m) => m.name).sort())) return 'owner';
  const deprecated = (v: { version: string; deprecated?: string | null }) => {
    const m = sent[v.version];
    return (typeof m?.deprecated === 'string' && m.deprecated !== '' ? m.deprecated : null) !== (v.deprecated ?? null);
  };
  return state.versions.some(deprecated) ? 'deprecate' : undefined;
}

const namesOf = (list: unknown): string[] | undefined =>
  Array.isArray(list)
    ? [...new Set(list.map((m) => (m && typeof m === 'object' ? String((m as Doc).name ?? '') : '')))].sort()
    : undefined;
const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** PUT /<pkg> without attachments, or PUT /<pkg>/-rev/<rev>. Every field the body carries is applied or
 *  refused: a change the registry does not make is never answered with a 201. */
export async function updateDocument(
  ctx: Ctx,
  p: Principal,
  name: string,
  body: PublishDoc,
  urlRev?: string,
): Promise<void> {
  const keys = Object.keys(body).filter((k) => !['_id', '_rev', 'name'].includes(k));
  const first = updateAction(keys);
  // Missing and hidden packages get the policy's one answer before anything about them is looked at.
  const facts = await factsFor(ctx, p, name);
  const gate = decideFor(ctx, p, first, facts);
  if (!gate.allowed) {
    // A caller who may see the package is told about the change it asked for (a deprecation sent as a whole
    // document is refused as a deprecation, not as the star its `users` field also allows).
    const asked = canRead(p, facts) ? await askedAction(ctx, name, body) : undefined;
    const d = asked && asked !== first ? decideFor(ctx, p, asked, facts) : gate;
    throw await deny(ctx, p, d.allowed ? gate : d, name);
  }
  await requireSecondFactor(ctx, p, gate);
  // A cheap early answer; the comparison that holds is made again under the package's lock.
  const revCheck: RevCheck = { rev: urlRev ?? body._rev };
  await checkRev(ctx.store.db, name, revCheck.rev);
  if (keys.length === 1 && keys[0] === 'users') return star(ctx, p, name, body.users, revCheck);
  if (first === 'owner') return setMaintainers(ctx, p, name, body.maintainers, revCheck);
  const state = await loadState(ctx.store.db, name);
  if (!state) throw new Refusal('not-found');
  if (!body.versions || typeof body.versions !== 'object') {
    throw new Refusal('invalid-publish', {
      detail: 'nothing to change: the document has no versions, maintainers or users',
    });
  }
  const sent = body.versions as Record<string, Doc>;
  const current = new Map(state.versions.map((v) => [v.version, v]));
  const removed = [...current.keys()].filter((v) => !(v in sent));
  const unknown = Object.keys(sent).filter((v) => !current.has(v));
  if (unknown.length)
    throw new Refusal('invalid-publish', {
      detail: `versions ${unknown.join(', ')} are not published; publish them with their tarballs`,
    });
  const deprecations: [string, string | null][] = [];
  for (const [v, m] of Object.entries(sent)) {
    const want = typeof m?.deprecated === 'string' && m.deprecated !== '' ? m.deprecated : null;
    if (want !== (current.get(v)!.deprecated ?? null)) deprecations.push([v, want]);
  }
  const tags = body['dist-tags'];
  if (tags && typeof tags === 'object') {
    // Tags on removed versions, and `latest` when versions go, are moved by the registry itself (as npm expects).
    const changed = Object.keys({ ...state.distTags, ...(tags as Record<string, unknown>) }).filter(
      (t) =>
        (tags as Record<string, unknown>)[t] !== state.distTags[t] &&
        !removed.includes(state.distTags[t]) &&
        !(t === 'latest' && removed.length),
    );
    if (changed.length) {
      const detail = `dist-tags are changed with \`npm dist-tag\`, not in the document (${changed.join(', ')})`;
      throw new Refusal('invalid-request', { detail });
    }
  }
  const me = p.user!.name;
  let starred: boolean | undefined;
  if ('users' in body) {
    const users = (body.users && typeof body.users === 'object' ? body.users : {}) as Record<string, unknown>;
    const want = Object.keys(users)
      .filter((u) => users[u] === true)
      .sort();
    const others = [...new Set([...want, ...state.stars])].filter(
      (u) => u !== me && want.includes(u) !== state.stars.includes(u),
    );
    if (others.length) {
      const detail = `only ${me} may be starred or unstarred by ${me} (not ${others.join(', ')})`;
      throw new Refusal('invalid-request', { detail });
    }
    if (want.includes(me) !== state.stars.includes(me)) starred = want.includes(me);
  }
  const maintainers = namesOf(body.maintainers);
  const ownerChange = maintainers !== undefined && !sameList(maintainers, state.maintainers.map((m) => m.name).sort());
  // Each change is authorized on its own, as if it had come alone.
  if (removed.length) await allow(ctx, p, 'unpublish', name);
  if (deprecations.length && first !== 'deprecate') await allow(ctx, p, 'deprecate', name);
  if (ownerChange) await allow(ctx, p, 'owner', name);
  if (ownerChange) await setMaintainers(ctx, p, name, body.maintainers, revCheck);
  if (starred !== undefined) await star(ctx, p, name, { [me]: starred }, revCheck);
  if (!removed.length && !deprecations.length) return; // nothing else to change: the right to write was checked above
  // Removing the last version hides the package: who may hear of it is decided while it is still there.
  const audience = removed.length ? await hookAudience(ctx, name) : undefined;
  const now = ctx.clock.now();
  let dropped: StagedRow[] = [];
  await ctx.store.transaction(async (trx) => {
    await lockForWrite(trx, name, revCheck);
    // The changes were worked out from the versions read before the lock: a version published or removed
    // meanwhile would make them wrong (an unpublish of a version the client never saw).
    if (!sameList((await liveVersionsOf(trx, name)).sort(), [...current.keys()].sort())) {
      throw new Refusal('rev-conflict', { rev: String(revCheck.rev ?? state.rev) });
    }
    for (const [v, msg] of deprecations) await setDeprecated(trx, name, v, msg);
    if (removed.length) dropped = await removeVersions(trx, name, removed, now);
    await rerender(trx, name, now, [
      ...deprecations.map(([v, message]) => ({ deprecated: v, message })),
      ...removed.map((v) => ({ unpublished: v })),
    ]);
  });
  for (const v of removed)
    await audit(ctx, { event: 'unpublish', user: p.user?.name, detail: { package: name, version: v } });
  await auditDropped(ctx, p, dropped);
  const actor = p.user?.name;
  await emit(
    ctx,
    [
      ...deprecations.map(([version, message]) => ({
        event: message === null ? ('package:undeprecated' as const) : ('package:deprecated' as const),
        name,
        version,
        change: { deprecated: version, message },
        actor,
      })),
      ...removed.map((version) => ({ event: 'package:unpublish' as const, name, version, actor })),
    ],
    audience,
  );
}

/** Staged versions of a package that is gone are rejected with it. */
async function auditDropped(ctx: Ctx, p: Principal, rows: StagedRow[]): Promise<void> {
  for (const r of rows) {
    await audit(ctx, {
      event: 'stage-rejected',
      user: p.user?.name,
      reason: 'package-unpublished',
      detail: { package: r.package, version: r.version, id: r.id },
    });
  }
}

async function removeVersions(trx: Db, name: string, versions: string[], now: number): Promise<StagedRow[]> {
  await markUnpublished(trx, name, versions, now);
  await removeDistTagsOn(trx, name, versions);
  const left = await liveVersionsOf(trx, name);
  const hasLatest = await hasDistTag(trx, name, 'latest');
  const latest = pickLatest(left, semver.compare, (v) => semver.prerelease(v) !== null);
  if (!hasLatest && latest) await putDistTag(trx, name, 'latest', latest);
  if (left.length === 0) {
    await markPackageDeleted(trx, name, now);
    return dropStagedOf(trx, name);
  }
  return [];
}

/** Called once the policy allowed 'star'. */
async function star(ctx: Ctx, p: Principal, name: string, users: unknown, rev?: RevCheck): Promise<void> {
  const me = p.user!;
  const starred = typeof users === 'object' && users !== null && (users as Record<string, unknown>)[me.name] === true;
  const now = ctx.clock.now();
  const changed = await ctx.store.transaction(async (trx) => {
    await lockForWrite(trx, name, rev);
    // Read under the lock: a star given twice (or taken back twice) is heard of once.
    if ((await hasStar(trx, name, me.id)) === starred) return false;
    if (starred) await addStar(trx, name, me.id);
    else await removeStar(trx, name, me.id);
    await rerender(trx, name, now, []);
    return true;
  });
  const event = starred ? ('package:star' as const) : ('package:unstar' as const);
  if (changed) await emit(ctx, [{ event, name, change: { user: me.name }, actor: me.name }]);
}

/** Called once the policy allowed 'owner'. */
/** An organization's package takes only members of the organization as new maintainers (policy.ts). */
async function allowNewMaintainers(ctx: Ctx, p: Principal, name: string, users: { id: number; name: string }[]) {
  const scope = scopeOf(name)?.slice(1);
  if (!scope || !(await orgExists(ctx.store.db, scope))) return;
  const current = new Set(await maintainerIdsOf(ctx.store.db, name));
  const outsiders: string[] = [];
  for (const u of users)
    if (!current.has(u.id) && (await orgRoleOf(ctx.store.db, scope, u.id)) === null) outsiders.push(u.name);
  const d = authorizeNewMaintainers({ name, org: { name: scope, role: null, team: null } }, outsiders);
  if (!d.allowed) throw await deny(ctx, p, d, name);
}

async function setMaintainers(
  ctx: Ctx,
  p: Principal,
  name: string,
  maintainers: unknown,
  rev?: RevCheck,
): Promise<void> {
  if (!Array.isArray(maintainers))
    throw new Refusal('invalid-request', { detail: '"maintainers" must be a list of {name, email}' });
  const names = [...new Set(maintainers.map((m) => (m && typeof m === 'object' ? (m as Doc).name : undefined)))];
  if (names.some((n) => typeof n !== 'string' || !n))
    throw new Refusal('invalid-request', { detail: 'every maintainer needs a name' });
  if (names.length === 0) throw new Refusal('last-maintainer');
  const users = [...(await userIds(ctx.store.db, names as string[]))].map(([userName, id]) => ({ id, name: userName }));
  const missing = (names as string[]).filter((n) => !users.some((u) => u.name === n));
  if (missing.length) throw new Refusal('unknown-user', { name: missing[0] });
  await allowNewMaintainers(ctx, p, name, users);
  const now = ctx.clock.now();
  const before = await ctx.store.transaction(async (trx) => {
    await lockForWrite(trx, name, rev);
    // Read under the lock, so two owner changes at once each report what they really changed.
    const was = await maintainerNamesOf(trx, name);
    await replaceMaintainers(
      trx,
      name,
      users.map((u) => u.id),
    );
    await rerender(trx, name, now);
    return was;
  });
  const old = new Set(before);
  for (const u of users)
    if (!old.has(u.name))
      await audit(ctx, { event: 'owner-added', user: p.user?.name, detail: { package: name, owner: u.name } });
  for (const o of old)
    if (!users.some((u) => u.name === o))
      await audit(ctx, { event: 'owner-removed', user: p.user?.name, detail: { package: name, owner: o } });
  const actor = p.user?.name;
  await emit(ctx, [
    ...users
      .filter((u) => !old.has(u.name))
      .map((u) => ({ event: 'package:owner' as const, name, change: { maintainer: u.name }, actor })),
    ...[...old]
      .filter((o) => !users.some((u) => u.name === o))
      .map((o) => ({ event: 'package:owner-rm' as const, name, change: { maintainer: o }, actor })),
  ]);
}

/** `pnpm star`/`unstar`: PUT or DELETE /-/user/v1/star with the package's name, with the policy of npm's form. */
export async function starPackage(ctx: Ctx, p: Principal, name: unknown, starred: boolean): Promise<void> {
  if (typeof name !== 'string' || !name) {
    throw new Refusal('invalid-request', { detail: 'the body must name the package: {"package": "<name>"}' });
  }
  await allow(ctx, p, 'star', name);
  await star(ctx, p, name, { [p.user!.name]: starred });
}

/** `pnpm owner add|rm`: PUT /-/package/<pkg>/owners {user}, DELETE /-/package/<pkg>/owners/<user>, with the
 *  policy and the checks of npm's form (a document update of `maintainers`). */
export async function changeOwner(ctx: Ctx, p: Principal, name: string, user: unknown, add: boolean): Promise<void> {
  await allow(ctx, p, 'owner', name);
  if (typeof user !== 'string' || !user) {
    throw new Refusal('invalid-request', { detail: 'the body must name the user: {"user": "<name>"}' });
  }
  // The list is changed as read at this revision: a change made meanwhile is a conflict, never lost.
  const rev = (await packageHead(ctx.store.db, name))?.rev;
  const names = await maintainerNamesOf(ctx.store.db, name);
  if (!add && !names.includes(user)) {
    throw new Refusal('invalid-request', { detail: `${user} is not a maintainer of ${name}` });
  }
  const next = add ? [...new Set([...names, user])] : names.filter((n) => n !== user);
  await setMaintainers(
    ctx,
    p,
    name,
    next.map((n) => ({ name: n })),
    { rev },
  );
}

/** DELETE /<pkg>/-rev/<rev>: the whole package. Its versions stay taken forever, its name for unpublish.reserveFor. */
export async function unpublishPackage(ctx: Ctx, p: Principal, name: string, rev: string): Promise<void> {
  await allow(ctx, p, 'unpublish', name);
  await checkRev(ctx.store.db, name, rev);
  const audience = await hookAudience(ctx, name);
  const now = ctx.clock.now();
  const dropped = await ctx.store.transaction(async (trx) => {
    await lockForWrite(trx, name, { rev });
    const left = await liveVersionsOf(trx, name);
    const gone = left.length ? await removeVersions(trx, name, left, now) : [];
    await removeDistTagsOf(trx, name);
    await markPackageDeleted(trx, name, now);
    await rerender(trx, name, now);
    return [...gone, ...(await dropStagedOf(trx, name))];
  });
  // deleted_at is the name's reservation (unpublish-reservation.ts): nobody may publish it until then.
  const reservedUntil = new Date(now + ctx.config.unpublish.reserveForMs).toISOString();
  await audit(ctx, { event: 'unpublish', user: p.user?.name, detail: { package: name, reservedUntil } });
  await auditDropped(ctx, p, dropped);
  await emit(ctx, [{ event: 'package:unpublish', name, change: { reservedUntil }, actor: p.user?.name }], audience);
}

/** DELETE /<pkg>/-/<file>.tgz/-rev/<rev>: npm's last step of a version unpublish; the version row is already gone.
 *  When that took the last version, the package is gone too: its former maintainers' cleanup still succeeds,
 *  and everyone else gets the answer a missing name gets. */
export async function deleteTarball(ctx: Ctx, p: Principal, name: string): Promise<void> {
  const facts = await factsFor(ctx, p, name);
  const d = decideFor(ctx, p, 'unpublish', facts);
  // No one-time password here: this request changes nothing (tarballs are kept by content and collected by gc),
  // and the PUT before it in the same `npm unpublish`, which removed the version, took the code; asking again
  // would refuse npm's own second request with the code it was given once (--otp, or the web flow's proof).
  if (d.allowed) return;
  const head = facts.head;
  if (head && head.deletedAt !== null && head.origin === 'local') {
    const maintainerIds = await maintainerIdsOf(ctx.store.db, name);
    const before = { ...facts, exists: true, access: head.access, maintainerIds };
    if (decideFor(ctx, p, 'unpublish', before).allowed) return;
  }
  throw await deny(ctx, p, d, name);
}

type DistTags = Record<string, string>;

export async function getDistTags(ctx: Ctx, p: Principal, name: string, base: string): Promise<DistTags> {
  const head = await readCache(ctx.store).head(name);
  // An upstream package (cached or not) has the upstream's tags, read as its packument is: private names stay 404.
  if (!head || head.origin === 'proxy') {
    assertReadableName(name); // as the packument route does, before anything is asked upstream
    const { body } = await readPackument(ctx, p, name, 'abbrev', base);
    return (JSON.parse(body.toString('utf8')) as { 'dist-tags'?: Record<string, string> })['dist-tags'] ?? {};
  }
  await allow(ctx, p, 'read', name);
  return distTagsOf(ctx.store.db, name);
}

export async function setDistTag(ctx: Ctx, p: Principal, name: string, tag: string, version: string): Promise<void> {
  await allow(ctx, p, 'dist-tag', name, async () => {
    if (!isValidTag(tag)) throw new Refusal('tag-invalid', { tag });
    if (typeof version !== 'string' || !semver.valid(version))
      throw new Refusal('invalid-version', { version: String(version) });
    if (!(await isLiveVersion(ctx.store.db, name, version)))
      throw new Refusal('version-missing', { version, package: name });
  });
  const now = ctx.clock.now();
  await ctx.store.transaction(async (trx) => {
    await lockPackage(trx, name);
    // Checked again under the lock: the version may have been unpublished meanwhile.
    if (!(await isLiveVersion(trx, name, version))) throw new Refusal('version-missing', { version, package: name });
    await putDistTag(trx, name, tag, version);
    await rerender(trx, name, now, []);
  });
  await emit(ctx, [{ event: 'package:dist-tag', name, version, change: { 'dist-tag': tag }, actor: p.user?.name }]);
}

export async function removeDistTag(ctx: Ctx, p: Principal, name: string, tag: string): Promise<void> {
  await allow(ctx, p, 'dist-tag', name);
  if (tag === 'latest') throw new Refusal('latest-tag-required');
  const now = ctx.clock.now();
  await ctx.store.transaction(async (trx) => {
    await lockPackage(trx, name);
    if (!(await deleteDistTag(trx, name, tag)))
      throw new Refusal('invalid-request', { detail: `${tag} is not a dist-tag on ${name}` });
    await rerender(trx, name, now, []);
  });
  await emit(ctx, [{ event: 'package:dist-tag-rm', name, change: { 'dist-tag': tag }, actor: p.user?.name }]);
}
