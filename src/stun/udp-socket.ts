import { createRequire } from 'node:module';

/**
 * The UDP socket under the STUN server: udx-native's raw socket rather than node:dgram.
 * Profiled under the coturn benchmark (BENCHMARKS.md): node:dgram spends about a quarter of the
 * server's CPU receiving (a 64 KiB allocation and a full MakeCallback per datagram); udx-native
 * hands datagrams over as slices of one receive buffer, which made the server about 15% cheaper
 * per answer. udx-native is already the client's transport, so this adds no dependency.
 *
 * udx-native ships no TypeScript types; this file declares the little the server uses, without a
 * global module declaration that could clash with the client's.
 */

export interface RemoteAddress {
  readonly host: string;
  readonly family: number;
  readonly port: number;
}

export interface UdxSocket {
  on(event: 'message', listener: (packet: Buffer, remote: RemoteAddress) => void): this;
  bind(port: number, host: string): void;
  address(): { host: string; family: number; port: number } | null;
  /** Sends without a promise; the buffer is kept alive by udx until the kernel took it. */
  trySend(packet: Buffer, port: number, host: string): void;
  setRecvBufferSize(size: number): number;
  close(): Promise<void>;
}

interface Udx {
  createSocket(options?: { ipv6Only?: boolean }): UdxSocket;
}

const require = createRequire(import.meta.url);
const UDX = require('udx-native') as new () => Udx;

let shared: Udx | undefined;

/** One udx instance per process is enough; sockets are independent. */
export function createUdpSocket(): UdxSocket {
  shared ??= new UDX();
  return shared.createSocket({ ipv6Only: false });
}
