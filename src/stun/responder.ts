import { writeIpBytes } from './address.js';
import { encodeErrorCode, encodeSoftware, encodeUnknownAttributes } from './attributes.js';
import {
  AddressFamily,
  ATTRIBUTE_HEADER_LENGTH,
  AttributeType,
  BINDING_ERROR_RESPONSE,
  BINDING_REQUEST,
  BINDING_SUCCESS_RESPONSE,
  FINGERPRINT_LENGTH,
  HEADER_LENGTH,
  isComprehensionRequired,
  isUnderstoodRequired,
  MAGIC_COOKIE,
  ResponseErrorCode,
} from './constants.js';
import { fingerprintOf } from './integrity.js';
import { encodeStunMessage, type OutgoingAttribute } from './message.js';

/**
 * The server's hot path: checks a datagram and writes the Binding answer (RFC 8489 §6.3) without
 * building a decoded message. It does the same checks as `decodeStunMessage`, but walks the bytes in
 * place, because this runs once per packet and is benchmarked against coturn.
 */

/** Most unknown comprehension-required attributes we list in a 420 (§14.13 puts no limit; a packet does). */
const MAX_UNKNOWN_LISTED = 16;

/** CHANGE-REQUEST flags (RFC 5780 §7.2). */
const CHANGE_IP = 0x04;
const CHANGE_PORT = 0x02;

/** The server's other socket (RFC 5780 §7.4 OTHER-ADDRESS), for NAT behaviour discovery. */
export interface AlternateSocket {
  /** The bound host; an unspecified one (`::`, `0.0.0.0`) is sent as such: "the address you sent to". */
  host: string;
  port: number;
}

export class BindingResponder {
  /**
   * Set by the last `answer`: the request asked for the answer to leave from the other port
   * (CHANGE-REQUEST change port), so the caller sends it from its alternate socket.
   */
  fromAlternate = false;
  private readonly alternate: AlternateSocket | undefined;
  /** SOFTWARE attribute, encoded once with its header and padding. */
  private readonly softwareTlv: Buffer;
  private readonly software: string;
  /** Cache of the last source IP: a load of packets from one NAT mostly repeats it. */
  private lastIp = '';
  private lastFamily: 4 | 6 | 0 = 0;
  private readonly lastAddress = Buffer.alloc(16);
  private readonly unknown = new Uint16Array(MAX_UNKNOWN_LISTED);
  private readonly ipv4Template: Buffer;
  private readonly ipv6Template: Buffer;

  /** Whether answers carry MAPPED-ADDRESS besides XOR-MAPPED-ADDRESS (RFC 3489-era readers). */
  private readonly mapped: boolean;

  constructor(software: string, alternate?: AlternateSocket, mappedAddress = true) {
    this.software = software;
    this.mapped = mappedAddress;
    this.alternate = alternate;
    if (software === '') {
      this.softwareTlv = Buffer.alloc(0);
    } else {
      const { value } = encodeSoftware(software);
      this.softwareTlv = Buffer.alloc(ATTRIBUTE_HEADER_LENGTH + ((value.length + 3) & ~3));
      this.softwareTlv.writeUInt16BE(AttributeType.software, 0);
      this.softwareTlv.writeUInt16BE(value.length, 2);
      this.softwareTlv.set(value, ATTRIBUTE_HEADER_LENGTH);
    }
    this.ipv4Template = BindingResponder.answerTemplate(
      4,
      this.softwareTlv,
      otherAddressTlv(alternate, 4),
      mappedAddress,
    );
    this.ipv6Template = BindingResponder.answerTemplate(
      16,
      this.softwareTlv,
      otherAddressTlv(alternate, 6),
      mappedAddress,
    );
  }

