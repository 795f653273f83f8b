import { randomBytes } from 'node:crypto';
import type NoiseSecretStream from '@hyperswarm/secret-stream';
import { ProtocolError, type SignalBody } from '../protocol/index.js';
import { abortable } from './abortable.js';
import type { PathAttempt } from './attempts.js';
import type { PeerContext } from './context.js';
import { type DirectScope, offerDirect } from './direct-path.js';
import { DisconnectedError, NoPathError, reasonOf } from './errors.js';
import { askSameNat, judgeOnClient } from './judge.js';
import { type ConnectOptions, DEFAULT_TIMEOUTS, type Timeouts } from './options.js';
import { PathRace, type Winner } from './path-race.js';
import { PeerConnection } from './peer-connection.js';
import { openRelay, relayBudgetOf } from './relay-path.js';
import { CHOSEN_MARKER } from './secure-channel.js';

/** Errors that no other path can cure: stop at once and tell the caller. */
function isFatal(error: unknown): boolean {
  if (error instanceof DisconnectedError) return true;
  return (
    error instanceof ProtocolError &&
    ['NOT_BUDDY', 'BUDDY_OFFLINE', 'NOT_LOGGED_ON', 'SHUTTING_DOWN'].includes(error.code)
  );
}

interface Story {
  ctx: PeerContext;
  buddy: string;
  session: string;
  pinnedKey: Buffer;
  timeouts: Timeouts;
  attempts: PathAttempt[];
  onAttempt: ((attempt: PathAttempt) => void) | undefined;
  /** Cancels the whole connect (the client's close()). */
  signal: AbortSignal | undefined;
}

const SCOPE_OF: Record<'lan' | 'internet', DirectScope> = { lan: 'local', internet: 'global' };

/**
 * The whole connect, read top to bottom (SPEC §3.2–3.4, §4.1):
 *  1. S1–S4 judge: same NAT or not (the server's one bit, or the variant S201–S207). Only the LAN
 *     try waits for it: global addresses may go to any accepted buddy setting up a session (§4.4),
 *     so the global exchange (S101–S105) starts at once, its punching held back meanwhile.
 *  2. Same NAT → the LAN path (S51–S54); the internet punching starts after the LAN's head start.
 *     Different → the internet path only (S106): local addresses never leave (§4.4).
 *  3. The first path whose peer proves the pinned key wins and is returned at once; the others are
 *     cancelled then, reported as superseded, and the buddy is told to stop answering them.
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
    signal: options.signal,
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
    relayBudget: relayBudgetOf(winner.secret),
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
 * direct tries are over or still running after its head start. The first verified path is returned
 * at once; the others are cancelled then and wind down in the background.
 */
function racePaths(
  story: Story,
  judged: Promise<boolean>,
  plan: { lan: boolean; internet: boolean; relay: boolean },
): Promise<Winner | undefined> {
  const race = new PathRace(story.attempts, story.onAttempt, story.signal);
  const { timeouts } = story;
  const judgement = judged.then(
    (same) => same,
    (error: unknown) => {
      race.fail(error);
      return undefined;
    },
  );
  const lan = plan.lan
    ? judgement.then(async (same) => {
        if (same) return tryDirect(story, race, 'lan', timeouts.lanTimeoutMs);
        if (same === false && !plan.internet) {
          race.skip('lan', 'judged a different NAT: local addresses are not sent (S3, §4.4)');
        }
      })
    : Promise.resolve();
  const punchGate = plan.lan
    ? judgement.then((same) => (same ? Promise.race([lan, race.delay(timeouts.lanHeadStartMs)]) : undefined))
    : Promise.resolve();
  const internet = plan.internet
    ? tryDirect(story, race, 'internet', timeouts.internetTimeoutMs, punchGate)
    : Promise.resolve();
  const direct = Promise.all([lan, internet]);
  const relayHeadStart = plan.lan || plan.internet ? timeouts.relayHeadStartMs : 0;
  const relay = plan.relay
    ? Promise.race([direct, race.delay(relayHeadStart)]).then(() => tryRelay(story, race))
    : Promise.resolve();
  Promise.all([direct, relay]).then(
    () => race.settle(),
    (error: unknown) => race.fail(error),
  );
  return race.outcome;
}

/** S51–S54 (local) or S101–S106 (global): one direct try, from gathering addresses to the proof. */
async function tryDirect(
  story: Story,
  race: PathRace,
  path: 'lan' | 'internet',
  timeoutMs: number,
  beforePunch?: Promise<unknown>,
): Promise<void> {
  if (race.isOver) return;
  const attempt = race.begin(path, timeoutMs);
  const scope = SCOPE_OF[path];
  const { ctx, timeouts } = story;
  let stage = 'gathering addresses';
  let offered = false;
  try {
    // S51 (local) or S101–S102 (global: STUN through the peer socket); a late STUN answer is dropped.
    const addresses =
      scope === 'local'
        ? ctx.localAddresses()
        : await abortable(ctx.globalAddresses(timeouts), attempt.signal);
    offered = true; // offerDirect sends the offer first thing: from here on the buddy may be punching

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
      tcpTimeoutMs: timeouts.tcpDialTimeoutMs,
      signal: attempt.signal,
      ...(beforePunch ? { beforePunch } : {}),
      onStage: (s) => {
        stage = s;
      },
    });
    race.prove(attempt, secret);
  } catch (error) {
    if (isFatal(error)) race.fail(error);
    const reason = race.winner
      ? `superseded by ${race.winner.path}`
      : attempt.hasTimedOut
        ? `timed out after ${timeoutMs} ms while ${stage}`
        : reasonOf(error);
    race.lose(attempt, reason);
    // The buddy is still punching for this try: tell it, so it stops now rather than at its timeout.
    if (offered && attempt.cancelled) tellBuddyCancelled(story, scope, reason);
  }
}

/** Step 4: the relay of last resort (§4.3); never opened once a direct path has won. */
async function tryRelay(story: Story, race: PathRace): Promise<void> {
  if (race.isOver) return;
  const attempt = race.begin('relay');
  try {
    const secret = await openRelay({
      ctx: story.ctx,
      buddy: story.buddy,
      session: story.session,
      pinnedKey: story.pinnedKey,
      isInitiator: true,
      timeoutMs: story.timeouts.relayTimeoutMs,
      signal: attempt.signal,
    });
    race.prove(attempt, secret);
  } catch (error) {
    if (isFatal(error)) race.fail(error);
    const forbidden = error instanceof ProtocolError && error.code === 'FORBIDDEN';
    const reason = race.winner
      ? `superseded by ${race.winner.path}`
      : forbidden
        ? 'the server has the relay switched off'
        : reasonOf(error);
    race.lose(attempt, reason);
    // The buddy may be waiting at the relay for us: let it go.
    if (attempt.cancelled) tellBuddyCancelled(story, 'relay', reason);
  }
}

/**
 * A signal `abort` for one scope of this session: the buddy stops answering it (punching, waiting at
 * the relay). Best effort: a closed control channel just drops it, and the buddy's own timeout stays.
 */
function tellBuddyCancelled(story: Story, scope: SignalBody['scope'], reason: string): void {
  const body: SignalBody = {
    session: story.session,
    purpose: 'abort',
    scope,
    addresses: [],
    reason: reason.slice(0, 200),
  };
  story.ctx.request('signal', { to: story.buddy, body }).catch(() => {});
}
