import type { Socket } from 'node:net';
import type NoiseSecretStream from '@hyperswarm/secret-stream';
import type { UdxSocket } from 'udx-native';
import type { Endpoint, SignalBody } from '../protocol/index.js';
import { abortable } from './abortable.js';
import { BirthdayPunch } from './birthday/birthday-punch.js';
import { BOTH_HARD_REASON, type PairStrategy, pairStrategy } from './birthday/strategy.js';
import type { PeerContext } from './context.js';
import { ClientError } from './errors.js';
import { Puncher } from './punch.js';
import { secureAndVerify } from './secure-channel.js';
import { dialableOverTcp, dialFirst, TcpAnswerPort } from './transports/tcp.js';

/** Which exchange a direct path uses: local addresses (the LAN path) or global ones (the internet). */
export type DirectScope = 'local' | 'global';

export interface DirectTry {
  ctx: PeerContext;
  buddy: string;
  session: string;
  scope: DirectScope;
  pinnedKey: Buffer;
  /** Our addresses for this scope, already gathered (local: S51, global: S101–S102). */
  addresses: Endpoint[];
  answerTimeoutMs: number;
  intervalMs: number;
  handshakeTimeoutMs: number;
  /** Dialling the answerer's TCP port, when it names one, before falling back to the UDX stream. */
  tcpTimeoutMs?: number;
  signal: AbortSignal;
  /** Punching waits for this (the judgement, the LAN's head start); the exchange does not. */
  beforePunch?: Promise<unknown>;
  /** Told each step as it starts, so a timeout can say where it stopped. */
  onStage?: (stage: string) => void;
}

const DEFAULT_TCP_TIMEOUT_MS = 500;

/**
 * Initiator of a direct path. Offer our addresses and stream id (S51/S103; the offer also asks for
 * the buddy's, S52/S104), take the buddy's answer (S53/S105), then open the session (S54/S106): over
 * TCP to the port the answer names (LAN, public answerer), else (or when TCP fails) punch until one of the
 * buddy's addresses answers and use the UDX stream. Either way the buddy's key is proven by Noise.
 */
export async function offerDirect(t: DirectTry): Promise<NoiseSecretStream> {
  const { ctx, buddy, session, scope } = t;
  const stream = ctx.socket.createStream(() => true);
  const puncher = new Puncher(ctx.socket, session, scope, 'initiator', t.intervalMs);
  const birthday = new BirthdayPunch(ctx.socket, session, 'initiator', ctx.socket.birthday);
  const ours = scope === 'global' ? ctx.natClass?.() : undefined;
  const cleanup = () => {
    puncher.stop();
    birthday.stop();
    if (!stream.connected) stream.destroy();
  };
  t.signal.addEventListener('abort', cleanup, { once: true });
  try {
    puncher.listen();
    t.onStage?.("waiting for the buddy's answer");
    const answered = ctx.awaitAnswer(buddy, session, scope, t.answerTimeoutMs, t.signal);
    answered.catch(() => {});
    await ctx.request('signal', {
      to: buddy,
      body: {
        session,
        purpose: 'offer',
        scope,
        addresses: t.addresses,
        streamId: stream.id,
        ...(ours ? { nat: ours } : {}),
      },
    });
    const answer = await answered;
    if (answer.purpose === 'abort' || answer.streamId === undefined) {
      throw new ClientError('DECLINED', `the buddy declined: ${answer.reason ?? 'no reason given'}`);
    }
    if (answer.addresses.length === 0) throw new ClientError('NO_ADDRESSES', 'the buddy offered no address');
    // Both NATs known before the first punch: both hard → no punching at all (the relay at once).
    const strategy: PairStrategy = scope === 'global' ? pairStrategy(ours, answer.nat) : 'punch';
    if (strategy === 'relay') throw new ClientError('BOTH_HARD', BOTH_HARD_REASON);
    if (t.beforePunch) {
      t.onStage?.('waiting for the LAN try (same-NAT head start)');
      await abortable(t.beforePunch, t.signal);
    }
    t.onStage?.('punching');
    puncher.start(answer.addresses);
    birthday.start(strategy, answer.addresses);
    if (answer.tcpPort !== undefined) {
      // Punching goes on meanwhile, so a path that refuses or drops TCP costs little extra time.
      const secret = await overTcp(t, answer.addresses, answer.tcpPort, puncher.firstAck());
      if (secret) {
        cleanup();
        return secret;
      }
    }
    const found = await abortable(birthday.firstPath(puncher.firstAck()), t.signal);
    puncher.stop();
    birthday.stop(found.via ? { via: found.via, stream } : undefined);
    ctx.socket.connectStream(stream, answer.streamId, found.from, found.via);
    t.onStage?.('proving keys (Noise handshake)');
    return await secureAndVerify(stream, {
      keyPair: ctx.keyPair,
      pinnedKey: t.pinnedKey,
      buddy,
      isInitiator: true,
      timeoutMs: t.handshakeTimeoutMs,
      signal: t.signal,
    });
  } catch (error) {
    cleanup();
    stream.destroy();
    throw error;
  } finally {
    t.signal.removeEventListener('abort', cleanup);
  }
}

