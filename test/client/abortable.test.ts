import assert from 'node:assert/strict';
import { test } from 'node:test';
import { abortable, abortableDelay, linkedSignal } from '../../src/client/abortable.js';

test('a linked signal aborts with the reason of whichever signal aborts first, and stops listening once unlinked', () => {
  const caller = new AbortController();
  const closing = new AbortController();
  const first = linkedSignal([caller.signal, closing.signal, undefined]);
  closing.abort(new Error('the client is closed'));
  assert.equal(first.signal.aborted, true);
  assert.match(String(first.signal.reason), /the client is closed/);

  const other = new AbortController();
  const second = linkedSignal([caller.signal, other.signal]);
  second.unlink();
  other.abort();
  assert.equal(second.signal.aborted, false, 'unlinked: a later abort no longer reaches it');
  assert.equal(linkedSignal([AbortSignal.abort('gone')]).signal.reason, 'gone');
});

test('abortable rejects at once when cancelled while the work runs on, and abortableDelay ends with its signal', async () => {
  const stop = new AbortController();
  const never = new Promise<never>(() => {});
  const waiting = abortable(never, stop.signal);
  const sleeping = abortableDelay(60_000, stop.signal);
  stop.abort();
  await assert.rejects(waiting, { code: 'ABORTED' });
  await sleeping;
  await assert.rejects(abortable(Promise.resolve(1), stop.signal), { code: 'ABORTED' });
  assert.equal(await abortable(Promise.resolve(2), new AbortController().signal), 2);
});
