// The groups mapping shared by company sign-ins (OIDC, LDAP): targets, the memberships groups entitle a
// user to, the orgs a mapping manages, and the policy rule that names the directory in a refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredMemberships, managedOrgs, parseGroupTarget } from '../../src/services/directory-groups.ts';
import { withDirectoryRemoval, type Decision } from '../../src/domain/policy.ts';
import { providerDidMfa } from '../../src/services/signin-oidc.ts';

const MAPPING = {
  'npm-acme-admins': 'acme:owner',
  'npm-acme-dev': 'acme:developers',
  'npm-acme-rel': 'acme:release',
  'npm-beta-admin': 'beta:admin',
};

test('targets: owner and admin are roles, developers is membership, anything else a team', () => {
  assert.deepEqual(parseGroupTarget('acme:owner'), { org: 'acme', role: 'owner', team: null });
  assert.deepEqual(parseGroupTarget('acme:admin'), { org: 'acme', role: 'admin', team: null });
  assert.deepEqual(parseGroupTarget('acme:developers'), { org: 'acme', role: 'developer', team: null });
  assert.deepEqual(parseGroupTarget('acme:release'), { org: 'acme', role: 'developer', team: 'release' });
  assert.throws(() => parseGroupTarget('acme'), /org:owner/);
  assert.throws(() => parseGroupTarget('Acme:Owner'), /org:owner/);
});

test('the highest role of all groups wins; teams add up; unmapped groups are ignored', () => {
  const d = desiredMemberships(MAPPING, ['npm-acme-dev', 'npm-acme-admins', 'npm-acme-rel', 'unrelated']);
  assert.equal(d.get('acme')?.role, 'owner');
  assert.deepEqual([...d.get('acme')!.teams], ['release']);
  assert.equal(d.has('beta'), false);
  assert.deepEqual(desiredMemberships(MAPPING, []).size, 0);
});

test('managed orgs are every org the mapping names, with its named teams', () => {
  const m = managedOrgs(MAPPING);
  assert.deepEqual([...m.keys()].sort(), ['acme', 'beta']);
  assert.deepEqual([...m.get('acme')!], ['release']);
});

test('a refusal caused by a directory removal names it; a plain 404 stays a plain 404', () => {
  const removal = { target: 'acme:release', groups: ['npm-acme-rel'], at: 0, source: 'oidc' };
  const denied: Decision = { allowed: false, reason: 'not-maintainer', params: { action: 'publish' }, checks: [] };
  const d = withDirectoryRemoval(denied, removal);
  assert.equal(d.allowed, false);
  assert.equal(!d.allowed && d.reason, 'sso-group-removed');
  assert.equal(!d.allowed && d.params.groups, 'npm-acme-rel');
  const hidden: Decision = { allowed: false, reason: 'not-found', params: {}, checks: [] };
  assert.equal(withDirectoryRemoval(hidden, removal), hidden);
  assert.equal(withDirectoryRemoval(denied, undefined), denied);
});

test('provider MFA: amr "mfa" or two methods, or an acr naming a second factor', () => {
  assert.equal(providerDidMfa({ amr: ['mfa'] }), true);
  assert.equal(providerDidMfa({ amr: ['pwd', 'otp'] }), true);
  assert.equal(providerDidMfa({ amr: ['pwd'] }), false);
  assert.equal(providerDidMfa({ acr: 'urn:okta:loa:2fa:any' }), true);
  assert.equal(providerDidMfa({}), false);
});

test("tessera explain recognises the company sign-in refusals in npm's output", async () => {
  const { explainText } = await import('../../src/doctor/explain.ts');
  const removed = `npm error code E403
npm error 403 403 Forbidden - PUT http://127.0.0.1:4873/@acme%2flib - The company directory removed you from acme:release \
on 2026-05-04T09:12:00.000Z, so you may no longer publish @acme/lib. Ask your identity administrator to add you to \
npm-acme-release again (http://127.0.0.1:4873/-/help/sso-group-removed)`;
  assert.equal(explainText(removed).extracted.reason, 'sso-group-removed');
  const local = `npm error code E403
npm error 403 403 Forbidden - PUT http://127.0.0.1:4873/-/user/org.couchdb.user:olga - Passwords are turned off on this \
registry: sign in with Acme SSO (\`npm login\` opens it in the browser) (http://127.0.0.1:4873/-/help/local-login-disabled)`;
  const x = explainText(local);
  assert.equal(x.extracted.reason, 'local-login-disabled');
  assert.ok(x.explanation.causes.length > 0, 'a cause with a fix');
});

test('auth config: defaults, the mapping checked, unknown keys refused', async () => {
  const { applyFile, defaults } = await import('../../src/config/config.ts');
  const c = applyFile(
    defaults,
    {
      auth: {
        local: false,
        oidc: { issuer: 'https://sso.example.com/', clientId: 'npm' },
        groups: { admins: 'acme:owner' },
      },
    },
    '/',
  );
  assert.equal(c.auth.local, false);
  assert.equal(c.auth.oidc?.issuer, 'https://sso.example.com/', 'kept exactly as written');
  assert.equal(c.auth.oidc?.scopes, 'openid profile email offline_access');
  assert.equal(c.auth.oidc?.refreshIntervalMs, 300_000);
  assert.equal(c.auth.oidc?.timeoutMs, 10_000, 'a request to the provider is bounded by default');
  const slow = { oidc: { issuer: 'https://sso.example.com/', clientId: 'npm', timeout: '3s' } };
  assert.equal(applyFile(defaults, { auth: slow }, '/').auth.oidc?.timeoutMs, 3_000);
  assert.throws(() => applyFile(defaults, { auth: { groups: { g: 'acme' } } }, '/'), /auth\.groups\.g/);
  assert.throws(
    () => applyFile(defaults, { auth: { oidc: { issuer: 'x', clientId: 'y' } } }, '/'),
    /auth\.oidc\.issuer/,
  );
  assert.throws(() => applyFile(defaults, { auth: { ldapp: {} } }, '/'), /auth\.ldapp: unknown key/);
  assert.throws(
    () => applyFile(defaults, { auth: { oidc: { issuer: 'https://a/', clientId: 'y', scopes: 'email' } } }, '/'),
    /must include openid/,
  );
});
