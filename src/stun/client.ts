import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { decodeErrorCode, decodeMappedAddress, decodeXorMappedAddress } from './attributes.js';
import {
  AttributeType,
  BINDING_ERROR_RESPONSE,
  BINDING_REQUEST,
  BINDING_SUCCESS_RESPONSE,
  HEADER_LENGTH,
  MAGIC_COOKIE,
  TRANSACTION_ID_LENGTH,
} from './constants.js';
import { StunError } from './errors.js';
import { encodeStunMessage, findAttribute, type StunMessage, tryDecodeStunMessage } from './message.js';
import { STUN_DEFAULTS } from './options.js';

/**
 * The client side of a Binding transaction (RFC 8489 §6.2, S101–S102: "what is my global
 * address?"). The first three functions are socket-agnostic, so the client library can run STUN on
 * the one UDP socket it shares with hole punching and streams; `queryStun` is a convenience over
 * node:dgram for tests and tools.
 */

export interface MappedEndpoint {
  host: string;
  port: number;
}

/**
 * A Binding request with a fresh random transaction id (§6: 96 bits, cryptographically random).
 * `changePort` adds RFC 5780's CHANGE-REQUEST asking for the answer from the server's other port.
 */
export function createBindingRequest(options: { changePort?: boolean } = {}): {
  transactionId: Buffer;
  packet: Buffer;
} {
  const transactionId = randomBytes(TRANSACTION_ID_LENGTH);
  const attributes = options.changePort
    ? [{ type: AttributeType.changeRequest, value: Buffer.from([0, 0, 0, CHANGE_PORT_FLAG]) }]
    : [];
  // FINGERPRINT (§7) lets the answer and the request be told apart from stream traffic on a shared socket.
  const packet = encodeStunMessage(
    { type: BINDING_REQUEST, transactionId, attributes },
    { fingerprint: true },
  );
  return { transactionId, packet };
}

/** RFC 5780 §7.2: the "change port" flag of CHANGE-REQUEST. */
const CHANGE_PORT_FLAG = 0x02;

/** A Binding answer with what RFC 5780 adds: the server's other address, when it has one. */
export interface BindingAnswer {
  mapped: MappedEndpoint;
  /** OTHER-ADDRESS (RFC 5780 §7.4); an unspecified host means "the host you sent to". */
  otherAddress?: MappedEndpoint;
}

/** Like `readBindingResponse`, with OTHER-ADDRESS. */
export function readBindingAnswer(packet: Buffer, transactionId: Buffer): BindingAnswer | null {
  const message = matchingResponse(packet, transactionId);
  if (!message || message.type !== BINDING_SUCCESS_RESPONSE) return null;
  const mapped = mappedEndpoint(message);
  if (!mapped) return null;
  const other = findAttribute(message, AttributeType.otherAddress);
  if (!other) return { mapped };
  try {
    const { host, port } = decodeMappedAddress(other);
    return { mapped, otherAddress: { host, port } };
  } catch (error) {
    if (error instanceof StunError) return { mapped };
    throw error;
  }
}

/**
 * Cheap demultiplexing test (RFC 8489 §7 and RFC 7983): leading bits 00, magic cookie, length that
 * matches the datagram. Does not check attributes: decode for that.
 */
export function isStunMessage(packet: Buffer): boolean {
  return (
    packet.length >= HEADER_LENGTH &&
    (packet[0]! & 0xc0) === 0 &&
    packet.readUInt32BE(4) === MAGIC_COOKIE &&
    packet.readUInt16BE(2) % 4 === 0 &&
    packet.readUInt16BE(2) + HEADER_LENGTH === packet.length
  );
}

/**
 * The mapped address from a Binding success response to `transactionId`, or null when the packet is
 * anything else (another transaction, an error response, malformed, unknown required attributes).
 */
export function readBindingResponse(packet: Buffer, transactionId: Buffer): MappedEndpoint | null {
  const message = matchingResponse(packet, transactionId);
  if (!message || message.type !== BINDING_SUCCESS_RESPONSE) return null;
  return mappedEndpoint(message);
}

function matchingResponse(packet: Buffer, transactionId: Buffer): StunMessage | null {
  if (!isStunMessage(packet)) return null;
  const message = tryDecodeStunMessage(packet);
  if (message instanceof StunError) return null;
  if (!message.transactionId.equals(transactionId)) return null;
  // §7.3.3: a response with unknown comprehension-required attributes fails the transaction.
  if (message.unknownRequired.length > 0) return null;
  return message;
}

