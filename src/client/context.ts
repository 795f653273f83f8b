import type { KeyPair } from '@hyperswarm/secret-stream';
import type { Endpoint, RequestType, Result, SignalBody } from '../protocol/index.js';
import type { RequestFields } from './control.js';
import type { NatClass } from './nat-class.js';
import type { Liveness, Timeouts } from './options.js';
import type { PeerSocket } from './peer-socket.js';

/** What the path story needs from the logged-on client; the Client class provides it. */
export interface PeerContext {
  readonly user: string;
  readonly keyPair: KeyPair;
  readonly socket: PeerSocket;
  readonly liveness: Liveness;
  request<T extends RequestType>(type: T, fields: RequestFields<T>): Promise<Result<T>>;
  /** The buddy's key as pinned at acceptance; throws NOT_BUDDY for anyone else. */
  pinnedKey(buddy: string): Promise<Buffer>;
  localAddresses(): Endpoint[];
  globalAddresses(timeouts: Timeouts): Promise<Endpoint[]>;
  ownGlobalAddress(timeouts: Timeouts): Promise<Endpoint>;
  /** Our NAT's mapping class, learnt with the global address; undefined until then. */
  natClass?(): NatClass | undefined;
  /** Resolves with the buddy's answer (or abort) to our offer of `session` in `scope`. */
  awaitAnswer(
    buddy: string,
    session: string,
    scope: SignalBody['scope'],
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<SignalBody>;
  /** ws(s)://server + the relay path from `relay.open`. */
  relayUrl(path: string): string;
}