  /**
   * The datagram to send back to `ip`:`port`, or null to drop silently (malformed, not a Binding
   * request, bad FINGERPRINT: RFC 8489 §6.3 says such messages are discarded).
   */
  answer(packet: Buffer, ip: string, port: number): Buffer | null {
    const size = packet.length;
    if (size < HEADER_LENGTH) return null;
    // Type 0x0001 also proves the two leading zero bits (§5); anything else is not our business.
    if (packet.readUInt16BE(0) !== BINDING_REQUEST) return null;
    if (packet.readUInt32BE(4) !== MAGIC_COOKIE) return null;
    const length = packet.readUInt16BE(2);
    if (length % 4 !== 0 || HEADER_LENGTH + length !== size) return null;

    let unknownCount = 0;
    let offset = HEADER_LENGTH;
    this.fromAlternate = false;
    while (offset < size) {
      if (offset + ATTRIBUTE_HEADER_LENGTH > size) return null;
      const type = packet.readUInt16BE(offset);
      const valueLength = packet.readUInt16BE(offset + 2);
      const next = offset + ATTRIBUTE_HEADER_LENGTH + ((valueLength + 3) & ~3);
      if (next > size) return null;
      if (type === AttributeType.fingerprint) {
        if (valueLength !== FINGERPRINT_LENGTH - ATTRIBUTE_HEADER_LENGTH || next !== size) return null;
        if (packet.readUInt32BE(offset + 4) !== fingerprintOf(packet, offset)) return null;
      } else if (type === AttributeType.changeRequest && this.alternate && valueLength === 4) {
        const flags = packet.readUInt32BE(offset + 4);
        // One address only: a change of IP cannot be honoured, so the request is refused (420).
        if (flags & CHANGE_IP) {
          if (unknownCount < MAX_UNKNOWN_LISTED) this.unknown[unknownCount++] = type;
        } else if (flags & CHANGE_PORT) this.fromAlternate = true;
      } else if (isComprehensionRequired(type) && !isUnderstoodRequired(type)) {
        if (unknownCount < MAX_UNKNOWN_LISTED) this.unknown[unknownCount++] = type;
      }
      offset = next;
    }

    if (!this.sourceAddress(ip)) return null;
    if (unknownCount > 0) {
      this.fromAlternate = false;
      return this.unknownAttributeAnswer(packet, unknownCount);
    }
    return this.successAnswer(packet, port);
  }

  /** Loads the source IP's bytes into `lastAddress`; false if it is not an IP literal. */
  private sourceAddress(ip: string): boolean {
    if (ip === this.lastIp) return this.lastFamily !== 0;
    this.lastFamily = writeIpBytes(ip, this.lastAddress, 0);
    this.lastIp = ip;
    return this.lastFamily !== 0;
  }

  /** §6.3.1.1 / §7.3.1: XOR-MAPPED-ADDRESS, MAPPED-ADDRESS (RFC 3489-era readers), SOFTWARE, FINGERPRINT. */
  private successAnswer(request: Buffer, port: number): Buffer {
    const ipv4 = this.lastFamily === 4;
    const template = ipv4 ? this.ipv4Template : this.ipv6Template;
    const addressLength = ipv4 ? 4 : 16;
    // The profile showed Buffer#copy and writeUInt16BE as the answer's own cost: the constant
    // parts come from a template in one `set`, the rest are single byte stores.
    const out = Buffer.allocUnsafe(template.length);
    out.set(template);
    // Cookie and transaction id (bytes 4..20) echo the request.
    for (let i = 4; i < HEADER_LENGTH; i++) out[i] = request[i]!;
    const xorPort = port ^ (MAGIC_COOKIE >>> 16);
    // XOR-MAPPED-ADDRESS at 20 (§14.2): address XOR (cookie ‖ transaction id), i.e. request bytes 4..20.
    out[26] = xorPort >>> 8;
    out[27] = xorPort & 0xff;
    const address = this.lastAddress;
    for (let i = 0; i < addressLength; i++) out[28 + i] = address[i]! ^ request[4 + i]!;
    // MAPPED-ADDRESS right after it (§14.1), in the clear.
    if (this.mapped) {
      const mapped = 28 + addressLength;
      out[mapped + 6] = port >>> 8;
      out[mapped + 7] = port & 0xff;
      for (let i = 0; i < addressLength; i++) out[mapped + 8 + i] = address[i]!;
    }
    const fingerprintAt = template.length - FINGERPRINT_LENGTH;
    out.writeUInt32BE(fingerprintOf(out, fingerprintAt), fingerprintAt + 4);
    return out;
  }

