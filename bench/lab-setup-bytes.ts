import type { Benchmark, BenchmarkContext, BenchmarkReport } from './harness/benchmark.js';
import { measureEachPath, type SideBytes } from './lab-bench/connect-runs.js';
import { INTERNET_DELAY_MS, PATH_TOPOLOGIES, SIZES } from './lab-bench/options.js';
import { formatSpread, loadNote, pairedRatio, ratio, spread, verdict } from './lab-bench/report.js';

/**
 * Issue 6, row 6: bytes sent to set up a connection, per path, against WebRTC ICE between the same
 * lab hosts. Counted by nftables counters in each client host's output hook (IP packet bytes, headers
 * included), both hosts summed, from just before connect() / new PeerConnection until the initiator
 * holds the first byte from the other side, plus 500 ms for trailing setup packets.
 *
 * Held constant: the same labs and runs as lab-connect (interleaved, cold address discovery), and
 * signalling counted the same way for both: the TCP bytes the two hosts send to the server that
 * carries their signalling (buddylink: the control connection; ICE: a WebSocket signalling server in
 * the same server host). Bytes the server itself sends are not counted for either.
 */

const GOAL = 1;

function wire(b: SideBytes): number {
  return b.alice.stun + b.alice.path + b.bob.stun + b.bob.path;
}

function signalling(b: SideBytes): number {
  return b.alice.signalling + b.bob.signalling;
}

function fmt(values: readonly number[]): string {
  return formatSpread(spread(values), 0);
}

async function run(context: BenchmarkContext): Promise<BenchmarkReport> {
  const size = context.smoke ? SIZES.smoke : SIZES.full;
  const paths = context.smoke ? PATH_TOPOLOGIES.filter((p) => p.path === 'internet') : PATH_TOPOLOGIES;
  const loadBefore = loadNote('before');
  const { results, delayModes } = await measureEachPath(
    paths,
    { warmups: size.warmups, runs: context.runs, countBytes: true },
    context.log,
  );

  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  const summary: Record<string, unknown> = {};
  for (const p of paths) {
    const s = results[p.path]!;
    const ours = s.ours.map((r) => r.bytes!);
    const iceServer = s.ice.server.map((r) => r.bytes!);
    const icePipe = s.ice.pipe;
    const oursTotal = ours.map((b) => wire(b) + signalling(b));
    const iceTotal = iceServer.map((b) => wire(b) + signalling(b));
    rows.push([
      p.path,
      'buddylink',
      fmt(ours.map((b) => b.alice.stun + b.bob.stun)),
      fmt(ours.map((b) => b.alice.path + b.bob.path)),
      fmt(ours.map(signalling)),
      fmt(oursTotal),
      iceTotal.length > 0 ? ratio(pairedRatio(oursTotal, iceTotal)) : 'no ICE peer (ICE needs TURN here)',
    ]);
    if (iceServer.length > 0) {
      rows.push([
        p.path,
        'ICE (signalling via WebSocket server in the server host)',
        fmt(iceServer.map((b) => b.alice.stun + b.bob.stun)),
        fmt(iceServer.map((b) => b.alice.path + b.bob.path)),
        fmt(iceServer.map(signalling)),
        fmt(iceTotal),
        '1',
      ]);
      rows.push([
        p.path,
        'ICE (pipe signalling: payload text only, no headers)',
        fmt(icePipe.map((r) => r.bytes!.alice.stun + r.bytes!.bob.stun)),
        fmt(icePipe.map((r) => r.bytes!.alice.path + r.bytes!.bob.path)),
        fmt(icePipe.map((r) => r.signalPayloadBytes)),
        fmt(icePipe.map((r) => wire(r.bytes!) + r.signalPayloadBytes)),
        '',
      ]);
      const withSignalling = pairedRatio(oursTotal, iceTotal);
      const wireOnly = pairedRatio(ours.map(wire), iceServer.map(wire));
      summary[p.path] = { withSignalling, wireOnly };
      notes.push(
        `${p.path}: buddylink / ICE bytes, median (min–max) of per-run pairs: ${ratio(withSignalling)} with signalling (both through the server host), ${verdict(withSignalling, GOAL, 'lower')}; ${ratio(wireOnly)} without signalling (STUN + peer packets only)`,
      );
    }
  }
  notes.push(loadBefore, loadNote('after'));

  return {
    title: `Bytes sent to set up a connection in the NAT lab (${INTERNET_DELAY_MS} ms delay): buddylink vs WebRTC ICE`,
    setup: [
      "counted with nftables counters (not a capture) in the output hook of alice's and bob's hosts: IP packet length incl. IP/UDP/TCP headers, both hosts summed; bytes the server or routers send are not counted for either side",
      'window: from just before connect() (ICE: new PeerConnection) until the initiator has read the first byte from the other side, plus 500 ms of trailing setup packets',
      "columns: STUN = UDP to the server's STUN port; peer = everything else (punches, UDX, Noise handshake; ICE checks, DTLS, SCTP, DCEP; the relay WebSocket); signalling = TCP from the clients to the server that carries their signalling (buddylink control channel incl. the same-NAT judgement; ICE: WebSocket signalling server in the same host, opened beforehand)",
      `labs as lab-connect (delay made by ${[...delayModes].join(', ')}); ${size.warmups} warm-up + ${context.runs} measured runs per path, interleaved; figures: median (min–max) bytes`,
    ],
    columns: [
      'path',
      'side',
      'STUN bytes',
      'peer bytes',
      'signalling bytes',
      'total',
      'ratio vs ICE (total)',
    ],
    rows,
    notes,
    data: { delayMs: INTERNET_DELAY_MS, delayModes: [...delayModes], results, summary },
  };
}

export const labSetupBytesBenchmark: Benchmark = {
  name: 'lab-setup-bytes',
  description:
    'NAT lab: bytes both clients send to set up a connection per path vs WebRTC ICE (nft counters)',
  run,
};
