import { ipText, writeIpBytes } from './address.js';
import {
  AddressFamily,
  AttributeType,
  MAGIC_COOKIE,
  MAX_REASON_PHRASE_BYTES,
  MAX_SOFTWARE_BYTES,
  MAX_USERNAME_BYTES,
} from './constants.js';
import { StunError } from './errors.js';
import type { OutgoingAttribute, StunAttribute } from './message.js';

/** A transport address as STUN carries it (RFC 8489 §14.1). */
export interface TransportAddress {
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
}

const bad = (message: string): StunError => new StunError('STUN_BAD_ATTRIBUTE', message);

/** RFC 8489 §14.1 MAPPED-ADDRESS: family, port, address in the clear. */
export function decodeMappedAddress(attribute: StunAttribute): TransportAddress {
  return decodeAddress(attribute.value, null);
}

/** RFC 8489 §14.2 XOR-MAPPED-ADDRESS: port XOR cookie>>16, address XOR cookie (‖ transaction id for IPv6). */
export function decodeXorMappedAddress(
  attribute: StunAttribute,
  transactionId: Uint8Array,
): TransportAddress {
  return decodeAddress(attribute.value, transactionId);
}

function decodeAddress(value: Buffer, transactionId: Uint8Array | null): TransportAddress {
  if (value.length < 4) throw bad('address attribute shorter than 4 bytes');
  const familyCode = value[1];
  const size = familyCode === AddressFamily.ipv4 ? 4 : familyCode === AddressFamily.ipv6 ? 16 : 0;
  if (size === 0) throw bad('address attribute with unknown family');
  if (value.length !== 4 + size) throw bad('address attribute length does not match its family');
  let port = value.readUInt16BE(2);
  const address = Uint8Array.from(value.subarray(4, 4 + size));
  if (transactionId) {
    port ^= MAGIC_COOKIE >>> 16;
    xorAddress(address, transactionId);
  }
  return { host: ipText(address), port, family: size === 4 ? 4 : 6 };
}

/** XOR with the magic cookie followed by the transaction id (§14.2); IPv4 uses the cookie only. */
function xorAddress(address: Uint8Array, transactionId: Uint8Array): void {
  for (let i = 0; i < address.length; i++) {
    const key = i < 4 ? (MAGIC_COOKIE >>> (24 - 8 * i)) & 0xff : (transactionId[i - 4] ?? 0);
    address[i] = (address[i] ?? 0) ^ key;
  }
}

export function encodeMappedAddress(host: string, port: number): OutgoingAttribute {
  return { type: AttributeType.mappedAddress, value: encodeAddress(host, port, null) };
}

export function encodeXorMappedAddress(
  host: string,
  port: number,
  transactionId: Uint8Array,
): OutgoingAttribute {
  return { type: AttributeType.xorMappedAddress, value: encodeAddress(host, port, transactionId) };
}

function encodeAddress(host: string, port: number, transactionId: Uint8Array | null): Buffer {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw bad(`port out of range: ${port}`);
  const value = Buffer.alloc(20);
  const family = writeIpBytes(host, value, 4);
  if (family === 0) throw bad(`not an IP address: ${host}`);
  const size = family === 4 ? 4 : 16;
  value[1] = family === 4 ? AddressFamily.ipv4 : AddressFamily.ipv6;
  value.writeUInt16BE(transactionId ? port ^ (MAGIC_COOKIE >>> 16) : port, 2);
  const address = value.subarray(4, 4 + size);
  if (transactionId) xorAddress(address, transactionId);
  return value.subarray(0, 4 + size);
}

/** RFC 8489 §14.9 SOFTWARE: UTF-8, fewer than 128 characters, at most 763 bytes. */
export function decodeSoftware(attribute: StunAttribute): string {
  if (attribute.value.length > MAX_SOFTWARE_BYTES) throw bad('SOFTWARE longer than 763 bytes');
  return attribute.value.toString('utf8');
}

export function encodeSoftware(software: string): OutgoingAttribute {
  const value = Buffer.from(software, 'utf8');
  if (value.length > MAX_SOFTWARE_BYTES) throw bad('SOFTWARE longer than 763 bytes');
  return { type: AttributeType.software, value };
}

/** RFC 8489 §14.3 USERNAME: UTF-8, at most 513 bytes. */
export function decodeUsername(attribute: StunAttribute): string {
  if (attribute.value.length > MAX_USERNAME_BYTES) throw bad('USERNAME longer than 513 bytes');
  return attribute.value.toString('utf8');
}

export function encodeUsername(username: string): OutgoingAttribute {
  const value = Buffer.from(username, 'utf8');
  if (value.length > MAX_USERNAME_BYTES) throw bad('USERNAME longer than 513 bytes');
  return { type: AttributeType.username, value };
}

/** RFC 8489 §14.8 ERROR-CODE: 21 reserved bits, class (3 bits, 3..6), number (0..99), reason. */
export interface StunErrorValue {
  readonly code: number;
  readonly reason: string;
}

export function decodeErrorCode(attribute: StunAttribute): StunErrorValue {
  const value = attribute.value;
  if (value.length < 4) throw bad('ERROR-CODE shorter than 4 bytes');
  if (value.length - 4 > MAX_REASON_PHRASE_BYTES) throw bad('ERROR-CODE reason longer than 763 bytes');
  const errorClass = value[2]! & 0x07;
  const number = value[3]!;
  if (errorClass < 3 || errorClass > 6 || number > 99) throw bad('ERROR-CODE outside 300..699');
  return { code: errorClass * 100 + number, reason: value.subarray(4).toString('utf8') };
}

export function encodeErrorCode(code: number, reason: string): OutgoingAttribute {
  if (!Number.isInteger(code) || code < 300 || code > 699) throw bad(`error code outside 300..699: ${code}`);
  const phrase = Buffer.from(reason, 'utf8');
  if (phrase.length > MAX_REASON_PHRASE_BYTES) throw bad('ERROR-CODE reason longer than 763 bytes');
  const value = Buffer.alloc(4 + phrase.length);
  value[2] = Math.floor(code / 100);
  value[3] = code % 100;
  value.set(phrase, 4);
  return { type: AttributeType.errorCode, value };
}

/** RFC 8489 §14.13 UNKNOWN-ATTRIBUTES: a list of 16-bit types. */
export function decodeUnknownAttributes(attribute: StunAttribute): number[] {
  if (attribute.value.length % 2 !== 0) throw bad('UNKNOWN-ATTRIBUTES has an odd length');
  const types: number[] = [];
  for (let i = 0; i < attribute.value.length; i += 2) types.push(attribute.value.readUInt16BE(i));
  return types;
}

export function encodeUnknownAttributes(types: readonly number[]): OutgoingAttribute {
  const value = Buffer.alloc(types.length * 2);
  types.forEach((type, i) => {
    value.writeUInt16BE(type, i * 2);
  });
  return { type: AttributeType.unknownAttributes, value };
}