/** After UDP answered, how much longer TCP may take before the UDX stream is used instead. */
const TCP_GRACE_AFTER_ACK_MS = 100;

/**
 * The session over TCP: the first answer address that takes a connection, proven by Noise.
 * Undefined when no address took one in time (its own timeout, or a grace after the punch's first
 * ack), so the caller goes on with the UDX stream. The answerer keeps both open until one verifies;
 * we start a handshake on only one of them, so both ends agree on it.
 */
async function overTcp(
  t: DirectTry,
  addresses: Endpoint[],
  tcpPort: number,
  udpAcked: Promise<unknown>,
): Promise<NoiseSecretStream | undefined> {
  t.onStage?.('connecting over TCP');
  const dial = new AbortController();
  const stopDial = () => dial.abort();
  t.signal.addEventListener('abort', stopDial, { once: true });
  let grace: NodeJS.Timeout | undefined;
  void udpAcked.then(() => {
    grace = setTimeout(stopDial, TCP_GRACE_AFTER_ACK_MS);
    grace.unref();
  });
  let socket: Socket;
  try {
    const candidates = addresses.map((a) => ({ host: a.host, port: tcpPort }));
    socket = await dialFirst(candidates, t.tcpTimeoutMs ?? DEFAULT_TCP_TIMEOUT_MS, dial.signal);
  } catch (error) {
    if (t.signal.aborted) throw error;
    return undefined;
  } finally {
    clearTimeout(grace);
    t.signal.removeEventListener('abort', stopDial);
  }
  t.onStage?.('proving keys over TCP (Noise handshake)');
  return secureAndVerify(socket, {
    keyPair: t.ctx.keyPair,
    pinnedKey: t.pinnedKey,
    buddy: t.buddy,
    isInitiator: true,
    timeoutMs: t.handshakeTimeoutMs,
    signal: t.signal,
  });
}

export interface DirectAnswer {
  ctx: PeerContext;
  from: string;
  offer: SignalBody & { scope: DirectScope };
  pinnedKey: Buffer;
  addresses: Endpoint[];
  intervalMs: number;
  timeoutMs: number;
  /** Aborted when the initiator cancels this path: punching stops and the answer fails at once. */
  signal?: AbortSignal;
}

/**
 * Answering side of a direct path: answer at once with our own addresses and stream id (the seed's
 * shortcut for S72–S73 / S122–S123, one round trip through the server), punch towards the
 * offerer, and accept the peer stream only from an address that probed for this session. Where TCP
 * can reach us (the LAN, a public address) the answer also names a TCP port of ours for this
 * session; the first of TCP and UDX whose handshake proves the offerer's key is the path.
 */