  /**
   * Everything of a success answer that does not depend on the request: type, length, headers,
   * OTHER-ADDRESS, SOFTWARE.
   */
  private static answerTemplate(
    addressLength: 4 | 16,
    softwareTlv: Buffer,
    otherTlv: Buffer,
    mapped: boolean,
  ): Buffer {
    const addressTlv = ATTRIBUTE_HEADER_LENGTH + 4 + addressLength;
    const addressTypes = mapped
      ? [AttributeType.xorMappedAddress, AttributeType.mappedAddress]
      : [AttributeType.xorMappedAddress];
    const total =
      HEADER_LENGTH +
      addressTypes.length * addressTlv +
      otherTlv.length +
      softwareTlv.length +
      FINGERPRINT_LENGTH;
    const template = Buffer.alloc(total);
    template.writeUInt16BE(BINDING_SUCCESS_RESPONSE, 0);
    template.writeUInt16BE(total - HEADER_LENGTH, 2);
    let offset = HEADER_LENGTH;
    for (const type of addressTypes) {
      template.writeUInt16BE(type, offset);
      template.writeUInt16BE(4 + addressLength, offset + 2);
      template[offset + 5] = addressLength === 4 ? AddressFamily.ipv4 : AddressFamily.ipv6;
      offset += addressTlv;
    }
    otherTlv.copy(template, offset);
    offset += otherTlv.length;
    softwareTlv.copy(template, offset);
    offset += softwareTlv.length;
    template.writeUInt16BE(AttributeType.fingerprint, offset);
    template.writeUInt16BE(FINGERPRINT_LENGTH - ATTRIBUTE_HEADER_LENGTH, offset + 2);
    return template;
  }

  /** §6.3.1.1: a request with unknown comprehension-required attributes gets 420 + UNKNOWN-ATTRIBUTES. */
  private unknownAttributeAnswer(request: Buffer, count: number): Buffer {
    const attributes: OutgoingAttribute[] = [
      encodeErrorCode(ResponseErrorCode.unknownAttribute, 'Unknown Attribute'),
      encodeUnknownAttributes(Array.from(this.unknown.subarray(0, count))),
    ];
    if (this.software !== '') attributes.push(encodeSoftware(this.software));
    return encodeStunMessage(
      { type: BINDING_ERROR_RESPONSE, transactionId: request.subarray(8, HEADER_LENGTH), attributes },
      { fingerprint: true },
    );
  }
}

/**
 * OTHER-ADDRESS for answers to one family: the alternate socket's host when it is of that family,
 * the family's unspecified address when the socket listens on all addresses; none without one.
 */
function otherAddressTlv(alternate: AlternateSocket | undefined, family: 4 | 6): Buffer {
  if (!alternate) return Buffer.alloc(0);
  const length = family === 4 ? 4 : 16;
  const bytes = Buffer.alloc(16);
  const written = writeIpBytes(alternate.host, bytes, 0);
  const unspecified = bytes.subarray(0, written === 4 ? 4 : 16).every((b) => b === 0);
  // An IPv4-bound alternate cannot be told in an IPv6 answer (nor the reverse): send unspecified.
  if (written !== family || unspecified) bytes.fill(0);
  const tlv = Buffer.alloc(ATTRIBUTE_HEADER_LENGTH + 4 + length);
  tlv.writeUInt16BE(AttributeType.otherAddress, 0);
  tlv.writeUInt16BE(4 + length, 2);
  tlv[5] = family === 4 ? AddressFamily.ipv4 : AddressFamily.ipv6;
  tlv.writeUInt16BE(alternate.port, 6);
  bytes.copy(tlv, 8, 0, length);
  return tlv;
}
