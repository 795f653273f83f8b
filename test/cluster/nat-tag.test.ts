import assert from 'node:assert/strict';
import { test } from 'node:test';
import { natTag } from '../../src/cluster/nat-tag.js';
import { samePrefix } from '../../src/protocol/addresses.js';
import { resolveOptions } from '../../src/server/config.js';

const secret = Buffer.from('a secret shared by the nodes');

test('equal tags exactly when the masked addresses are equal, for every mask the operator may set', () => {
  const pairs: Array<[string, string]> = [
    ['198.51.100.7', '198.51.100.7'],
    ['198.51.100.7', '198.51.100.8'],
    ['198.51.100.7', '198.51.101.7'],
    ['::ffff:198.51.100.7', '198.51.100.7'],
    ['2001:db8:1:2::1', '2001:db8:1:2::99'],
    ['2001:db8:1:2::1', '2001:db8:1:3::1'],
    ['0.0.0.0', '::'],
  ];
  for (const v4 of [32, 24, 31, 0])
    for (const v6 of [128, 64, 56])
      for (const [a, b] of pairs) {
        const prefix = { v4, v6 };
        assert.equal(
          natTag(secret, a, prefix) === natTag(secret, b, prefix),
          samePrefix(a, b, prefix),
          `${a} vs ${b} at /${v4} /${v6}`,
        );
      }
});

test('a tag says nothing without the secret: another secret gives unrelated tags, and no address text', () => {
  const prefix = { v4: 32, v6: 64 };
  const tag = natTag(secret, '198.51.100.7', prefix);
  assert.notEqual(tag, natTag(Buffer.from('another secret'), '198.51.100.7', prefix));
  assert.match(tag, /^[A-Za-z0-9_-]{22}$/);
  assert.ok(!tag.includes('198'));
});

test('the server takes --postgres and --redis together or not at all, and a cluster secret with them', () => {
  assert.throws(() => resolveOptions({ postgres: 'postgres://x/y' }), /both or neither/);
  assert.throws(() => resolveOptions({ redis: 'redis://x' }), /both or neither/);
  assert.throws(() => resolveOptions({ postgres: 'postgres://x/y', redis: 'redis://x' }), /clusterSecret/);
  assert.throws(() => resolveOptions({ clusterSecret: 'short' }), /16 characters/);
  const ok = resolveOptions({
    postgres: 'postgres://x/y',
    redis: 'redis://x',
    clusterSecret: 'x'.repeat(16),
  });
  assert.equal(ok.redis, 'redis://x');
});
