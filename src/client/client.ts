import { EventEmitter } from 'node:events';
import type { KeyPair } from '@hyperswarm/secret-stream';
import {
  type BuddyEntry,
  type Endpoint,
  ProtocolError,
  type RequestType,
  type Result,
  type ServerEvent,
  type SessionEntry,
} from '../protocol/index.js';
import { linkedSignal } from './abortable.js';
import { localAddresses } from './addresses.js';
import { Answerer } from './answer.js';
import { AnswerBoard } from './answer-board.js';
import type { PathAttempt } from './attempts.js';
import {
  type ClientEvents,
  type CreateAccountOptions,
  defaultDevice,
  type LogonOptions,
  normaliseServerUrl,
} from './client-options.js';
import { connectToBuddy } from './connect.js';
import type { PeerContext } from './context.js';
import { ControlChannel, type RequestFields } from './control.js';
import { authenticate, type Credentials } from './credentials.js';
import { ClientError } from './errors.js';
import { GlobalAddress } from './global-address.js';
import { defaultHome, Home } from './home.js';
import { type IdentityStore, withKeyPair } from './identity.js';
import { askSameNat, judgeOnClient } from './judge.js';
import { discoverNatBehaviour, type NatBehaviour } from './nat-behaviour.js';
import {
  type ConnectOptions,
  DEFAULT_LIVENESS,
  DEFAULT_TIMEOUTS,
  type JudgeChoice,
  type Liveness,
  type Timeouts,
} from './options.js';
import type { PeerConnection } from './peer-connection.js';
import { PeerSocket } from './peer-socket.js';
import { serverUrls } from './server-list.js';

export type { ClientEvents, CreateAccountOptions, LogonOptions } from './client-options.js';

/** Incoming connections held for a 'connection' listener that is not there yet; older ones are dropped. */
const MAX_UNCLAIMED = 8;

/**
 * A user logged on to a buddylink server: buddies, presence, the same-NAT judgement, and verified,
 * end-to-end encrypted connections to buddies over the LAN, the internet or the relay.
 */
export class Client extends EventEmitter<ClientEvents> {
  readonly user: string;
  readonly device: string;
  readonly publicKey: string;
  /** The home directory holding this client's key pair and session token ('' for an app's own identity store). */
  readonly homeDir: string;
  private control: ControlChannel;
  private readonly buddies = new Map<string, BuddyEntry>();
  private readonly answers = new AnswerBoard();
  private readonly connections = new Set<PeerConnection>();
  /** Incoming connections that arrived before anyone listened for 'connection'. */
  private readonly unclaimed: PeerConnection[] = [];
  private readonly answerer: Answerer;
  private readonly global: GlobalAddress;
  private readonly timeouts: Timeouts;
  private readonly liveness: Liveness;
  private readonly ctx: PeerContext;
  private closed = false;
  /** Aborted by close(): connects in flight stop, and so do their loser tries' timers. */
  private readonly closing = new AbortController();
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** The server ended this session (revoked, expired, password changed): no reconnect on its close. */
  private sessionEnded: string | undefined;
  /** Several nodes (`server` a comma-separated list): the one this client is logged on to. */
  private readonly servers: string[];
  private serverIndex = 0;

  private constructor(
    private readonly serverUrl: string,
    private readonly home: IdentityStore,
    private readonly credentials: Credentials,
    control: ControlChannel,
    logon: Result<'logon'>,
    keyPair: KeyPair,
    private readonly socket: PeerSocket,
    private readonly options: LogonOptions,
  ) {
    super();
    this.user = logon.user;
    this.device = logon.device;
    this.publicKey = keyPair.publicKey.toString('hex');
    this.homeDir = home.dir ?? '';
    this.control = control;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.liveness = { ...DEFAULT_LIVENESS, ...options.liveness };
    this.servers = serverUrls(serverUrl);
    this.global = new GlobalAddress(
      socket,
      this.servers[0] ?? serverUrl,
      options.stun,
      options.extraGlobalAddresses,
    );
    this.global.useAdvertised(logon.stun);
    this.ctx = this.makeContext(keyPair);
    this.answerer = new Answerer(this.ctx, this.timeouts, (connection) => this.adopt(connection, true));
    this.watch(control);
    (this as EventEmitter).on('newListener', (event: string | symbol) => {
      if (event === 'connection') setImmediate(() => this.deliverUnclaimed());
    });
  }

  /** Logs on with a token (given or kept in `home`) or a password; creates the key pair on first use. */
  static async logon(options: LogonOptions): Promise<Client> {
    return Client.start(options, async (control, home, credentials) => {
      return authenticate(control, normaliseServerUrl(options.server), home, credentials);
    });
  }