function mappedEndpoint(message: StunMessage): MappedEndpoint | null {
  try {
    // §14.2: prefer XOR-MAPPED-ADDRESS (NATs that rewrite addresses in payloads leave it intact).
    const xor = findAttribute(message, AttributeType.xorMappedAddress);
    if (xor) {
      const { host, port } = decodeXorMappedAddress(xor, message.transactionId);
      return { host, port };
    }
    const plain = findAttribute(message, AttributeType.mappedAddress);
    if (plain) {
      const { host, port } = decodeMappedAddress(plain);
      return { host, port };
    }
  } catch (error) {
    if (error instanceof StunError) return null;
    throw error;
  }
  return null;
}

export interface RetransmitOptions {
  rtoMs?: number;
  requestCount?: number;
  lastWaitMultiplier?: number;
}

/**
 * RFC 8489 §6.2.1: how long to wait after each send. With RTO 500 ms, Rc 7, Rm 16:
 * 500, 1000, 2000, 4000, 8000, 16000, 8000 (the last wait is Rm × RTO), 39.5 s in all.
 */
export function bindingRetransmitDelays(options: RetransmitOptions = {}): number[] {
  const rto = options.rtoMs ?? STUN_DEFAULTS.rtoMs;
  const count = Math.max(1, options.requestCount ?? STUN_DEFAULTS.requestCount);
  const last = (options.lastWaitMultiplier ?? STUN_DEFAULTS.lastWaitMultiplier) * rto;
  const delays: number[] = [];
  for (let i = 0; i < count - 1; i++) delays.push(rto * 2 ** i);
  delays.push(last);
  return delays;
}

export interface QueryStunOptions extends RetransmitOptions {
  /** Overall cap; the transaction fails with STUN_TIMEOUT when it is reached. */
  timeoutMs?: number;
  /** Retransmissions after the first request (Rc − 1); overrides requestCount. */
  retries?: number;
  localAddress?: string;
  localPort?: number;
}

/** One Binding transaction over its own node:dgram socket; resolves to the reflexive address. */
export function queryStun(server: MappedEndpoint, options: QueryStunOptions = {}): Promise<MappedEndpoint> {
  const delays = bindingRetransmitDelays({
    ...options,
    requestCount: options.retries !== undefined ? options.retries + 1 : options.requestCount,
  });
  const timeoutMs = options.timeoutMs ?? delays.reduce((a, b) => a + b, 0);
  const { transactionId, packet } = createBindingRequest();
  const socket = createSocket({ type: isIPv6(server.host) ? 'udp6' : 'udp4' });

  return new Promise<MappedEndpoint>((resolve, reject) => {
    let retransmitTimer: NodeJS.Timeout | undefined;
    let attempt = 0;
    let finished = false;
    const finish = (outcome: { endpoint: MappedEndpoint } | { error: Error }): void => {
      if (finished) return;
      finished = true;
      clearTimeout(retransmitTimer);
      clearTimeout(deadline);
      socket.removeAllListeners('message');
      socket.close();
      if ('endpoint' in outcome) resolve(outcome.endpoint);
      else reject(outcome.error);
    };
    const deadline = setTimeout(
      () => finish({ error: new StunError('STUN_TIMEOUT', `no STUN answer within ${timeoutMs} ms`) }),
      timeoutMs,
    );
    const send = (): void => {
      if (finished) return;
      socket.send(packet, server.port, server.host);
      const wait = delays[attempt++];
      if (wait !== undefined && attempt < delays.length) retransmitTimer = setTimeout(send, wait);
    };

    socket.on('message', (answer) => {
      const message = matchingResponse(answer, transactionId);
      if (!message) return;
      if (message.type === BINDING_ERROR_RESPONSE) {
        const errorCode = findAttribute(message, AttributeType.errorCode);
        let detail = 'error response';
        try {
          if (errorCode) detail = `${decodeErrorCode(errorCode).code} ${decodeErrorCode(errorCode).reason}`;
        } catch {
          // a malformed ERROR-CODE still ends the transaction as an error response
        }
        finish({ error: new StunError('STUN_ERROR_RESPONSE', `STUN server answered ${detail}`) });
        return;
      }
      const endpoint = message.type === BINDING_SUCCESS_RESPONSE ? mappedEndpoint(message) : null;
      if (endpoint) finish({ endpoint });
    });
    socket.on('error', (error) => finish({ error }));
    socket.bind({ address: options.localAddress, port: options.localPort ?? 0 }, send);
  });
}
