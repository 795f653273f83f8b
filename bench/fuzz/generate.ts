import { AttributeType, BINDING_REQUEST, encodeStunMessage, MAGIC_COOKIE } from '../../src/stun/index.js';

/** mulberry32: a small seeded generator, so that a failing input can be produced again from its seed. */
export class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

const hex = (rng: Rng, n: number) => rng.bytes(n).toString('hex');

/** Request types the server knows, plus ones it must refuse. */
const TYPES = [
  'account.create',
  'logon',
  'logoff',
  'buddy.request',
  'buddy.accept',
  'buddy.decline',
  'buddy.remove',
  'buddy.list',
  'buddy.block',
  'buddy.unblock',
  'buddy.blocked',
  'sameNat',
  'registeredAddress',
  'ownAddress',
  'signal',
  'relay.open',
  'ping',
  'account.sessions',
  'account.revoke',
  'account.password',
  'no.such.type',
  '',
  '__proto__',
  'constructor',
  'toString',
] as const;

/** Names a frame may carry: the victims (only as a buddy to ask about), the fuzz user, strangers. */
const BUDDIES = ['alice', 'bob', 'mallory', 'ghost'];
const USERS = ['bob', 'mallory', 'ghost', 'carol'];

/** A value of any JSON type, with the edges a parser and a schema must survive. */
function junkValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(16)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1.5, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e308, -0, 65536, 4294967296]);
    case 3:
      return 'x'.repeat(rng.pick([0, 1, 31, 32, 33, 64, 255, 256, 1000, 20000]));
    case 4:
      return rng.pick([
        '\u0000',
        '\ud800',
        '😀'.repeat(50),
        '../../etc/passwd',
        '<script>',
        '%s%n',
        'ALICE',
        ' alice',
      ]);
    case 5:
      return hex(rng, rng.pick([1, 16, 32, 64]));
    case 6:
      return rng.bytes(rng.int(40)).toString('base64url');
    case 7:
      return depth < 6 ? Array.from({ length: rng.int(5) }, () => junkValue(rng, depth + 1)) : [];
    case 8:
      return depth < 6 ? { [rng.pick(FIELDS)]: junkValue(rng, depth + 1) } : {};
    case 9:
      return JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}');
    case 10:
      return rng.pick(BUDDIES);
    case 11:
      return {
        host: rng.pick(['127.0.0.1', '::1', '224.0.0.1', '0.0.0.0', 'example.com', '', '1.2.3.4.5']),
        port: rng.pick([0, 1, 3478, 65535, 65536, -1]),
      };
    case 12:
      return rng.int(2 ** 31);
    default:
      return rng.pick(['offer', 'answer', 'abort', 'local', 'global', 'relay', 'device', 'laptop']);
  }
}

const FIELDS = [
  'v',
  'id',
  'type',
  'user',
  'password',
  'publicKey',
  'device',
  'listen',
  'token',
  'buddy',
  'to',
  'body',
  'session',
  'revokeToken',
  'all',
  'newPassword',
  'addresses',
  'purpose',
  'scope',
  'streamId',
  'tcpPort',
  'oneWay',
  'reason',
  '__proto__',
  'constructor',
];

function signalBody(rng: Rng): Record<string, unknown> {
  const body: Record<string, unknown> = {
    session: hex(rng, 16),
    purpose: rng.pick(['offer', 'answer', 'abort']),
    scope: rng.pick(['local', 'global', 'relay']),
    addresses: Array.from({ length: rng.int(4) }, () => ({
      host: rng.pick(['127.0.0.1', '::1', '10.0.0.1', '224.0.0.1', '203.0.113.9']),
      port: 1 + rng.int(65535),
    })),
  };
  if (rng.chance(0.5)) body.streamId = 1 + rng.int(2 ** 32 - 1);
  if (rng.chance(0.2)) body.tcpPort = 1 + rng.int(65535);
  if (rng.chance(0.2)) body.reason = 'because';
  return body;
}

