import { createInterface } from 'node:readline';
import nodeDataChannel, {
  type DataChannel,
  type DescriptionType,
  type PeerConnection,
} from 'node-datachannel';
import WebSocket from 'ws';

/**
 * The WebRTC ICE peer (libdatachannel/libjuice via node-datachannel) inside a lab host, driven by
 * JSON lines. The offerer starts a fresh PeerConnection per run, creates a data channel and reports
 * start → channel open and start → first message from the answerer. Descriptions and candidates
 * (trickle ICE) leave as `signal` lines; the driver hands them to the other agent through pipes.
 * With `signal` set they travel instead through a WebSocket signalling server (signal-relay.ts in the
 * lab's server host), opened once at start-up as a logged-on app's would be.
 * argv[2]: { role: 'offerer' | 'answerer', stun: 'stun:HOST:PORT', signal?: 'ws://HOST:PORT' }.
 */

interface IceConfig {
  role: 'offerer' | 'answerer';
  stun: string;
  signal?: string;
}

type Signal = { type: DescriptionType; sdp: string } | { candidate: string; mid: string };

type Command =
  | { cmd: 'start'; run: number }
  | { cmd: 'signal'; run: number; signal: Signal }
  | { cmd: 'close' }
  | { cmd: 'quit' };

const config = JSON.parse(process.argv[2] ?? '{}') as IceConfig;
nodeDataChannel.initLogger('Error', (level, message) => process.stderr.write(`${level}: ${message}\n`));

let pc: PeerConnection | undefined;
let channel: DataChannel | undefined;
let currentRun = -1;
let hasRemoteDescription = false;
let pendingCandidates: { candidate: string; mid: string }[] = [];
let early: { run: number; candidate: string; mid: string }[] = [];

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

let signalSocket: WebSocket | undefined;

/** A description or candidate for the other agent: through the signalling server, or stdout. */
function sendSignal(run: number, signal: Signal): void {
  if (signalSocket) signalSocket.send(JSON.stringify({ run, signal }));
  else emit({ event: 'signal', run, signal });
}

function newPeer(run: number): PeerConnection {
  currentRun = run;
  hasRemoteDescription = false;
  pendingCandidates = early.filter((c) => c.run === run);
  early = early.filter((c) => c.run > run);
  const peer = new nodeDataChannel.PeerConnection(`${config.role}-${run}`, { iceServers: [config.stun] });
  peer.onLocalDescription((sdp, type) => sendSignal(run, { type, sdp }));
  peer.onLocalCandidate((candidate, mid) => sendSignal(run, { candidate, mid }));
  return peer;
}

function close(): void {
  channel?.close();
  pc?.close();
  channel = undefined;
  pc = undefined;
}

function handle(command: Command): void {
  switch (command.cmd) {
    case 'start': {
      close();
      const started = performance.now();
      pc = newPeer(command.run);
      const dc = pc.createDataChannel('bench');
      channel = dc;
      let openMs = 0;
      dc.onOpen(() => {
        openMs = performance.now() - started;
        emit({ event: 'open', run: command.run, openMs });
      });
      dc.onMessage(() => {
        const pair = pc?.getSelectedCandidatePair();
        emit({
          event: 'first-message',
          run: command.run,
          openMs,
          firstMessageMs: performance.now() - started,
          local: pair?.local.type,
          remote: pair?.remote.type,
        });
      });
      return;
    }
    case 'signal': {
      if (config.role === 'answerer' && 'type' in command.signal && command.signal.type === 'offer') {
        close();
        pc = newPeer(command.run);
        pc.onDataChannel((dc) => {
          channel = dc;
          // The answerer's channel is open when it is announced: say hello at once.
          dc.sendMessage('R');
        });
      }
      if (!pc || command.run !== currentRun) {
        // The answerer may hear a candidate of the next run before that run's offer.
        if (command.run > currentRun && 'candidate' in command.signal)
          early.push({ run: command.run, ...command.signal });
        return;
      }
      if ('type' in command.signal) {
        pc.setRemoteDescription(command.signal.sdp, command.signal.type);
        hasRemoteDescription = true;
        for (const c of pendingCandidates.splice(0)) addCandidate(pc, c);
      } else if (hasRemoteDescription) {
        addCandidate(pc, command.signal);
      } else {
        // A trickled candidate may overtake the description it belongs to: hold it until then.
        pendingCandidates.push(command.signal);
      }
      return;
    }
    case 'close':
      close();
      emit({ event: 'closed' });
      return;
    case 'quit':
      close();
      nodeDataChannel.cleanup();
      process.exit(0);
  }
}

/**
 * libdatachannel creates the offerer's ICE transport on its own thread after the local description;
 * with no delay on the links the answer and its first candidate can arrive before that ("Got a
 * remote candidate without ICE transport"). Retried a few times, 5 ms apart, as an app would.
 */
function addCandidate(peer: PeerConnection, c: { candidate: string; mid: string }, tries = 40): void {
  try {
    peer.addRemoteCandidate(c.candidate, c.mid);
  } catch (error) {
    const transient = error instanceof Error && /without ICE transport/.test(error.message);
    if (!transient || tries <= 1) throw error;
    setTimeout(() => {
      if (pc !== peer) return; // that run is over
      try {
        addCandidate(peer, c, tries - 1);
      } catch (late) {
        emit({ event: 'error', message: late instanceof Error ? late.message : String(late) });
      }
    }, 5);
  }
}

function safely(text: string, wrap: (parsed: unknown) => Command): void {
  try {
    handle(wrap(JSON.parse(text)));
  } catch (error) {
    emit({ event: 'error', message: error instanceof Error ? error.message : String(error) });
  }
}

createInterface({ input: process.stdin }).on('line', (text) => safely(text, (parsed) => parsed as Command));
if (config.signal) {
  const socket = new WebSocket(`${config.signal}/?role=${config.role}`);
  socket.on('message', (data) => {
    safely(data.toString(), (parsed) => ({ cmd: 'signal', ...(parsed as { run: number; signal: Signal }) }));
  });
  socket.on('error', (error) => emit({ event: 'error', message: `signalling: ${error.message}` }));
  socket.on('open', () => {
    signalSocket = socket;
    emit({ event: 'ready', role: config.role });
  });
} else {
  emit({ event: 'ready', role: config.role });
}
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
