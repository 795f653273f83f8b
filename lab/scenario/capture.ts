import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { decodePunchPacket, isPunchPacket } from '../../src/client/punch-packet.js';
import { ipBytes } from '../../src/protocol/addresses.js';
import type { Lab } from '../lab.js';
import { CliProcess } from './cli-driver.js';

/**
 * tcpdump inside a lab host, and a search of what it caught for addresses that must not be there.
 * Wire signalling is plain JSON over ws:// in the lab, so an address sent to a peer shows as text.
 */

export class Capture {
  private constructor(
    private readonly proc: CliProcess,
    readonly file: string,
  ) {}

  static async start(lab: Lab, host: string, file: string): Promise<Capture> {
    const child = lab.spawn(host, ['tcpdump', '-i', lab.iface('eth0'), '-U', '-n', '-s', '0', '-w', file]);
    const proc = new CliProcess(child);
    const deadline = Date.now() + 5_000;
    while (!/listening on/.test(proc.stderr)) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`tcpdump did not start: ${proc.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return new Capture(proc, file);
  }

  /** Stops the capture and returns the payload of every packet caught. */
  async stop(): Promise<Buffer[]> {
    await this.proc.stop();
    return pcapPackets(await readFile(this.file));
  }
}

/** Packets of a classic pcap file (libpcap format, either byte order). */
export function pcapPackets(pcap: Buffer): Buffer[] {
  if (pcap.length < 24) return [];
  const magic = pcap.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const u32 = (at: number) => (le ? pcap.readUInt32LE(at) : pcap.readUInt32BE(at));
  const out: Buffer[] = [];
  let at = 24;
  while (at + 16 <= pcap.length) {
    const caught = u32(at + 8);
    at += 16;
    if (at + caught > pcap.length) break;
    out.push(pcap.subarray(at, at + caught));
    at += caught;
  }
  return out;
}

/**
 * Which of `addresses` appear in `packets`: as text anywhere, or as raw bytes in packets small
 * enough to be signalling or punching (a bulk encrypted payload matches 4 random bytes by chance).
 */
export function addressesSeen(
  packets: readonly Buffer[],
  addresses: readonly string[],
  smallPacket = 400,
): string[] {
  return addresses.filter((address) => {
    const text = Buffer.from(address);
    const raw = Buffer.from(ipBytes(address));
    return packets.some(
      (p) => p.includes(text) || (p.length <= smallPacket && isIP(address) !== 0 && p.includes(raw)),
    );
  });
}

/** Punch datagrams (probes and acks) a host sent, by scope: what a matrix row's budget bounds. */
export interface PunchDatagrams {
  local: number;
  global: number;
  /** Of `global`, those sent with a low TTL (the answerer's opening probes, punch.ts). */
  opening: number;
}

/** Below this an IP TTL (hop limit) is a deliberately low one: Linux sends with 64. */
const LOW_TTL = 16;

/** The UDP payload and source address of an Ethernet frame, or undefined for anything else. */
function udpPayload(frame: Buffer): { source: Buffer; ttl: number; payload: Buffer } | undefined {
  if (frame.length < 14) return undefined;
  const etherType = frame.readUInt16BE(12);
  if (etherType === 0x0800 && frame.length >= 34) {
    const headerBytes = (frame[14]! & 0x0f) * 4;
    if (frame[23] !== 17) return undefined;
    return { source: frame.subarray(26, 30), ttl: frame[22]!, payload: frame.subarray(14 + headerBytes + 8) };
  }
  if (etherType === 0x86dd && frame.length >= 62) {
    if (frame[20] !== 17) return undefined; // UDP right after the fixed header: what we send
    return { source: frame.subarray(22, 38), ttl: frame[21]!, payload: frame.subarray(62) };
  }
  return undefined;
}

/** Counts the punch datagrams in `frames` sent from `host` (its own address as the source). */
export function punchDatagramsFrom(frames: readonly Buffer[], host: string): PunchDatagrams {
  const own = Buffer.from(ipBytes(host));
  const counts: PunchDatagrams = { local: 0, global: 0, opening: 0 };
  for (const frame of frames) {
    const udp = udpPayload(frame);
    if (!udp?.source.equals(own)) continue;
    const scope = isPunchPacket(udp.payload) ? decodePunchPacket(udp.payload)?.scope : undefined;
    if (scope) counts[scope]++;
    if (scope === 'global' && udp.ttl < LOW_TTL) counts.opening++;
  }
  return counts;
}