/** A well-formed request of `type` (what a client sends), before mutation. */
function template(rng: Rng, type: string): Record<string, unknown> {
  const base: Record<string, unknown> = { v: 1, id: rng.int(2 ** 31), type };
  switch (type) {
    case 'account.create':
      return { ...base, user: rng.pick(USERS), password: 'fuzz password', publicKey: hex(rng, 32) };
    case 'logon':
      return rng.chance(0.5)
        ? { ...base, user: rng.pick(USERS), password: 'wrong password' }
        : { ...base, user: rng.pick(USERS), token: rng.bytes(32).toString('base64url') };
    case 'logoff':
      return rng.chance(0.9) ? base : { ...base, revokeToken: true };
    case 'buddy.request':
    case 'buddy.accept':
    case 'buddy.decline':
    case 'buddy.remove':
    case 'buddy.block':
    case 'buddy.unblock':
      return { ...base, user: rng.pick(USERS) };
    case 'sameNat':
    case 'registeredAddress':
      return { ...base, buddy: rng.pick(BUDDIES) };
    case 'signal':
      return { ...base, to: rng.pick(BUDDIES), body: signalBody(rng) };
    case 'relay.open':
      return { ...base, buddy: rng.pick(BUDDIES), session: hex(rng, 16) };
    case 'account.revoke':
      return { ...base, device: rng.pick(['laptop', 'phone', 'nosuch']) };
    case 'account.password':
      return { ...base, password: 'wrong password', newPassword: 'whatever password' };
    default:
      return base;
  }
}

/** One control-channel input: a text frame (most) or a binary one. */
export function controlFrame(rng: Rng): string | Buffer {
  const kind = rng.int(20);
  if (kind === 0) return rng.bytes(rng.int(256));
  if (kind === 1) return rng.bytes(rng.int(256)).toString('latin1');
  if (kind === 2)
    return rng
      .pick(['[', '{', '"', 'null', 'true', '1e999', '[]', '{}', '{"v":1,"id":'])
      .repeat(1 + rng.int(3000));
  const message = template(rng, rng.pick(TYPES));
  // Field mutations: drop, replace with junk, add an unknown field.
  for (let n = rng.int(3); n > 0; n--) {
    const field = rng.pick(FIELDS);
    const action = rng.int(3);
    if (action === 0) delete message[field];
    else message[field] = junkValue(rng);
  }
  let text = JSON.stringify(message);
  if (kind <= 6) {
    // Byte-level mutations of a well-formed frame.
    const bytes = Buffer.from(text);
    for (let n = 1 + rng.int(4); n > 0 && bytes.length > 0; n--) bytes[rng.int(bytes.length)] = rng.int(256);
    text = bytes.toString('utf8');
    if (rng.chance(0.3)) text = text.slice(0, rng.int(text.length));
  }
  return text;
}

const ATTRIBUTES = [
  AttributeType.mappedAddress,
  AttributeType.xorMappedAddress,
  AttributeType.username,
  AttributeType.messageIntegrity,
  AttributeType.errorCode,
  AttributeType.software,
  AttributeType.fingerprint,
  AttributeType.changeRequest,
  0x0000,
  0x7fff,
  0x8000,
  0xffff,
  0x0003,
];

/** One STUN datagram: a Binding request with random attributes, mutated at the byte level or not. */
export function stunDatagram(rng: Rng): Buffer {
  const kind = rng.int(10);
  if (kind === 0) return rng.bytes(rng.int(600));
  const attributes = Array.from({ length: rng.int(5) }, () => ({
    type: rng.pick(ATTRIBUTES),
    value: rng.bytes(rng.pick([0, 1, 3, 4, 8, 20, 64, 300])),
  }));
  let packet = encodeStunMessage(
    { type: rng.chance(0.9) ? BINDING_REQUEST : rng.int(0x4000), transactionId: rng.bytes(12), attributes },
    { fingerprint: rng.chance(0.5) },
  );
  if (kind <= 4) {
    packet = Buffer.from(packet);
    for (let n = 1 + rng.int(3); n > 0; n--) packet[rng.int(packet.length)] = rng.int(256);
    if (rng.chance(0.2)) packet.writeUInt32BE(MAGIC_COOKIE, 4);
    if (rng.chance(0.2)) packet = packet.subarray(0, rng.int(packet.length + 1));
  }
  return packet;
}
