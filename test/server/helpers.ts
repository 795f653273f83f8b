import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import type { ServerOptions } from '../../src/server/config.js';
import { type RunningServer, startServer } from '../../src/server/index.js';

/** Options every test server starts with: loopback, free ports, in-memory store, no logs. */
export const TEST_SERVER_OPTIONS: Partial<ServerOptions> = {
  host: '127.0.0.1',
  port: 0,
  stunPort: 0,
  httpPort: 0,
  dataDir: null,
  logLevel: 'silent',
};

export function startTestServer(options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  return startServer({ ...TEST_SERVER_OPTIONS, ...options });
}

export const TEST_PASSWORD = 'correct horse battery';

/** A fresh Ed25519-shaped public key (hex); the server only stores and passes it on. */
export function randomPublicKey(): string {
  return randomBytes(32).toString('hex');
}

/** A fresh session id for signal and relay tests. */
export function randomSessionId(): string {
  return randomBytes(16).toString('hex');
}

export interface WireReply {
  v: number;
  id: number | null;
  ok: boolean;
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
}

export interface WireEvent {
  v: number;
  event: string;
  [field: string]: unknown;
}

export interface ConnectOptions {
  /** Source address of the client socket (127.x.y.z routes to loopback on Linux). */
  localAddress?: string;
  headers?: Record<string, string>;
}

const WAIT_MS = 3000;

/** A real WebSocket client of the control channel that records everything the server sent it. */
export class TestClient {
  /** Every text frame received, raw, in order: for "learns nothing" assertions. */
  readonly frames: string[] = [];
  readonly events: WireEvent[] = [];
  /** Replies whose id was null (the request had no readable id). */
  readonly orphanReplies: WireReply[] = [];
  closeCode: number | undefined;
  readonly closed: Promise<number>;
  #nextId = 1;
  readonly #waiting = new Map<number, (reply: WireReply) => void>();
  readonly #eventWaiters = new Set<() => void>();

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      this.frames.push(text);
      const msg = JSON.parse(text) as WireReply & WireEvent;
      if (typeof msg.event === 'string') {
        this.events.push(msg);
        for (const wake of this.#eventWaiters) wake();
      } else if (msg.id === null) this.orphanReplies.push(msg);
      else this.#waiting.get(msg.id)?.(msg);
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
    socket.on('error', () => {});
  }

  static connect(url: string, options: ConnectOptions = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { localAddress: options.localAddress, headers: options.headers });
      socket.once('open', () => resolve(new TestClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends a request and resolves with the reply, whatever it says. */
  request(type: string, fields: Record<string, unknown> = {}): Promise<WireReply> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${type} #${id}`)), WAIT_MS);
      this.#waiting.set(id, (reply) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        resolve(reply);
      });
      this.socket.send(JSON.stringify({ v: 1, id, type, ...fields }));
    });
  }

  /** Sends a request that must succeed; resolves with its result. */
  async ok(type: string, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const reply = await this.request(type, fields);
    if (!reply.ok) throw new Error(`${type} failed: ${reply.error?.code} ${reply.error?.message}`);
    return reply.result ?? {};
  }

  /** Sends a request that must fail; resolves with its error code. */
  async failure(type: string, fields: Record<string, unknown> = {}): Promise<string> {
    const reply = await this.request(type, fields);
    if (reply.ok) throw new Error(`${type} unexpectedly succeeded: ${JSON.stringify(reply.result)}`);
    return reply.error?.code ?? '';
  }

  /** Resolves with the first event (already received or still to come) that matches. */
  waitForEvent(match: (e: WireEvent) => boolean, timeoutMs = WAIT_MS): Promise<WireEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.events.find(match);
        if (!found) return false;
        clearTimeout(timer);
        this.#eventWaiters.delete(wake);
        resolve(found);
        return true;
      };
      const wake = () => void check();
      const timer = setTimeout(() => {
        this.#eventWaiters.delete(wake);
        reject(new Error('event did not arrive'));
      }, timeoutMs);
      if (!check()) this.#eventWaiters.add(wake);
    });
  }

  /** Lets frames in flight arrive: a ping's reply comes after everything the server sent before it. */
  async settle(): Promise<void> {
    await this.ok('ping');
  }

  close(): Promise<number> {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close();
    return this.closed;
  }
}

export interface TestUser {
  client: TestClient;
  user: string;
  publicKey: string;
  token: string;
  device: string;
}

/** Creates an account on a new connection (which is then logged on as its first device). */
/** What the helpers need of a server: its URLs (a RunningServer, or a subprocess's listening line). */
export type ServerUrls = { urls: { ws: string } };

export async function createUser(
  server: ServerUrls,
  user: string,
  options: ConnectOptions & { device?: string; listen?: boolean } = {},
): Promise<TestUser> {
  const client = await TestClient.connect(server.urls.ws, options);
  const publicKey = randomPublicKey();
  const result = await client.ok('account.create', {
    user,
    password: TEST_PASSWORD,
    publicKey,
    ...(options.device ? { device: options.device } : {}),
    ...(options.listen !== undefined ? { listen: options.listen } : {}),
  });
  return { client, user, publicKey, token: String(result.token), device: String(result.device) };
}

/** Logs an existing user on from one more connection (another device). */
export async function logOnDevice(
  server: ServerUrls,
  user: string,
  options: ConnectOptions & { device?: string; listen?: boolean } = {},
): Promise<TestClient> {
  const client = await TestClient.connect(server.urls.ws, options);
  await client.ok('logon', {
    user,
    password: TEST_PASSWORD,
    ...(options.device ? { device: options.device } : {}),
    ...(options.listen !== undefined ? { listen: options.listen } : {}),
  });
  return client;
}

/** Mutual consent: a requests, b accepts. */
export async function makeBuddies(a: TestUser, b: TestUser): Promise<void> {
  await a.client.ok('buddy.request', { user: b.user });
  await b.client.ok('buddy.accept', { user: a.user });
}

/** Runs `body` with a server and always closes it. */
export async function withServer(
  options: Partial<ServerOptions>,
  body: (server: RunningServer) => Promise<void>,
): Promise<void> {
  const server = await startTestServer(options);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}
