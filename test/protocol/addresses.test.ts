import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipBytes, normaliseIp, samePrefix } from '../../src/protocol/addresses.js';

const exact = { v4: 32, v6: 64 };

test('an IPv4-mapped IPv6 address is the IPv4 client it maps', () => {
  assert.equal(normaliseIp('::ffff:198.51.100.7'), '198.51.100.7');
  assert.equal(samePrefix('::ffff:198.51.100.7', '198.51.100.7', exact), true);
});

test('two clients leaving by different addresses of one pool count as one NAT only when the mask covers the pool', () => {
  assert.equal(samePrefix('203.0.113.10', '203.0.113.11', exact), false);
  assert.equal(samePrefix('203.0.113.10', '203.0.113.11', { v4: 30, v6: 64 }), true);
  assert.equal(samePrefix('203.0.113.10', '203.0.113.14', { v4: 30, v6: 64 }), false);
});

test('two IPv6 clients in one /64 are on one LAN, in different /64s they are not', () => {
  assert.equal(samePrefix('2001:db8:1:2::10', '2001:db8:1:2:abcd::1', exact), true);
  assert.equal(samePrefix('2001:db8:1:2::10', '2001:db8:1:3::10', exact), false);
});

test('an IPv4 and an IPv6 client are never judged the same', () => {
  assert.equal(samePrefix('192.0.2.1', '2001:db8::1', { v4: 0, v6: 0 }), false);
});

test('IPv6 text forms parse to the same bytes', () => {
  assert.deepEqual(ipBytes('2001:db8::1'), ipBytes('2001:0db8:0:0:0:0:0:1'));
  assert.deepEqual(ipBytes('::ffff:1.2.3.4'), Uint8Array.from([1, 2, 3, 4]));
  assert.equal(ipBytes('::1').length, 16);
});