  /** Creates the account with this home's public key (the key buddies will pin) and logs on. */
  static async createAccount(options: CreateAccountOptions): Promise<Client> {
    return Client.start(options, async (control, home, credentials, keyPair) => {
      const result = await control.request('account.create', {
        user: options.user,
        password: options.password,
        publicKey: keyPair.publicKey.toString('hex'),
        device: credentials.device,
        listen: credentials.listen,
      });
      await home.saveSession({
        server: normaliseServerUrl(options.server),
        user: result.user,
        token: result.token,
        tokenExpiresAt: result.tokenExpiresAt,
      });
      return result;
    });
  }

  private static async start(
    options: LogonOptions,
    enter: (
      control: ControlChannel,
      home: IdentityStore,
      credentials: Credentials,
      keyPair: KeyPair,
    ) => Promise<Result<'logon'>>,
  ): Promise<Client> {
    const serverUrl = normaliseServerUrl(options.server);
    // The identity: the app's own store, or files under `home`; a given key pair overrides the stored one.
    const store = options.identity ?? new Home(options.home ?? defaultHome());
    const home = options.keyPair ? withKeyPair(store, options.keyPair) : store;
    const keyPair = await home.keyPair();
    const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    const credentials: Credentials = {
      user: options.user,
      password: options.password,
      token: options.token,
      useKeptToken: options.useKeptToken ?? true,
      device: options.device ?? defaultDevice(),
      listen: options.listen ?? false,
    };
    const { channel: control, index } = await ControlChannel.openAny(
      serverUrls(serverUrl),
      0,
      timeouts.requestTimeoutMs,
      options.controlLocalAddress,
    );
    let logon: Result<'logon'>;
    try {
      logon = await enter(control, home, credentials, keyPair);
    } catch (error) {
      control.close();
      throw error;
    }
    const socket = PeerSocket.bind(options.udpPort ?? 0, options.udpHost, {
      tcp: options.tcp ?? true,
      ...(options.birthday ? { birthday: options.birthday } : {}),
    });
    const client = new Client(serverUrl, home, credentials, control, logon, keyPair, socket, options);
    client.serverIndex = index;
    await client.refreshBuddies().catch(() => {});
    return client;
  }

  // ---- buddies (SPEC §3.1) ----

  async listBuddies(): Promise<BuddyEntry[]> {
    return this.refreshBuddies();
  }

  async requestBuddy(user: string): Promise<'requested' | 'accepted'> {
    const { state } = await this.request('buddy.request', { user });
    if (state === 'accepted') await this.refreshBuddies();
    return state;
  }

  async acceptBuddy(user: string): Promise<{ user: string; publicKey: string }> {
    const accepted = await this.request('buddy.accept', { user });
    this.buddies.set(accepted.user, {
      user: accepted.user,
      state: 'accepted',
      publicKey: accepted.publicKey,
    });
    return accepted;
  }

  async declineBuddy(user: string): Promise<void> {
    await this.request('buddy.decline', { user });
    this.buddies.delete(user);
  }

  async removeBuddy(user: string): Promise<void> {
    await this.request('buddy.remove', { user });
    this.buddies.delete(user);
  }

  /** Blocks `user` (XEP-0191-like): any relation ends, and `user` sees nothing new of us. */
  async blockUser(user: string): Promise<void> {
    await this.request('buddy.block', { user });
    this.buddies.delete(user);
  }

  async unblockUser(user: string): Promise<void> {
    await this.request('buddy.unblock', { user });
  }

  async blockedUsers(): Promise<string[]> {
    return (await this.request('buddy.blocked', {})).users;
  }

  // ---- sessions of this account ----

  async sessions(): Promise<SessionEntry[]> {
    return (await this.request('account.sessions', {})).sessions;
  }

  /** Ends the sessions of `device`, or with 'all' every session but this one; returns how many. */
  async revokeSessions(which: { device: string } | 'all'): Promise<number> {
    const fields = which === 'all' ? { all: true as const } : { device: which.device };
    return (await this.request('account.revoke', fields)).revoked;
  }

  /** Changes the password; every other session is revoked. Returns how many were. */
  async changePassword(password: string, newPassword: string): Promise<number> {
    return (await this.request('account.password', { password, newPassword })).revoked;
  }

  // ---- addresses and judgement ----

  /** S1–S4 (or the variant S201–S207 with judge 'client'): is the buddy behind our NAT? */
  async sameNat(buddy: string, judge: JudgeChoice = 'server'): Promise<boolean> {
    return judge === 'client' ? judgeOnClient(this.ctx, buddy, this.timeouts) : askSameNat(this.ctx, buddy);
  }

  /** S141–S143: the registered address, as the server saw our control connection. */
  async ownAddress(): Promise<Endpoint> {
    return (await this.request('ownAddress', {})).address;
  }

