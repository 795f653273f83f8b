import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { resolveOptions } from '../../src/server/config.js';
import { LogonThrottle } from '../../src/server/limits/logon-throttle.js';
import { MemoryCounters } from '../../src/server/limits/memory-counters.js';
import { createAddressTagger } from '../../src/server/log.js';

test('a failed logon is logged for fail2ban with the salted address tag, never the address', async () => {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  const tag = createAddressTagger();
  const throttle = new LogonThrottle(new MemoryCounters(), resolveOptions(), log, tag, new BlockList());
  for (const ip of ['198.51.100.7', '2001:db8:1:2:3:4:5:6']) {
    await throttle.begin('victim', ip);
    await throttle.failed('victim', ip, true);
  }
  const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(entries.length, 2);
  for (const e of entries) {
    assert.equal(e.msg, 'logon failed');
    assert.equal(e.level, 40, 'warn');
    assert.equal(e.user, 'victim');
    assert.match(String(e.addr), /^[A-Za-z0-9_-]{12}$/);
  }
  assert.equal(entries[0]?.addr, tag('198.51.100.7'), 'an operator can match one source across lines');
  assert.equal(entries[1]?.addr, tag('20010db800010002/64'), 'IPv6 is tagged by its /64');
  const text = lines.join('');
  for (const leak of ['198.51.100.7', '198.51.100', '2001:db8', '20010db8'])
    assert.ok(!text.includes(leak), leak);
});
