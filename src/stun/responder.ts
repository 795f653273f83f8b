import { writeIpBytes } from './address.js';
import { encodeErrorCode, encodeSoftware, encodeUnknownAttributes } from './attributes.js';
import {
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

export class BindingResponder {
  /** SOFTWARE attribute, encoded once with its header and padding. */
  private readonly softwareTlv: Buffer;
  private readonly software: string;
  /** Cache of the last source IP: a load of packets from one NAT mostly repeats it. */
  private lastIp = '';
  private lastFamily: 4 | 6 | 0 = 0;
  private readonly lastAddress = Buffer.alloc(16);
  private readonly unknown = new Uint16Array(MAX_UNKNOWN_LISTED);

  constructor(software: string) {
    this.software = software;
    if (software === '') {
      this.softwareTlv = Buffer.alloc(0);
    } else {
      const { value } = encodeSoftware(software);
      this.softwareTlv = Buffer.alloc(ATTRIBUTE_HEADER_LENGTH + ((value.length + 3) & ~3));
      this.softwareTlv.writeUInt16BE(AttributeType.software, 0);
      this.softwareTlv.writeUInt16BE(value.length, 2);
      this.softwareTlv.set(value, ATTRIBUTE_HEADER_LENGTH);
    }
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
    while (offset < size) {
      if (offset + ATTRIBUTE_HEADER_LENGTH > size) return null;
      const type = packet.readUInt16BE(offset);
      const valueLength = packet.readUInt16BE(offset + 2);
      const next = offset + ATTRIBUTE_HEADER_LENGTH + ((valueLength + 3) & ~3);
      if (next > size) return null;
      if (type === AttributeType.fingerprint) {
        if (valueLength !== FINGERPRINT_LENGTH - ATTRIBUTE_HEADER_LENGTH || next !== size) return null;
        if (packet.readUInt32BE(offset + 4) !== fingerprintOf(packet, offset)) return null;
      } else if (isComprehensionRequired(type) && !isUnderstoodRequired(type)) {
        if (unknownCount < MAX_UNKNOWN_LISTED) this.unknown[unknownCount++] = type;
      }
      offset = next;
    }

    if (!this.sourceAddress(ip)) return null;
    if (unknownCount > 0) return this.unknownAttributeAnswer(packet, unknownCount);
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
    const addressLength = this.lastFamily === 4 ? 4 : 16;
    const addressTlv = ATTRIBUTE_HEADER_LENGTH + 4 + addressLength;
    const total = HEADER_LENGTH + 2 * addressTlv + this.softwareTlv.length + FINGERPRINT_LENGTH;
    const out = Buffer.allocUnsafe(total);
    out.writeUInt16BE(BINDING_SUCCESS_RESPONSE, 0);
    out.writeUInt16BE(total - HEADER_LENGTH, 2);
    // Cookie and transaction id are copied from the request in one go (bytes 4..20).
    request.copy(out, 4, 4, HEADER_LENGTH);

    let offset = HEADER_LENGTH;
    const family = this.lastFamily === 4 ? 0x01 : 0x02;
    // XOR-MAPPED-ADDRESS (§14.2): port ^ 0x2112, address ^ (cookie ‖ transaction id) = request bytes 4..20.
    out.writeUInt16BE(AttributeType.xorMappedAddress, offset);
    out.writeUInt16BE(4 + addressLength, offset + 2);
    out[offset + 4] = 0;
    out[offset + 5] = family;
    out.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), offset + 6);
    for (let i = 0; i < addressLength; i++) out[offset + 8 + i] = this.lastAddress[i]! ^ request[4 + i]!;
    offset += addressTlv;
    // MAPPED-ADDRESS (§14.1).
    out.writeUInt16BE(AttributeType.mappedAddress, offset);
    out.writeUInt16BE(4 + addressLength, offset + 2);
    out[offset + 4] = 0;
    out[offset + 5] = family;
    out.writeUInt16BE(port, offset + 6);
    this.lastAddress.copy(out, offset + 8, 0, addressLength);
    offset += addressTlv;
    if (this.softwareTlv.length > 0) {
      this.softwareTlv.copy(out, offset);
      offset += this.softwareTlv.length;
    }
    out.writeUInt16BE(AttributeType.fingerprint, offset);
    out.writeUInt16BE(FINGERPRINT_LENGTH - ATTRIBUTE_HEADER_LENGTH, offset + 2);
    out.writeUInt32BE(fingerprintOf(out, offset), offset + 4);
    return out;
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
