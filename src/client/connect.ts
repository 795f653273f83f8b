import { randomBytes } from 'node:crypto';
import type NoiseSecretStream from '@hyperswarm/secret-stream';
import { ProtocolError } from '../protocol/index.js';
import { AttemptClock, type PathAttempt } from './attempts.js';
import type { PeerContext } from './context.js';
import { type DirectScope, offerDirect } from './direct-path.js';
import { DisconnectedError, NoPathError, reasonOf } from './errors.js';
import { askSameNat, judgeOnClient } from './judge.js';
import { type ConnectOptions, DEFAULT_TIMEOUTS, type PathName, type Timeouts } from './options.js';
import { PeerConnection } from './peer-connection.js';
import { openRelay } from './relay-path.js';
import { CHOSEN_MARKER } from './secure-channel.js';

/** Errors that no other path can cure: stop at once and tell the caller. */
function isFatal(error: unknown): boolean {
  if (error instanceof DisconnectedError) return true;
  return (
    error instanceof ProtocolError &&
    ['NOT_BUDDY', 'BUDDY_OFFLINE', 'NOT_LOGGED_ON', 'SHUTTING_DOWN'].includes(error.code)
  );
}

interface Winner {
  path: PathName;
  secret: NoiseSecretStream;
}

interface Story {
  ctx: PeerContext;
  buddy: string;
  session: string;
  pinnedKey: Buffer;
  timeouts: Timeouts;
  attempts: PathAttempt[];
  onAttempt: ((attempt: PathAttempt) => void) | undefined;
}

const SCOPE_OF: Record<'lan' | 'internet', DirectScope> = { lan: 'local', internet: 'global' };

/**
 * The whole connect, read top to bottom (SPEC §3.2–3.4, §4.1):
 *  1. S1–S4 judge: same NAT or not (the server's one bit, or the variant S201–S207). Only the LAN
 *     try waits for it: global addresses may go to any accepted buddy setting up a session (§4.4),
 *     so the global exchange (S101–S105) starts at once, its punching held back meanwhile.
 *  2. Same NAT → the LAN path (S51–S54); the internet punching starts after the LAN's head start.
 *     Different → the internet path only (S106): local addresses never leave (§4.4).
 *  3. The first path whose peer proves the pinned key wins; the others are cancelled.
 *  4. No direct path → the relay (§4.3): when the direct tries have failed, or are still trying
 *     after the relay's own head start (a symmetric NAT makes punching wait out its timeout).
 * Every try lands in `attempts` with its time and, if it failed, why.
 */
export async function connectToBuddy(
  ctx: PeerContext,
  buddy: string,
  options: ConnectOptions & { onAttempt?: (attempt: PathAttempt) => void } = {},
): Promise<PeerConnection> {
  const started = performance.now();
  const timeouts = { ...DEFAULT_TIMEOUTS, ...definedOnly(options) };
  const choice = options.path ?? 'auto';
  const story: Story = {
    ctx,
    buddy,
    session: randomBytes(16).toString('hex'),
    pinnedKey: await ctx.pinnedKey(buddy),
    timeouts,
    attempts: [],
    onAttempt: options.onAttempt,
  };

  const judged: Promise<boolean> =
    choice !== 'auto' && choice !== 'lan'
      ? Promise.resolve(false)
      : options.judge === 'client'
        ? judgeOnClient(ctx, buddy, timeouts, options.prefix)
        : askSameNat(ctx, buddy);
  judged.catch(() => {});

  const winner = await racePaths(story, judged, {
    lan: choice === 'auto' || choice === 'lan',
    internet: choice === 'auto' || choice === 'internet',
    relay: choice === 'auto' || choice === 'relay',
  });
  if (!winner) throw new NoPathError(buddy, story.attempts);

  winner.secret.write(Buffer.from([CHOSEN_MARKER]));
  return new PeerConnection(tune(winner.secret, ctx), {
    path: winner.path,
    remoteUser: buddy,
    remoteKey: story.pinnedKey.toString('hex'),
    attempts: story.attempts,
    connectMs: Math.round(performance.now() - started),
    initiator: true,
  });
}

/** Peer keep-alives hold NAT mappings open; the idle timeout notices a vanished peer. */
export function tune(secret: NoiseSecretStream, ctx: PeerContext): NoiseSecretStream {
  secret.setKeepAlive(ctx.liveness.peerKeepAliveMs);
  secret.setTimeout(ctx.liveness.peerIdleTimeoutMs);
  return secret;
}

function definedOnly(options: object): Partial<Timeouts> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(DEFAULT_TIMEOUTS)) {
    const value = (options as Record<string, unknown>)[name];
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) out[name] = value;
  }
  return out as Partial<Timeouts>;
}

/**
 * Steps 1–4: the LAN try once judged same NAT, with a head start; the internet exchange from the
 * start, punching once the judgement says "different" or the head start is over; the relay when the
 * direct tries are over or still running after its head start; first verified wins.
 */
