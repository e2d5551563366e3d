// The address ranges of a token as the authenticator reads them: a range stored wrong allows nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockList, ipAllowed } from '../../src/services/authenticate.ts';

test('well-formed ranges allow their addresses and no others', () => {
  const list = blockList(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32']);
  assert.equal(ipAllowed(list, '10.20.30.40'), true);
  assert.equal(ipAllowed(list, '::ffff:10.1.2.3'), true);
  assert.equal(ipAllowed(list, '192.168.1.7'), true);
  assert.equal(ipAllowed(list, '192.168.1.8'), false);
  assert.equal(ipAllowed(list, '2001:db8::1'), true);
  assert.equal(ipAllowed(list, '11.0.0.1'), false);
});

test('a range kept malformed by an older release (empty or signed prefix, junk) allows nothing, never /0', () => {
  for (const bad of [
    '10.0.0.0/',
    '10.0.0.0/-0',
    '10.0.0.0/+8',
    '10.0.0.0/33',
    '10.0.0.0/8/8',
    'nonsense/8',
    '::/129',
  ]) {
    const list = blockList([bad]);
    for (const ip of ['10.0.0.1', '8.8.8.8', '127.0.0.1', '2001:db8::1']) {
      assert.equal(ipAllowed(list, ip), false, `${bad} let ${ip} in`);
    }
  }
});