  /** S101–S102: the global address of the peer socket, by STUN through that same socket. */
  async globalAddress(): Promise<Endpoint> {
    return this.global.learn(this.timeouts.stunTimeoutMs, 0);
  }

  /**
   * How our NAT maps and filters the peer socket (RFC 5780 terms, from the server's two STUN
   * ports), whether it hairpins, and the STUN round trip: `buddylink doctor`'s facts.
   */
  async natBehaviour(): Promise<NatBehaviour & { hairpin: boolean | undefined; stunServer: Endpoint }> {
    const stunServer = await this.global.server();
    const nat = await discoverNatBehaviour(this.socket, stunServer, {
      timeoutMs: this.timeouts.stunTimeoutMs,
    });
    // Hairpinning only means something through a NAT: without one the packet never leaves the host.
    const hairpin = nat.behindNat
      ? await this.socket.hairpins(nat.global, Math.max(250, 4 * nat.stunRttMs))
      : undefined;
    return { ...nat, hairpin, stunServer };
  }

  /** The local addresses a same-NAT buddy would be offered (S51). */
  localAddresses(): Endpoint[] {
    return localAddresses(this.socket, this.options.localAddresses, this.options.localInterfaces);
  }

  /** The peer socket's UDP port (STUN, punching and peer streams all use it). */
  get udpPort(): number {
    return this.socket.port;
  }

  // ---- connections ----

  /** Connects to a buddy: judgement, LAN / internet / relay with fall-back, the buddy's key verified. */
  async connect(
    buddy: string,
    options: ConnectOptions & { onAttempt?: (attempt: PathAttempt) => void } = {},
  ): Promise<PeerConnection> {
    if (this.closed) throw new ClientError('ABORTED', 'the client is closed');
    const { signal, unlink } = linkedSignal([options.signal, this.closing.signal]);
    let connection: PeerConnection;
    try {
      connection = await connectToBuddy(this.ctx, buddy, { ...this.timeouts, ...options, signal });
    } catch (error) {
      // The caller's signal aborts with whatever reason it has (an AbortError DOMException, say):
      // the connect always rejects with the typed ABORTED, that reason as its cause.
      if (options.signal?.aborted && !(error instanceof ClientError && error.code === 'ABORTED')) {
        throw new ClientError('ABORTED', 'connect cancelled', { cause: options.signal.reason });
      }
      throw error;
    } finally {
      unlink();
    }
    if (this.closed) {
      connection.destroy();
      throw new ClientError('ABORTED', 'the client is closed');
    }
    return this.adopt(connection, false);
  }

