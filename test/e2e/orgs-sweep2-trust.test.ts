// Second sweep of trusted publishing (issue #7): `npm trust revoke` while a CI job exchanges its id token. The
// revocation ends every token minted from the configuration, so a token minted at the same moment must be
// either refused or revoked with it, and the exchange never fails with a 500. Runs in both passes: on
// PostgreSQL the two requests interleave.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { startIssuer, type Issuer } from '../helpers/oidc-issuer.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { enable2fa } from '../helpers/two-factor.ts';
import { defaults } from '../../src/config/config.ts';
import { insertTrustConfigs } from '../../src/store/trust.ts';
import { addTrust } from '../../src/services/trust.ts';
import type { TrustBody } from '../../src/domain/commands.ts';
import { userByName } from '../../src/services/accounts.ts';
import type { Principal } from '../../src/domain/principal.ts';
import type { Refusal } from '../../src/domain/reasons.ts';

const AUD = 'npm:127.0.0.1';
const claims = { repository: 'acme/lib', workflow_ref: 'acme/lib/.github/workflows/release.yml@refs/heads/main' };

describe('trust sweep 2: a trusted publisher revoked during an exchange', () => {
  let s: TestServer;
  let gh: Issuer;
  let session = '';
  let secret = '';

  before(async () => {
    gh = await startIssuer();
    s = await startServer({
      oidc: {
        ...defaults.oidc,
        audience: AUD,
        issuers: [{ name: 'github', type: 'github', issuer: gh.url, jwksUri: null }],
      },
    });
    await s.addUser('olivia');
    session = await s.token({ user: 'olivia', expiresInMs: 86_400_000 });
    secret = await enable2fa(s.url, `Bearer ${session}`, {
      mode: 'auth-only',
      password: 'olivia-password',
      code: (k) => codeAt(k, s.clock.now()),
    });
    const npm = makeNpm(s.url);
    npm.setToken(s.host, session);
    const r = await npm.run(['publish'], { cwd: makePackage('tp-race', '1.0.0') });
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await s.close();
    await gh.close();
  });

  test('two `npm trust github` at once store one configuration; the other is told it exists', async () => {
    // Called on the service: over HTTP each call needs its own one-time code, and the server takes one per window.
    const olivia = (await userByName(s.ctx, 'olivia'))!;
    const asOlivia = { user: olivia, credential: { type: 'password' }, otpVerified: true } as unknown as Principal;
    const body = { type: 'github', claims: { ...claims }, permissions: ['createPackage'] } as TrustBody;
    for (let round = 0; round < 4; round++) {
      const got = await Promise.allSettled([0, 1].map(() => addTrust(s.ctx, asOlivia, 'tp-race', body)));
      const reasons = got.map((g) => (g.status === 'fulfilled' ? 'stored' : (g.reason as Refusal).reason));
      const stored = await s.ctx.store.db
        .selectFrom('trust_configs')
        .select('id')
        .where('package', '=', 'tp-race')
        .execute();
      assert.equal(stored.length, 1, `round ${round}: ${reasons}`);
      assert.deepEqual(reasons.sort(), ['stored', 'trust-config-exists'], `round ${round}`);
      await s.ctx.store.db.deleteFrom('trust_configs').where('package', '=', 'tp-race').execute();
    }
  });

  test('every token minted around the revocation is revoked with it; no exchange fails with a 500', async () => {
    const olivia = (await s.ctx.store.db.selectFrom('users').select('id').where('name', '=', 'olivia').execute())[0];
    for (let round = 0; round < 8; round++) {
      const id = randomUUID();
      await insertTrustConfigs(
        s.ctx.store.db,
        'tp-race',
        [{ id, type: 'github', issuer: null, claims: { ...claims }, permissions: ['createPackage'] }],
        olivia.id,
        s.clock.now(),
      );
      s.clock.advance(30_000);
      const now = Math.floor(s.clock.now() / 1000);
      const jwt = await gh.sign({ aud: AUD, ...claims, iat: now }, { expiresIn: now + 300 });
      const statuses = await Promise.all([
        fetch(`${s.url}-/npm/v1/oidc/token/exchange/package/tp-race`, {
          method: 'POST',
          headers: { authorization: `Bearer ${jwt}` },
        }).then((r) => r.status),
        fetch(`${s.url}-/package/tp-race/trust/${id}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${session}`, 'npm-otp': codeAt(secret, s.clock.now()) },
        }).then((r) => r.status),
      ]);
      assert.ok([201, 401, 404].includes(statuses[0]), `round ${round}: ${statuses.join(', ')}`);
      assert.ok(statuses[1] < 300, `round ${round}: ${statuses.join(', ')}`);
      const live = await s.ctx.store.db
        .selectFrom('tokens')
        .select('id')
        .where('kind', '=', 'oidc')
        .where('revoked_at', 'is', null)
        .execute();
      assert.deepEqual(live, [], `round ${round}: ${statuses.join(', ')}`);
    }
  });
});