export async function answerDirect(a: DirectAnswer): Promise<NoiseSecretStream> {
  const { ctx, from, offer } = a;
  const remoteId = offer.streamId;
  if (remoteId === undefined) throw new ClientError('BAD_OFFER', 'offer without a stream id');
  const puncher = new Puncher(ctx.socket, offer.session, offer.scope, 'answerer', a.intervalMs);
  const birthday = new BirthdayPunch(ctx.socket, offer.session, 'answerer', ctx.socket.birthday);
  const ours = offer.scope === 'global' ? ctx.natClass?.() : undefined;
  const strategy: PairStrategy = offer.scope === 'global' ? pairStrategy(ours, offer.nat) : 'punch';
  let connected = false;
  let connectedVia: UdxSocket | undefined;
  const stream = ctx.socket.createStream((port, host, via) => {
    if (connected) return true;
    // A side socket of a birthday punch that heard this source, or the main puncher that did.
    const side = birthday.heardOn({ host, port });
    if (side !== via && !puncher.hasHeard({ host, port })) return true;
    connected = true;
    connectedVia = side === via ? side : undefined;
    ctx.socket.connectStream(stream, remoteId, { host, port }, connectedVia);
    return false;
  });
  const stopAt = setTimeout(() => {
    puncher.stop();
    birthday.stop(connectedVia ? { via: connectedVia, stream } : undefined);
  }, a.timeoutMs);
  stopAt.unref();
  const onAbort = () => {
    puncher.stop();
    birthday.stop();
    stream.destroy();
  };
  a.signal?.addEventListener('abort', onAbort, { once: true });
  let tcp: TcpAnswerPort | undefined;
  try {
    if (a.signal?.aborted) throw new ClientError('ABORTED', 'the initiator cancelled this path');
    if (strategy === 'relay') {
      // Both NATs hard: say so instead of punching in vain; the initiator goes to the relay at once.
      await ctx.request('signal', {
        to: from,
        body: {
          session: offer.session,
          purpose: 'abort',
          scope: offer.scope,
          addresses: [],
          reason: BOTH_HARD_REASON,
          ...(ours ? { nat: ours } : {}),
        },
      });
      throw new ClientError('BOTH_HARD', BOTH_HARD_REASON);
    }
    if (ctx.socket.tcpAnswers && dialableOverTcp(offer.scope, a.addresses, ctx.socket.interfaces())) {
      tcp = await TcpAnswerPort.open(ctx.socket.address.host).catch(() => undefined);
    }
    // Punch while the answer travels: the offerer starts as soon as it has it (S106/S124).
    puncher.start(offer.addresses);
    birthday.start(strategy, offer.addresses);
    birthday.stopProbesOn(puncher.firstAck());
    await ctx.request('signal', {
      to: from,
      body: {
        session: offer.session,
        purpose: 'answer',
        scope: offer.scope,
        addresses: a.addresses,
        streamId: stream.id,
        ...(tcp ? { tcpPort: tcp.port } : {}),
        ...(ours ? { nat: ours } : {}),
      },
    });
    const verify = (raw: Socket | typeof stream) =>
      secureAndVerify(raw, {
        keyPair: ctx.keyPair,
        pinnedKey: a.pinnedKey,
        buddy: from,
        isInitiator: false,
        timeoutMs: a.timeoutMs,
        ...(a.signal ? { signal: a.signal } : {}),
      });
    const overUdx = verify(stream);
    if (!tcp) return await overUdx;
    const overTcp = tcp.firstVerified(verify, a.timeoutMs);
    overTcp.catch(() => {});
    // Whichever proves the key first; a failure of one leaves the other to decide.
    const secret = await Promise.race([overTcp.catch(() => overUdx), overUdx.catch(() => overTcp)]);
    if (secret.rawStream === stream) tcp.close();
    else stream.destroy();
    return secret;
  } catch (error) {
    stream.destroy();
    throw error;
  } finally {
    tcp?.close();
    a.signal?.removeEventListener('abort', onAbort);
    clearTimeout(stopAt);
    puncher.stop();
    birthday.stop(connectedVia ? { via: connectedVia, stream } : undefined);
  }
}
