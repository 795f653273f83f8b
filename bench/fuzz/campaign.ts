import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { WebSocket } from 'ws';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { createBindingRequest } from '../../src/stun/index.js';
import { controlFrame, Rng, stunDatagram } from './generate.js';

/**
 * A generative fuzz campaign against a real server on loopback (issue 14): mutated control frames over
 * WebSockets logged on as a buddy of the victim, and mutated STUN datagrams, while the victim (alice,
 * with her buddy bob) keeps asking sameNat and STUN and must be served throughout. Counts what the
 * server processed, every close code, and INTERNAL errors (a handler that threw something untyped).
 */
export interface FuzzConfig {
  seconds: number;
  seed: number;
  /** Fuzzing WebSockets at once, and frames in flight on each. */
  connections: number;
  window: number;
  /** STUN datagrams sent per event-loop turn. */
  stunBatch: number;
}

export interface FuzzResult {
  seed: number;
  seconds: number;
  /** Control frames the server answered (every frame gets exactly one reply while the socket lives). */
  wsAnswered: number;
  wsSent: number;
  /** STUN datagrams the server read (answered, dropped or limited), from its own metrics. */
  stunProcessed: number;
  stunSent: number;
  /** Replies by error code (and 'ok'), so coverage of the handlers can be seen. */
  outcomes: Record<string, number>;
  closes: Record<string, number>;
  internalErrors: number;
  victim: { checks: number; failures: number; maxMs: number; stunChecks: number; stunFailures: number };
}

const PASSWORD = 'correct horse battery';

class Wire {
  #id = 1;
  readonly #waiting = new Map<number, (reply: { ok: boolean; result?: Record<string, unknown> }) => void>();
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { id?: number; ok: boolean };
      if (typeof msg.id === 'number') this.#waiting.get(msg.id)?.(msg);
    });
    socket.on('error', () => {});
  }
  static open(url: string): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.once('open', () => resolve(new Wire(socket)));
      socket.once('error', reject);
    });
  }
  request(
    type: string,
    fields: Record<string, unknown> = {},
  ): Promise<{ ok: boolean; result?: Record<string, unknown> }> {
    const id = this.#id++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${type}`)), 5000);
      this.#waiting.set(id, (reply) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        resolve(reply);
      });
      this.socket.send(JSON.stringify({ v: 1, id, type, ...fields }));
    });
  }
}

async function account(url: string, user: string): Promise<{ wire: Wire; token: string }> {
  const wire = await Wire.open(url);
  const reply = await wire.request('account.create', {
    user,
    password: PASSWORD,
    publicKey: randomBytes(32).toString('hex'),
  });
  if (!reply.ok) throw new Error(`could not create ${user}`);
  return { wire, token: String(reply.result?.token) };
}

async function befriend(a: { wire: Wire }, b: { wire: Wire }, aUser: string, bUser: string): Promise<void> {
  await a.wire.request('buddy.request', { user: bUser });
  const accepted = await b.wire.request('buddy.accept', { user: aUser });
  if (!accepted.ok) throw new Error(`${bUser} could not accept ${aUser}`);
}

