// Every refusal the registry can send has a place in the doctor: a finding with a fix naming the exact
// command, or a deliberate "a probe never meets this". Adding a reason to src/domain/reasons.ts without
// deciding fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reasons } from '../../../src/domain/reasons.ts';
import type { ReasonId } from '../../../src/domain/reasons.ts';
import { FINDING_IDS } from '../../../src/domain/findings.ts';
import {
  NOT_A_PROBE_ANSWER,
  REASON_FINDING,
  findingForReason,
  reasonFix,
  severityForReason,
  tokenCreateCommand,
} from '../../../src/doctor/reasons.ts';
import { explainText } from '../../../src/doctor/explain.ts';

const R = 'https://registry.example.com/';
const ALL = Object.keys(reasons) as ReasonId[];

test('every reason id is either mapped to a finding or known not to answer a probe', () => {
  for (const id of ALL) {
    const mapped = Object.hasOwn(REASON_FINDING, id);
    const skipped = NOT_A_PROBE_ANSWER.includes(id);
    assert.ok(mapped !== skipped, `${id}: ${mapped ? 'both mapped and skipped' : 'neither mapped nor skipped'}`);
  }
  for (const id of [...Object.keys(REASON_FINDING), ...NOT_A_PROBE_ANSWER])
    assert.ok(ALL.includes(id as ReasonId), `${id} is not a registry reason`);
  for (const f of Object.values(REASON_FINDING)) assert.ok(FINDING_IDS.includes(f!), f);
});

test('the refusals of the brief map to their findings', () => {
  const want: Record<string, string> = {
    'token-expired': 'token-rejected',
    'token-revoked': 'token-rejected',
    'token-invalid': 'token-rejected',
    'ip-not-allowed': 'token-rejected',
    'otp-required': 'otp-required',
    'otp-wrong': 'otp-required',
    'token-read-only': 'read-only-token',
    'not-maintainer': 'not-maintainer',
    'team-lacks-write': 'not-maintainer',
    'not-org-member': 'not-maintainer',
    'token-package-restricted': 'publish-forbidden',
    'email-unverified': 'publish-forbidden',
    'package-requires-2fa': 'publish-forbidden',
    'oidc-exchange-failed': 'trusted-publishing-failed',
  };
  for (const [reason, finding] of Object.entries(want)) assert.equal(findingForReason(reason), finding, reason);
  assert.equal(findingForReason('no-such-reason'), undefined);
  assert.equal(findingForReason('toString'), undefined);
  assert.equal(severityForReason('otp-required', 'otp-required'), 'warning');
  assert.equal(severityForReason('not-maintainer', 'not-maintainer'), 'error');
});

test('each fix names a command, and every npm command in it targets the registry', () => {
  const noCommand = new Set([
    'user-disabled',
    'upstream-unavailable',
    'directory-user-removed',
    'directory-unavailable',
  ]);
  for (const reason of Object.keys(REASON_FINDING)) {
    const fix = reasonFix({
      reason,
      registry: R,
      where: '/home/me/.npmrc:2',
      place: 'the variable NPM_TOKEN',
      pkg: '@acme/lib',
      user: 'alice',
      detail: 'x',
    });
    assert.ok(fix.length > 40, reason);
    if (noCommand.has(reason)) continue;
    const commands = [...fix.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    assert.ok(commands.length, `${reason}: ${fix}`);
    for (const c of commands) {
      if (/^npm (login|token|owner|access|org|profile|stage|trust) /.test(c))
        assert.ok(c.includes(`--registry=${R}`), `${reason}: ${c}`);
    }
    assert.ok(!fix.includes('undefined'), `${reason}: ${fix}`);
  }
});

test('a package-specific fix names this package and user', () => {
  const fix = (reason: string, detail?: string) =>
    reasonFix({ reason, registry: R, where: 'w', place: 'p', pkg: '@acme/lib', user: 'alice', detail });
  assert.match(fix('not-org-member'), /`npm org set acme alice developer --registry=/);
  assert.match(fix('team-lacks-write'), /`npm access grant read-write acme:<team> @acme\/lib --registry=/);
  assert.match(fix('package-requires-2fa'), /`npm profile enable-2fa auth-and-writes --registry=/);
  assert.match(
    fix('email-unverified', 'Verify your e-mail address (alice@example.com) before publishing'),
    /`npm profile set email alice@example\.com --registry=/,
  );
  assert.match(fix('token-stage-only'), /`npm stage publish --registry=/);
});

test("tokenCreateCommand keeps a token's limits; classic tokens become their granular equivalent", () => {
  assert.equal(
    tokenCreateCommand(R, undefined),
    `npm token create --registry=${R} --packages-all --packages-and-scopes-permission read-write --expires 30`,
  );
  assert.equal(
    tokenCreateCommand(R, { type: 'classic-readonly' }),
    `npm token create --registry=${R} --packages-all --packages-and-scopes-permission read-only --expires 30`,
  );
  assert.match(
    tokenCreateCommand(R, { type: 'classic-automation' }),
    /--packages-all --packages-and-scopes-permission read-write --bypass-2fa/,
  );
  const granular = {
    type: 'granular',
    name: 'release bot',
    packages_all: false,
    packages: ['a'],
    scopes: ['@b'],
    orgs: ['b'],
    cidr_whitelist: ['10.0.0.0/8'],
    permissions: [
      { name: 'package', action: 'read-write-stage-only' },
      { name: 'org', action: 'read-only' },
    ],
    created: '2026-01-01T00:00:00.000Z',
    expires: '2026-01-15T00:00:00.000Z',
  };
  assert.equal(
    tokenCreateCommand(R, granular),
    `npm token create --registry=${R} --name "release bot" --packages a --scopes @b --packages-and-scopes-permission read-write-stage-only --orgs b --orgs-permission read-only --cidr 10.0.0.0/8 --expires 14`,
  );
});

test("explain puts a recognised Tessera refusal's own cause first", () => {
  const put = (reason: ReasonId, params: Record<string, string>) =>
    explainText(
      `npm error code E403\nnpm error 403 403 Forbidden - PUT https://registry.example.com/@acme%2flib - ${reasons[reason].error(params)} (https://registry.example.com/-/help/${reason})\n`,
    ).explanation.causes[0];
  const tfa = put('package-requires-2fa', { package: '@acme/lib', user: 'alice' });
  assert.equal(tfa.id, 'publish-forbidden');
  assert.match(tfa.fix, /npm profile enable-2fa auth-and-writes --registry=https:\/\/registry\.example\.com\//);
  const team = put('team-lacks-write', { package: '@acme/lib', org: 'acme', action: 'publish' });
  assert.equal(team.id, 'not-maintainer');
  assert.match(team.fix, /npm access grant read-write acme:<team> @acme\/lib/);
});

test('a directory refusal says what the directory did, and logging in again only where it helps', () => {
  const fix = (reason: string) => reasonFix({ reason, registry: R, where: 'w', place: 'p' });
  assert.match(fix('directory-refused'), /directory refused the user name and password/);
  assert.match(fix('directory-user-removed'), /no longer has this account/);
  assert.doesNotMatch(fix('directory-user-removed'), /^Log in again/);
  assert.match(fix('directory-unavailable'), /could not reach the company directory/);
  assert.doesNotMatch(fix('directory-unavailable'), /Log in again/);
});