async function racePaths(
  story: Story,
  judged: Promise<boolean>,
  plan: { lan: boolean; internet: boolean; relay: boolean },
): Promise<Winner | undefined> {
  const controllers: AbortController[] = [];
  let won: Winner | undefined;
  let fatal: unknown;
  // Read through functions: the closures below run across awaits, so narrowing must not stick.
  const winner = (): Winner | undefined => won;
  const failedFatally = (): boolean => fatal !== undefined;
  const stopAll = (error: unknown) => {
    fatal ??= error;
    for (const c of controllers) c.abort();
  };

  const run = async (path: 'lan' | 'internet', timeoutMs: number, beforePunch?: Promise<unknown>) => {
    if (winner() || failedFatally()) return;
    const clock = new AttemptClock(path, story.attempts, story.onAttempt);
    const controller = new AbortController();
    controllers.push(controller);
    let stage = 'gathering addresses';
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const scope = SCOPE_OF[path];
      const { ctx, timeouts } = story;
      // S51 (local) or S101–S102 (global: STUN through the peer socket).
      const addresses = scope === 'local' ? ctx.localAddresses() : await ctx.globalAddresses(timeouts);
      const secret = await offerDirect({
        ctx,
        buddy: story.buddy,
        session: story.session,
        scope,
        pinnedKey: story.pinnedKey,
        addresses,
        answerTimeoutMs: timeouts.answerTimeoutMs,
        intervalMs: timeouts.punchIntervalMs,
        handshakeTimeoutMs: timeoutMs,
        signal: controller.signal,
        ...(beforePunch ? { beforePunch } : {}),
        onStage: (s) => {
          stage = s;
        },
      });
      const earlier = winner();
      if (earlier) {
        secret.destroy();
        clock.finish(false, `superseded by ${earlier.path}`);
        return;
      }
      won = { path, secret };
      clock.finish(true);
      for (const c of controllers) if (c !== controller) c.abort();
    } catch (error) {
      if (isFatal(error)) stopAll(error);
      // Offline, not a buddy, judgement refused: no path failed, the whole connect did.
      if (failedFatally()) return;
      const earlier = winner();
      const reason = earlier
        ? `superseded by ${earlier.path}`
        : controller.signal.aborted
          ? `timed out after ${timeoutMs} ms while ${stage}`
          : reasonOf(error);
      clock.finish(false, reason);
    } finally {
      clearTimeout(timer);
    }
  };

  const { timeouts } = story;
  const judgement = judged.then(
    (same) => same,
    (error: unknown) => {
      stopAll(error);
      return undefined;
    },
  );
  const lan = plan.lan
    ? judgement.then(async (same) => {
        if (same) return run('lan', timeouts.lanTimeoutMs);
        if (same === false && !plan.internet) {
          new AttemptClock('lan', story.attempts, story.onAttempt).finish(
            false,
            'judged a different NAT: local addresses are not sent (S3, §4.4)',
          );
        }
      })
    : Promise.resolve();
  const punchGate = plan.lan
    ? judgement.then((same) => {
        if (same === undefined) throw fatal;
        return same ? Promise.race([lan, delay(timeouts.lanHeadStartMs)]) : undefined;
      })
    : Promise.resolve();
  punchGate.catch(() => {});
  const internet = plan.internet ? run('internet', timeouts.internetTimeoutMs, punchGate) : Promise.resolve();
  const direct = Promise.all([lan, internet]);
  const relay = plan.relay
    ? Promise.race([direct, delay(plan.lan || plan.internet ? timeouts.relayHeadStartMs : 0)]).then(
        async () => {
          if (winner() || failedFatally()) return;
          const controller = new AbortController();
          controllers.push(controller);
          const secret = await tryRelay(story, controller.signal, winner);
          if (!secret) return;
          const earlier = winner();
          if (earlier) {
            secret.destroy();
            return;
          }
          won = { path: 'relay', secret };
          for (const c of controllers) if (c !== controller) c.abort();
        },
        () => {},
      )
    : Promise.resolve();
  await Promise.all([direct, relay.catch((error: unknown) => stopAll(error))]);
  if (!won && fatal) throw fatal;
  return won;
}

/** Step 4: the relay of last resort (§4.3); cancelled when a direct path wins first. */
async function tryRelay(
  story: Story,
  signal: AbortSignal,
  winner: () => Winner | undefined,
): Promise<NoiseSecretStream | undefined> {
  const clock = new AttemptClock('relay', story.attempts, story.onAttempt);
  try {
    const secret = await openRelay({
      ctx: story.ctx,
      buddy: story.buddy,
      session: story.session,
      pinnedKey: story.pinnedKey,
      isInitiator: true,
      timeoutMs: story.timeouts.relayTimeoutMs,
      signal,
    });
    const earlier = winner();
    clock.finish(!earlier, earlier ? `superseded by ${earlier.path}` : undefined);
    return secret;
  } catch (error) {
    if (isFatal(error)) throw error;
    const forbidden = error instanceof ProtocolError && error.code === 'FORBIDDEN';
    const earlier = winner();
    clock.finish(
      false,
      earlier
        ? `superseded by ${earlier.path}`
        : forbidden
          ? 'the server has the relay switched off'
          : reasonOf(error),
    );
    return undefined;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