  /** Logs off (optionally revoking the kept token) and closes everything. */
  async logoff(options: { revokeToken?: boolean } = {}): Promise<void> {
    try {
      await this.request('logoff', options.revokeToken ? { revokeToken: true } : {});
    } finally {
      if (options.revokeToken) await this.home.forgetSession();
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    // Pending connects reject with ABORTED: the caller's own close, not a server failure.
    this.closing.abort(new ClientError('ABORTED', 'the client is closed'));
    this.answerer.close();
    this.control.close();
    // Connections already ending get a moment to finish cleanly; the rest are closed now.
    await Promise.all([...this.connections].map((connection) => connection.settle()));
    await this.socket.close();
  }

  // ---- internals ----

  private request<T extends RequestType>(type: T, fields: RequestFields<T>): Promise<Result<T>> {
    return this.control.request(type, fields);
  }

  private adopt(connection: PeerConnection, incoming: boolean): PeerConnection {
    // A peer's reset or the relay's cut must not crash an app that forgot an 'error' listener: the
    // error still reaches listeners, pipelines and `connection.errored` (its `code` says why).
    connection.on('error', () => {});
    this.connections.add(connection);
    connection.once('close', () => this.connections.delete(connection));
    if (!incoming) return connection;
    // A buddy may connect between logon and the caller's `on('connection')`: hold it for them.
    if (this.listenerCount('connection') > 0) this.emit('connection', connection);
    else {
      this.unclaimed.push(connection);
      if (this.unclaimed.length > MAX_UNCLAIMED) this.unclaimed.shift()?.destroy();
    }
    return connection;
  }

  /** A device takes connections when it logged on to listen, or someone listens for 'connection'. */
  private takesConnections(): boolean {
    return this.credentials.listen || this.listenerCount('connection') > 0;
  }

  private deliverUnclaimed(): void {
    while (this.unclaimed.length > 0 && this.listenerCount('connection') > 0) {
      const connection = this.unclaimed.shift();
      if (connection && !connection.destroyed) this.emit('connection', connection);
    }
  }

  private async refreshBuddies(): Promise<BuddyEntry[]> {
    const { buddies } = await this.request('buddy.list', {});
    this.buddies.clear();
    for (const b of buddies) this.buddies.set(b.user, b);
    return buddies;
  }

  private async pinnedKey(buddy: string): Promise<Buffer> {
    let entry = this.buddies.get(buddy);
    if (entry?.state !== 'accepted' || !entry.publicKey) {
      await this.refreshBuddies();
      entry = this.buddies.get(buddy);
    }
    if (entry?.state !== 'accepted' || !entry.publicKey) {
      throw new ProtocolError('NOT_BUDDY', `${buddy} is not an accepted buddy`);
    }
    return Buffer.from(entry.publicKey, 'hex');
  }

  private makeContext(keyPair: KeyPair): PeerContext {
    return {
      user: this.user,
      keyPair,
      socket: this.socket,
      liveness: this.liveness,
      request: (type, fields) => this.request(type, fields),
      pinnedKey: (buddy) => this.pinnedKey(buddy),
      localAddresses: () => this.localAddresses(),
      globalAddresses: (t) => this.global.offer(t.stunTimeoutMs, t.globalAddressTtlMs),
      ownGlobalAddress: (t) => this.global.learn(t.stunTimeoutMs, t.globalAddressTtlMs),
      natClass: () => this.global.natClass(),
      awaitAnswer: (buddy, session, scope, timeoutMs, signal) =>
        this.answers.expect(buddy, session, scope, timeoutMs, signal),
      relayUrl: (path) => new URL(path, this.servers[this.serverIndex] ?? this.serverUrl).toString(),
    };
  }

  private watch(control: ControlChannel): void {
    control.on('event', (event) => this.onEvent(event));
    control.once('close', () => {
      if (this.closed || control !== this.control) return;
      if (this.sessionEnded !== undefined) {
        this.emit('disconnect', { reason: `session ${this.sessionEnded}` });
        return;
      }
      this.emit('disconnect', { reason: 'the server connection closed' });
      this.scheduleReconnect(this.liveness.reconnectBaseMs);
    });
  }

  private onEvent(event: ServerEvent): void {
    switch (event.event) {
      case 'presence': {
        const entry = this.buddies.get(event.user);
        if (entry) entry.online = event.online;
        this.emit('presence', { user: event.user, online: event.online });
        return;
      }
      case 'buddy.request':
        this.buddies.set(event.from, { user: event.from, state: 'incoming' });
        this.emit('buddy.request', { from: event.from });
        return;
      case 'buddy.accepted':
        this.buddies.set(event.user, { user: event.user, state: 'accepted', publicKey: event.publicKey });
        this.emit('buddy.accepted', { user: event.user, publicKey: event.publicKey });
        return;
      case 'buddy.removed':
        this.buddies.delete(event.user);
        this.emit('buddy.removed', { user: event.user });
        return;
      case 'signal': {
        if (event.body.purpose === 'offer') {
          if (this.takesConnections()) this.answerer.onOffer(event.from, event.body);
          else
            this.answerer.decline(
              event.from,
              event.body,
              `${this.user}'s device ${this.device} does not take connections`,
            );
          return;
        }
        // An abort is either the initiator cancelling a path we answer, or the buddy declining our offer.
        if (this.answerer.onAbort(event.from, event.body)) return;
        this.answers.deliver(event.from, event.body);
        return;
      }
      case 'device.logon':
        this.emit('device.logon', { device: event.device });
        return;
      case 'session.ended':
        this.sessionEnded = event.reason;
        this.emit('session.ended', { reason: event.reason });
        return;
      case 'shutdown':
        return;
    }
  }

  /** Back-off reconnect: doubling delays up to the maximum, with the kept token (or the password). */
  private scheduleReconnect(delayMs: number): void {
    if (this.closed) return;
    this.reconnectTimer = setTimeout(async () => {
      try {
        // Another node first, when there are several: the one just lost may be gone for good.
        const { channel: control, index } = await ControlChannel.openAny(
          this.servers,
          this.serverIndex + 1,
          this.timeouts.requestTimeoutMs,
          this.options.controlLocalAddress,
        );
        let logon: Result<'logon'>;
        try {
          logon = await authenticate(control, this.serverUrl, this.home, {
            ...this.credentials,
            token: undefined,
            useKeptToken: true,
          });
        } catch (error) {
          control.close();
          throw error;
        }
        if (this.closed) {
          control.close();
          return;
        }
        this.control = control;
        this.serverIndex = index;
        this.global.useAdvertised(logon.stun);
        this.watch(control);
        await this.refreshBuddies().catch(() => {});
        this.emit('reconnect');
      } catch {
        this.scheduleReconnect(Math.min(delayMs * 2, this.liveness.reconnectMaxMs));
      }
    }, delayMs);
    this.reconnectTimer.unref?.();
  }
}
