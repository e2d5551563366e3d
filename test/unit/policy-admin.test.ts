// authorizeAdmin: the administration pages exist only for administrators, through a login session; writes
// ask for the second factor when the administrator has 2FA on. Pure: principals by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authorizeAdmin, type Decision } from '../../src/domain/policy.ts';
import type { Credential, Principal, User } from '../../src/domain/principal.ts';

const user = (name: string, more: Partial<User> = {}): User => ({
  id: 1,
  name,
  email: `${name}@example.com`,
  admin: false,
  emailVerified: true,
  tfa: null,
  ...more,
});
const token = (more: Partial<Credential & { type: 'token' }> = {}): Credential => ({
  type: 'token',
  id: 't',
  kind: 'web-session',
  readonly: false,
  grants: null,
  bypass2fa: false,
  expiresAt: null,
  ...more,
});
const as = (u: User, c: Credential = token()): Principal => ({ user: u, credential: c });
const reason = (d: Decision) => (d.allowed ? '-' : d.reason);

test('nobody but an administrator: the pages are not found', () => {
  assert.equal(reason(authorizeAdmin({ user: null }, false)), 'not-found');
  assert.equal(reason(authorizeAdmin(as(user('alice')), false)), 'not-found');
  assert.equal(reason(authorizeAdmin(as(user('root', { admin: true })), false)), '-');
  assert.equal(reason(authorizeAdmin(as(user('root', { admin: true }), { type: 'password' }), true)), '-');
});

test("an administrator's automation or granular token does not administer", () => {
  const root = user('root', { admin: true });
  assert.equal(reason(authorizeAdmin(as(root, token({ kind: 'classic-automation' })), false)), 'not-found');
  assert.equal(reason(authorizeAdmin(as(root, token({ kind: 'session', readonly: true })), false)), 'not-found');
});

test('writes ask for a one-time password when the administrator has 2FA on', () => {
  const d = authorizeAdmin(as(user('root', { admin: true, tfa: 'auth-only' })), true);
  assert.equal(d.allowed && d.otp, true);
  const read = authorizeAdmin(as(user('root', { admin: true, tfa: 'auth-only' })), false);
  assert.equal(read.allowed && read.otp, false);
  const off = authorizeAdmin(as(user('root', { admin: true })), true);
  assert.equal(off.allowed && off.otp, false);
});
