/**
 * The parts of udx-native and @hyperswarm/secret-stream that the client uses; neither ships types.
 * Kept to what we call, so that a change upstream shows up here first.
 */
declare module 'udx-native' {
  import type { EventEmitter } from 'node:events';
  import type { Duplex } from 'node:stream';

  export interface UdxAddress {
    host: string;
    family: number;
    port: number;
  }

  export interface UdxSocket extends EventEmitter {
    readonly bound: boolean;
    readonly closing: boolean;
    readonly udx: UDX;
    address(): UdxAddress | null;
    bind(port?: number, host?: string): void;
    close(): Promise<void>;
    send(buffer: Uint8Array, port: number, host?: string, ttl?: number): Promise<boolean>;
    trySend(buffer: Uint8Array, port: number, host?: string, ttl?: number): void;
    on(event: 'message', listener: (message: Buffer, from: UdxAddress) => void): this;
    on(event: 'close' | 'listening' | 'idle' | 'busy', listener: () => void): this;
  }

  export interface UdxStreamOptions {
    /** Called for a packet from an unknown remote; return true to drop it (udx's convention). */
    firewall?: (socket: UdxSocket, port: number, host: string, family: number) => boolean;
    framed?: boolean;
  }

  /** udx streams are streamx duplexes; the Node Duplex type is close enough for our calls. */
  export interface UdxStream extends Duplex {
    readonly id: number;
    readonly connected: boolean;
    readonly remoteHost: string | null;
    readonly remotePort: number;
    readonly rtt: number;
    connect(socket: UdxSocket, remoteId: number, port: number, host?: string): void;
    setKeepalive?(timeoutMs: number): void;
  }

  export interface UdxInterface {
    name: string;
    host: string;
    family: number;
    internal: boolean;
  }

  export default class UDX {
    createSocket(options?: { ipv6Only?: boolean; reuseAddress?: boolean }): UdxSocket;
    createStream(id: number, options?: UdxStreamOptions): UdxStream;
    networkInterfaces(): UdxInterface[];
  }
}

declare module '@hyperswarm/secret-stream' {
  import type { Duplex } from 'node:stream';

  export interface KeyPair {
    publicKey: Buffer;
    secretKey: Buffer;
  }

  export interface SecretStreamOptions {
    keyPair?: KeyPair;
    remotePublicKey?: Buffer;
    pattern?: string;
    keepAlive?: number;
  }

  /** A streamx duplex; the Node Duplex type is close enough for our calls. */
  export default class NoiseSecretStream extends Duplex {
    constructor(isInitiator: boolean, rawStream: Duplex | null, options?: SecretStreamOptions);
    static keyPair(seed?: Buffer): KeyPair;
    readonly isInitiator: boolean;
    readonly publicKey: Buffer | null;
    readonly remotePublicKey: Buffer | null;
    readonly handshakeHash: Buffer | null;
    readonly rawStream: Duplex;
    readonly opened: Promise<boolean>;
    setKeepAlive(ms: number): void;
    setTimeout(ms: number): void;
  }
}
