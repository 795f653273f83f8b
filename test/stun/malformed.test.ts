import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  createBindingRequest,
  decodeStunMessage,
  encodeStunMessage,
  readBindingResponse,
  StunError,
  startStunServer,
  tryDecodeStunMessage,
} from '../../src/stun/index.js';
import { BindingResponder } from '../../src/stun/responder.js';
import { sampleIpv4Response, sampleRequest } from './rfc5769-vectors.js';
import { UdpProbe } from './udp-probe.js';

const FUZZ_PACKETS = 20_000;
const FUZZ_TO_SERVER = 5_000;
const FUZZ_BATCH = 100;

function withLength(packet: Buffer, length: number): Buffer {
  const copy = Buffer.from(packet);
  copy.writeUInt16BE(length, 2);
  return copy;
}

const request = sampleRequest;
const cases: { name: string; packet: Buffer; code: string }[] = [
  { name: 'empty datagram', packet: Buffer.alloc(0), code: 'STUN_TRUNCATED' },
  { name: 'half a header', packet: request.subarray(0, 10), code: 'STUN_TRUNCATED' },
  { name: 'cut inside the attributes', packet: request.subarray(0, 60), code: 'STUN_TRUNCATED' },
  { name: 'length not a multiple of 4', packet: withLength(request, 0x57), code: 'STUN_BAD_LENGTH' },
  { name: 'length shorter than the datagram', packet: withLength(request, 0x54), code: 'STUN_BAD_LENGTH' },
  { name: 'length longer than the datagram', packet: withLength(request, 0x5c), code: 'STUN_TRUNCATED' },
  {
    name: 'leading bits not zero',
    packet: Buffer.concat([Buffer.from([0xc0]), request.subarray(1)]),
    code: 'STUN_NOT_STUN',
  },
  {
    name: 'wrong magic cookie',
    packet: Buffer.concat([request.subarray(0, 4), Buffer.from('deadbeef', 'hex'), request.subarray(8)]),
    code: 'STUN_BAD_COOKIE',
  },
  {
    name: 'wrong fingerprint',
    packet: Buffer.concat([request.subarray(0, request.length - 1), Buffer.from([0x00])]),
    code: 'STUN_BAD_FINGERPRINT',
  },
  {
    name: 'attribute length overrunning the message',
    packet: (() => {
      const copy = Buffer.from(request);
      copy.writeUInt16BE(0x0100, 22);
      return copy;
    })(),
    code: 'STUN_BAD_ATTRIBUTE',
  },
  {
    name: 'fingerprint not last',
    packet: (() => {
      const withTrailer = Buffer.concat([sampleIpv4Response, Buffer.from('80220000', 'hex')]);
      withTrailer.writeUInt16BE(withTrailer.length - 20, 2);
      return withTrailer;
    })(),
    code: 'STUN_BAD_FINGERPRINT',
  },
  {
    name: 'message integrity of the wrong size',
    packet: encodeStunMessage({
      type: 0x0001,
      transactionId: randomBytes(12),
      attributes: [{ type: 0x0008, value: Buffer.alloc(16) }],
    }),
    code: 'STUN_BAD_INTEGRITY',
  },
];

for (const { name, packet, code } of cases) {
  test(`a packet with ${name} is rejected as ${code}`, () => {
    assert.throws(
      () => decodeStunMessage(packet),
      (error: unknown) => {
        assert.ok(error instanceof StunError, 'typed StunError');
        assert.equal(error.code, code);
        return true;
      },
    );
  });
}

/** Random bytes, and valid messages with random bytes flipped: the second kind gets past the header. */
function* fuzzPackets(count: number): Generator<Buffer> {
  const seeds = [sampleRequest, sampleIpv4Response, createBindingRequest().packet];
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) {
      yield randomBytes(i % 120);
    } else {
      const mutated = Buffer.from(seeds[i % seeds.length]!);
      const flips = 1 + (i % 4);
      for (let f = 0; f < flips; f++) {
        const at = (mutated.readUInt16BE(0) + i * 31 + f * 17) % mutated.length;
        mutated[at] = randomBytes(1)[0]!;
      }
      yield i % 7 === 0 ? mutated.subarray(0, i % mutated.length) : mutated;
    }
  }
}

test('20,000 fuzzed packets never make the decoder throw anything but a typed StunError', () => {
  const responder = new BindingResponder('fuzz');
  let rejected = 0;
  for (const packet of fuzzPackets(FUZZ_PACKETS)) {
    const result = tryDecodeStunMessage(packet);
    if (result instanceof StunError) rejected++;
    assert.doesNotThrow(() => decodeOrTyped(packet));
    assert.doesNotThrow(() => responder.answer(packet, '127.0.0.1', 1234));
    assert.doesNotThrow(() => readBindingResponse(packet, randomBytes(12)));
  }
  assert.ok(rejected > FUZZ_PACKETS / 2, `most fuzz packets are rejected (${rejected})`);
});

function decodeOrTyped(packet: Buffer): void {
  try {
    decodeStunMessage(packet);
  } catch (error) {
    if (!(error instanceof StunError)) throw error;
  }
}

test('the server drops fuzzed packets silently and keeps answering Binding requests', async () => {
  const outcomes = { answered: 0, dropped: 0, limited: 0 };
  const server = await startStunServer({ host: '127.0.0.1', port: 0, onBinding: (o) => outcomes[o]++ });
  const fuzzer = await UdpProbe.open(4);
  const client = await UdpProbe.open(4);
  // After each batch, one real request on another socket: the server handles a socket's datagrams in
  // order, so its answer proves the batch was read (and keeps the kernel queue far from overflowing).
  const answeredOnce = async (): Promise<{ host: string; port: number } | null> => {
    const { transactionId, packet } = createBindingRequest();
    for (let attempt = 0; attempt < 20; attempt++) {
      const answer = await client.exchange(packet, server.port, '127.0.0.1', 250);
      const mapped = answer ? readBindingResponse(answer, transactionId) : null;
      if (mapped) return mapped;
    }
    return null;
  };
  try {
    let sent = 0;
    for (const packet of fuzzPackets(FUZZ_TO_SERVER)) {
      await fuzzer.send(packet, server.port, '127.0.0.1');
      if (++sent % FUZZ_BATCH === 0)
        assert.ok(await answeredOnce(), `still answering after ${sent} fuzz packets`);
    }
    assert.deepEqual(await answeredOnce(), { host: '127.0.0.1', port: client.port });
    // Mutations that happen to stay valid requests are answered; all the rest must be dropped.
    assert.ok(outcomes.dropped > FUZZ_TO_SERVER * 0.9, `dropped ${outcomes.dropped} of ${FUZZ_TO_SERVER}`);
  } finally {
    await fuzzer.close();
    await client.close();
    await server.close();
  }
});
