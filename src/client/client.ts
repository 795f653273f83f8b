import { EventEmitter } from 'node:events';
import type { KeyPair } from '@hyperswarm/secret-stream';
import {
  type BuddyEntry,
  type Endpoint,
  ProtocolError,
  type RequestType,
  type Result,
  type ServerEvent,
  type SignalBody,
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
import { DisconnectedError } from './errors.js';
import { GlobalAddress } from './global-address.js';
import { defaultHome, Home } from './home.js';
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
  /** The home directory holding this client's key pair and session token. */
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
  /** Several nodes (`server` a comma-separated list): the one this client is logged on to. */
  private readonly servers: string[];
  private serverIndex = 0;

  private constructor(
    private readonly serverUrl: string,
    private readonly home: Home,
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
    this.homeDir = home.dir;
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
      home: Home,
      credentials: Credentials,
      keyPair: KeyPair,
    ) => Promise<Result<'logon'>>,
  ): Promise<Client> {
    const serverUrl = normaliseServerUrl(options.server);
    const home = new Home(options.home ?? defaultHome());
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
    return localAddresses(this.socket, this.options.localAddresses);
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
    if (this.closed) throw new DisconnectedError('the client is closed');
    const { signal, unlink } = linkedSignal([options.signal, this.closing.signal]);
    let connection: PeerConnection;
    try {
      connection = await connectToBuddy(this.ctx, buddy, { ...this.timeouts, ...options, signal });
    } finally {
      unlink();
    }
    if (this.closed) {
      connection.destroy();
      throw new DisconnectedError('the client is closed');
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
    this.closing.abort(new DisconnectedError('the client is closed'));
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

  /** Tells the initiator at once that this device will not answer, rather than let it time out. */
  private decline(from: string, offer: SignalBody): void {
    const body: SignalBody = {
      session: offer.session,
      purpose: 'abort',
      scope: offer.scope,
      addresses: [],
      reason: `${this.user}'s device ${this.device} does not take connections`,
    };
    this.request('signal', { to: from, body }).catch(() => {});
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
          else this.decline(event.from, event.body);
          return;
        }
        // An abort is either the initiator cancelling a path we answer, or the buddy declining our offer.
        if (this.answerer.onAbort(event.from, event.body)) return;
        this.answers.deliver(event.from, event.body);
        return;
      }
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
