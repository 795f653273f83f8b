import type NoiseSecretStream from '@hyperswarm/secret-stream';
import type { Endpoint, SignalBody } from '../protocol/index.js';
import type { PeerContext } from './context.js';
import { ClientError } from './errors.js';
import { Puncher } from './punch.js';
import { secureAndVerify } from './secure-channel.js';

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
  signal: AbortSignal;
  /** Punching waits for this (the judgement, the LAN's head start); the exchange does not. */
  beforePunch?: Promise<unknown>;
  /** Told each step as it starts, so a timeout can say where it stopped. */
  onStage?: (stage: string) => void;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new ClientError('ABORTED', 'attempt cancelled'));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new ClientError('ABORTED', 'attempt cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Initiator of a direct path. Offer our addresses and stream id (S51/S103; the offer also asks for
 * the buddy's, S52/S104), take the buddy's answer (S53/S105), punch until one of its addresses
 * answers (S54/S106), then prove the buddy's key over the UDX stream.
 */
export async function offerDirect(t: DirectTry): Promise<NoiseSecretStream> {
  const { ctx, buddy, session, scope } = t;
  const stream = ctx.socket.createStream(() => true);
  const puncher = new Puncher(ctx.socket, session, scope, 'initiator', t.intervalMs);
  const cleanup = () => {
    puncher.stop();
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
      body: { session, purpose: 'offer', scope, addresses: t.addresses, streamId: stream.id },
    });
    const answer = await answered;
    if (answer.purpose === 'abort' || answer.streamId === undefined) {
      throw new ClientError('DECLINED', `the buddy declined: ${answer.reason ?? 'no reason given'}`);
    }
    if (answer.addresses.length === 0) throw new ClientError('NO_ADDRESSES', 'the buddy offered no address');
    if (t.beforePunch) {
      t.onStage?.('waiting for the LAN try (same-NAT head start)');
      await abortable(t.beforePunch, t.signal);
    }
    t.onStage?.('punching');
    puncher.start(answer.addresses);
    const via = await abortable(puncher.firstAck(), t.signal);
    puncher.stop();
    ctx.socket.connectStream(stream, answer.streamId, via);
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
 * offerer, and accept the peer stream only from an address that probed for this session.
 */
export async function answerDirect(a: DirectAnswer): Promise<NoiseSecretStream> {
  const { ctx, from, offer } = a;
  const remoteId = offer.streamId;
  if (remoteId === undefined) throw new ClientError('BAD_OFFER', 'offer without a stream id');
  const puncher = new Puncher(ctx.socket, offer.session, offer.scope, 'answerer', a.intervalMs);
  let connected = false;
  const stream = ctx.socket.createStream((port, host) => {
    if (connected || !puncher.hasHeard({ host, port })) return true;
    connected = true;
    ctx.socket.connectStream(stream, remoteId, { host, port });
    return false;
  });
  const stopAt = setTimeout(() => puncher.stop(), a.timeoutMs);
  stopAt.unref();
  const onAbort = () => {
    puncher.stop();
    stream.destroy();
  };
  a.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (a.signal?.aborted) throw new ClientError('ABORTED', 'the initiator cancelled this path');
    // Punch while the answer travels: the offerer starts as soon as it has it (S106/S124).
    puncher.start(offer.addresses);
    await ctx.request('signal', {
      to: from,
      body: {
        session: offer.session,
        purpose: 'answer',
        scope: offer.scope,
        addresses: a.addresses,
        streamId: stream.id,
      },
    });
    return await secureAndVerify(stream, {
      keyPair: ctx.keyPair,
      pinnedKey: a.pinnedKey,
      buddy: from,
      isInitiator: false,
      timeoutMs: a.timeoutMs,
      ...(a.signal ? { signal: a.signal } : {}),
    });
  } catch (error) {
    stream.destroy();
    throw error;
  } finally {
    a.signal?.removeEventListener('abort', onAbort);
    clearTimeout(stopAt);
    puncher.stop();
  }
}
