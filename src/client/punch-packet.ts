/**
 * Hole-punching probes (S106/S124, and the LAN reachability check of S54/S74): tiny UDP packets that
 * open NAT mappings and prove which candidate address answers. They prove nothing about identity;
 * the Noise handshake that follows does (§4.2).
 *
 * Layout: "BLNK" | version (1) | kind (1: probe, 2: ack) | scope (1: local, 2: global) | session (16)
 *         | role (1: 0 unknown, 1 initiator, 2 answerer).
 * The role lets a side ignore its own probes: on hosts that share an address (a docker bridge's
 * 172.17.0.1 exists on many machines), a probe to the buddy's "local address" can land on ourselves.
 * The first byte 0x42 has top bits 01, so a probe is never a STUN message (RFC 8489 §5: top bits 00),
 * nor a UDX packet (magic 0xff).
 */
const MAGIC = Buffer.from('BLNK', 'ascii');
const VERSION = 1;
export const PUNCH_PACKET_BYTES = 24;

export type PunchKind = 'probe' | 'ack';
export type PunchScope = 'local' | 'global';
export type PunchRole = 'initiator' | 'answerer';

export interface PunchPacket {
  kind: PunchKind;
  scope: PunchScope;
  /** Session id, hex (the signal's `session`). */
  session: string;
  /** Which side sent it; absent when unknown (a foreign implementation). */
  role?: PunchRole;
}

const KIND_CODE: Record<PunchKind, number> = { probe: 1, ack: 2 };
const SCOPE_CODE: Record<PunchScope, number> = { local: 1, global: 2 };
const ROLE_CODE: Record<PunchRole, number> = { initiator: 1, answerer: 2 };

export function isPunchPacket(packet: Uint8Array): boolean {
  return packet.length === PUNCH_PACKET_BYTES && Buffer.from(packet.subarray(0, 4)).equals(MAGIC);
}

export function encodePunchPacket(p: PunchPacket): Buffer {
  const out = Buffer.alloc(PUNCH_PACKET_BYTES);
  MAGIC.copy(out, 0);
  out[4] = VERSION;
  out[5] = KIND_CODE[p.kind];
  out[6] = SCOPE_CODE[p.scope];
  Buffer.from(p.session, 'hex').copy(out, 7);
  out[23] = p.role ? ROLE_CODE[p.role] : 0;
  return out;
}

/** Returns null for anything that is not a well-formed probe of this version. */
export function decodePunchPacket(packet: Uint8Array): PunchPacket | null {
  if (!isPunchPacket(packet) || packet[4] !== VERSION) return null;
  const kind = packet[5] === 1 ? 'probe' : packet[5] === 2 ? 'ack' : null;
  const scope = packet[6] === 1 ? 'local' : packet[6] === 2 ? 'global' : null;
  const role =
    packet[23] === 1 ? 'initiator' : packet[23] === 2 ? 'answerer' : packet[23] === 0 ? undefined : null;
  if (!kind || !scope || role === null) return null;
  const decoded: PunchPacket = { kind, scope, session: Buffer.from(packet.subarray(7, 23)).toString('hex') };
  if (role) decoded.role = role;
  return decoded;
}