export async function runFuzz(config: FuzzConfig): Promise<FuzzResult> {
  const server: RunningServer = await startServer({
    host: '127.0.0.1',
    port: 0,
    stunPort: 0,
    httpPort: 0,
    dataDir: null,
    logLevel: 'silent',
    // The fuzzer must reach the handlers, not the per-connection limits (those are tested on their own).
    messagesPerSecond: 10_000_000,
    messageBurst: 10_000_000,
    abuseStrikes: 1_000_000_000,
    maxPending: 100_000,
  });
  const rng = new Rng(config.seed);
  const outcomes: Record<string, number> = {};
  const closes: Record<string, number> = {};
  const victim = { checks: 0, failures: 0, maxMs: 0, stunChecks: 0, stunFailures: 0 };
  let wsSent = 0;
  let wsAnswered = 0;
  let stunSent = 0;
  let running = true;
  const sockets: UdpSocket[] = [];
  try {
    const alice = await account(server.urls.ws, 'alice');
    const bob = await account(server.urls.ws, 'bob');
    const mallory = await account(server.urls.ws, 'mallory');
    await befriend(alice, bob, 'alice', 'bob');
    await befriend(mallory, alice, 'mallory', 'alice');
    mallory.wire.socket.close();

    // The victim: a sameNat round trip and a STUN round trip every 100 ms, each bounded in time.
    const stunProbe = createSocket('udp4');
    sockets.push(stunProbe);
    await new Promise<void>((r) => stunProbe.bind({ address: '127.0.0.3', port: 0 }, r));
    let stunAnswered = 0;
    stunProbe.on('message', () => stunAnswered++);
    const victimLoop = (async () => {
      while (running) {
        const t0 = performance.now();
        try {
          const reply = await alice.wire.request('sameNat', { buddy: 'bob' });
          if (!reply.ok || reply.result?.same !== true) victim.failures++;
        } catch {
          victim.failures++;
        }
        victim.maxMs = Math.max(victim.maxMs, performance.now() - t0);
        victim.checks++;
        // Like a real STUN client, the victim retransmits (RFC 8489 §6.2.1), here every 30 ms, 3 times.
        const before = stunAnswered;
        for (let i = 0; i < 3 && stunAnswered === before; i++) {
          stunProbe.send(createBindingRequest().packet, server.stun.port, '127.0.0.1');
          await new Promise((r) => setTimeout(r, 30));
        }
        victim.stunChecks++;
        if (stunAnswered === before) victim.stunFailures++;
      }
    })();

    // Fuzzing control connections: logged on as mallory (a buddy of alice) when they can be.
    const pump = async (): Promise<void> => {
      while (running) {
        // From a source that is not exempt: its password guesses and account creations are throttled
        // (each costs a scrypt), as an attacker's would be.
        const socket = new WebSocket(server.urls.ws, { localAddress: '127.0.0.2' });
        socket.on('error', () => {});
        const opened = await new Promise<boolean>((r) => {
          socket.once('open', () => r(true));
          socket.once('error', () => r(false));
        });
        if (!opened) continue;
        let inFlight = 0;
        // After a fuzzed logoff most frames only meet NOT_LOGGED_ON: start over logged on.
        let loggedOff = 0;
        let triedPassword = false;
        let wake: (() => void) | undefined;
        socket.on('message', (data) => {
          const text = data.toString();
          if (text.startsWith('{"v":1,"event"')) return;
          if (text.startsWith('{"v":1,"id":0,')) {
            // Our own logon: keep a fresh token; a revoked one (a fuzzed revoke or logoff) → the password.
            const token = /"token":"([A-Za-z0-9_-]{43})"/.exec(text)?.[1];
            if (token) mallory.token = token;
            else if (!triedPassword) {
              triedPassword = true;
              socket.send(
                JSON.stringify({ v: 1, id: 0, type: 'logon', user: 'mallory', password: PASSWORD }),
              );
              inFlight++;
              wsSent++;
            }
          }
          wsAnswered++;
          inFlight--;
          const code = /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? (text.includes('"ok":true') ? 'ok' : 'other');
          outcomes[code] = (outcomes[code] ?? 0) + 1;
          if (code === 'NOT_LOGGED_ON') loggedOff++;
          wake?.();
        });
        const closed = new Promise<void>((r) =>
          socket.once('close', (code) => {
            closes[code] = (closes[code] ?? 0) + 1;
            r();
            wake?.();
          }),
        );
        socket.send(JSON.stringify({ v: 1, id: 0, type: 'logon', user: 'mallory', token: mallory.token }));
        inFlight++;
        wsSent++;
        // A connection lives for a bounded number of frames, then a fresh one logs on again.
        for (let n = 0; n < 50_000 && loggedOff < 50 && running && socket.readyState === WebSocket.OPEN; ) {
          while (inFlight < config.window && n < 50_000) {
            socket.send(controlFrame(rng));
            inFlight++;
            wsSent++;
            n++;
          }
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, 2000).unref();
          });
          wake = undefined;
        }
        socket.close();
        await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
      }
    };

    // STUN datagrams from one socket, a batch per turn of the event loop.
    const stunFuzzer = createSocket('udp4');
    sockets.push(stunFuzzer);
    await new Promise<void>((r) => stunFuzzer.bind({ address: '127.0.0.1', port: 0 }, r));
    stunFuzzer.on('message', () => {});
    const stunLoop = (async () => {
      while (running) {
        for (let i = 0; i < config.stunBatch; i++) {
          stunFuzzer.send(stunDatagram(rng), server.stun.port, '127.0.0.1');
          stunSent++;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();

    const pumps = Array.from({ length: config.connections }, () => pump());
    await new Promise((r) => setTimeout(r, config.seconds * 1000));
    running = false;
    await Promise.all([victimLoop, stunLoop, ...pumps]);

    const metrics = await (await fetch(`${server.urls.http}/metrics`)).text();
    const sum = (pattern: RegExp) =>
      [...metrics.matchAll(pattern)].reduce((n, m) => n + Number(m[1] ?? 0), 0);
    const stunProcessed = sum(/^buddylink_stun_requests_total\{[^}]*\} (\d+)/gm);
    const internalErrors = sum(/^buddylink_errors_total\{code="INTERNAL"\} (\d+)/gm);
    alice.wire.socket.close();
    bob.wire.socket.close();
    return {
      seed: config.seed,
      seconds: config.seconds,
      wsAnswered,
      wsSent,
      stunProcessed,
      stunSent,
      outcomes,
      closes,
      internalErrors,
      victim,
    };
  } finally {
    running = false;
    for (const s of sockets) s.close();
    await server.close();
  }
}
