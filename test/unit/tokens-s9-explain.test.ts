// Session 9: what `tessera explain` makes of the refusals this session added or reworded, pasted as npm 11
// prints them: a package's 2FA policy guarding its settings, and a trusted publisher whose author is disabled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reasons, type ReasonId } from '../../src/domain/reasons.ts';
import { explainText } from '../../src/doctor/explain.ts';

const R = 'https://registry.example.com/';
const paste = (reason: ReasonId, path: string, params: Record<string, string>) =>
  explainText(
    `npm error code E403\nnpm error 403 403 Forbidden - PUT ${R}${path} - ${reasons[reason].error(params)} (${R}-/help/${reason})\n`,
  ).explanation.causes[0];

test('npm access set mfa=none by a co-maintainer without 2FA: turn 2FA on, then run it again with a code', () => {
  const params = { package: 'bar', user: 'bob', action: 'publish or change its settings' };
  assert.match(reasons['package-requires-2fa'].error(params), /to publish or change its settings, and bob has none/);
  assert.match(reasons['package-requires-2fa'].error({ package: 'bar', user: 'bob' }), /to publish, and bob/);
  const cause = paste('package-requires-2fa', '-/package/bar/access', params);
  assert.equal(cause.id, 'publish-forbidden');
  assert.match(cause.fix, /npm profile enable-2fa auth-and-writes --registry=https:\/\/registry\.example\.com\//);
  assert.match(cause.fix, /run the command again with `--otp=<code>`/);
});

test('a trusted publisher made by a disabled account: a maintainer configures it again', () => {
  const cause = paste('trust-creator-disabled', 'bar', { package: 'bar', user: 'dave', id: '***' });
  assert.equal(cause.id, 'trusted-publishing-failed');
  assert.match(cause.fix, /npm trust revoke bar --id <id> --registry=https:\/\/registry\.example\.com\//);
  assert.match(cause.fix, /npm trust github bar/);
});
