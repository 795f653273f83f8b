import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  encodeAck,
  encodeData,
  encodeHello,
  type Frame,
  FrameDecoder,
  FrameType,
  HELLO_NEW,
} from '../../src/client/session/frames.js';

test('frames split at every byte boundary decode to the same frames as whole ones', () => {
  const payload = Buffer.from('0123456789abcdef');
  const wire = Buffer.concat([
    encodeHello(HELLO_NEW, Buffer.alloc(16, 7), 0),
    encodeData(5, payload),
    encodeAck(42),
  ]);
  for (let cut = 1; cut < wire.length; cut++) {
    const decoder = new FrameDecoder();
    const frames: Frame[] = [];
    decoder.push(wire.subarray(0, cut), (f) => frames.push(f));
    decoder.push(wire.subarray(cut), (f) => frames.push(f));
    assert.deepEqual(
      frames.map((f) => f.type),
      [FrameType.HELLO, FrameType.DATA, FrameType.ACK],
      `cut at ${cut}`,
    );
    const data = frames[1] as Extract<Frame, { type: typeof FrameType.DATA }>;
    assert.equal(data.offset, 5);
    assert.deepEqual(data.payload, payload);
  }
});

test('an unknown frame type, a bad HELLO flag or an oversized DATA length is a typed BAD_FRAME error', () => {
  const bad = [
    Buffer.from([0x7f]),
    Buffer.concat([encodeHello(HELLO_NEW, Buffer.alloc(16), 0)]).fill(9, 1, 2),
    Buffer.from([FrameType.DATA, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
  ];
  for (const frame of bad) {
    assert.throws(() => new FrameDecoder().push(frame, () => {}), { code: 'BAD_FRAME' });
  }
});
