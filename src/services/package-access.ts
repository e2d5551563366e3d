// `npm access set status=public|private` and `npm access set mfa=none|publish|automation`.
import { Refusal } from '../domain/reasons.ts';
import type { Principal } from '../domain/principal.ts';
import type { AccessSet } from '../domain/commands.ts';
import { scopeOf } from '../domain/names.ts';
import { rerender } from '../store/packages.ts';
import { setPackageSettings, type PackageSettings } from '../store/package-rows.ts';
import { lockPackage } from '../store/locks.ts';
import { audit, type Ctx } from './context.ts';
import { allowPackage } from './decide.ts';

export async function setPackageAccess(ctx: Ctx, p: Principal, name: string, body: AccessSet): Promise<void> {
  await allowPackage(ctx, p, 'access', name);
  const change: PackageSettings = {};
  if (body.access !== undefined) {
    if (body.access !== 'public' && body.access !== 'restricted' && body.access !== 'private') {
      throw new Refusal('invalid-request', { detail: 'access must be "public" or "restricted"' });
    }
    if (!scopeOf(name)) throw new Refusal('unscoped-restricted');
    change.access = body.access === 'public' ? 'public' : 'restricted';
  }
  if (body.publish_requires_tfa !== undefined) {
    if (typeof body.publish_requires_tfa !== 'boolean')
      throw new Refusal('invalid-request', { detail: 'publish_requires_tfa must be true or false' });
    change.mfa = !body.publish_requires_tfa
      ? 'none'
      : body.automation_token_overrides_tfa === true
        ? 'automation'
        : 'publish';
  }
  if (!Object.keys(change).length)
    throw new Refusal('invalid-request', { detail: 'nothing to change: send access or publish_requires_tfa' });
  const now = ctx.clock.now();
  await ctx.store.transaction(async (trx) => {
    await lockPackage(trx, name);
    await setPackageSettings(trx, name, change);
    await rerender(trx, name, now);
  });
  await audit(ctx, { event: 'package-access-changed', user: p.user?.name, detail: { package: name, ...change } });
}
