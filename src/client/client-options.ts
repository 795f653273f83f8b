import { hostname } from 'node:os';
import type { IdentityStore, KeyPairBytes } from './identity.js';
import type { Liveness, PeerSocketOptions, Timeouts } from './options.js';
import type { PeerConnection } from './peer-connection.js';
import { serverUrls } from './server-list.js';

export interface LogonOptions extends PeerSocketOptions {
  /** The server's WebSocket URL, e.g. `ws://im.example:7070`. */
  server: string;
  user: string;
  /** Where the key pair and session token live; default `~/.buddylink`. */
  home?: string;
  /** Keep the key pair and session token here instead of files under `home` (e.g. `new MemoryIdentity()`). */
  identity?: IdentityStore;
  /** Use this key pair (the key buddies pin) instead of the stored one. */
  keyPair?: KeyPairBytes;
  password?: string;
  token?: string;
  /** Try the token kept in `home` before the password (default true; `login` says false). */
  useKeptToken?: boolean;
  /** A name for this device; several devices may be logged on as one user. */
  device?: string;
  /** This device takes incoming connections (the server aims signals at it first). */
  listen?: boolean;
  timeouts?: Partial<Timeouts>;
  liveness?: Partial<Liveness>;
  /** Source address of the control connection (the server registers it, S1); default: the system's choice. */
  controlLocalAddress?: string;
}

export interface CreateAccountOptions extends LogonOptions {
  password: string;
}

export interface ClientEvents {
  presence: [{ user: string; online: boolean }];
  'buddy.request': [{ from: string }];
  'buddy.accepted': [{ user: string; publicKey: string }];
  'buddy.removed': [{ user: string }];
  connection: [PeerConnection];
  disconnect: [{ reason: string }];
  reconnect: [];
  /** Another device of this user logged on. */
  'device.logon': [{ device: string }];
  /** This device's session ended (revoked, expired, password changed); the server closes it next. */
  'session.ended': [{ reason: 'revoked' | 'expired' | 'password changed' }];
}

/** A device name the server accepts: host name and process, so two commands never collide. */
export function defaultDevice(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_.:-]/g, '-')
      .slice(0, 40) || 'device';
  return `${host}.${process.pid}`;
}

/** One URL, or several nodes' URLs separated by commas (server-list.ts), each given its scheme. */
export function normaliseServerUrl(server: string): string {
  return serverUrls(server).join(',');
}
