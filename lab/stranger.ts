#!/usr/bin/env node
import { createSocket } from 'node:dgram';
import { decodePunchPacket, encodePunchPacket } from '../src/client/punch-packet.js';

/**
 * A stranger on a LAN: a machine that happens to hold the local address (and port) a buddy has on
 * *another* LAN, as overlapping private ranges make common (carrier NAT, §4.1 of SPEC.md). It answers
 * every hole-punching probe, so a client's LAN try gets past the reachability check and only the
 * key check (Noise against the pinned key) can stop it. It never speaks Noise itself.
 *
 *   node dist/lab/stranger.js --port N
 *   stdout: {"event":"bound","port":N}, then {"event":"probe","from":"IP:PORT","scope":…} per probe
 */

const args = process.argv.slice(2);
const portAt = args.indexOf('--port');
const port = portAt >= 0 ? Number(args[portAt + 1]) : 0;
const socket = createSocket('udp4');
const emit = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`);
};
const answered = new Set<string>();

socket.on('message', (buf, rinfo) => {
  const probe = decodePunchPacket(buf);
  if (probe?.kind !== 'probe') return;
  const from = `${rinfo.address}:${rinfo.port}`;
  if (!answered.has(`${from}/${probe.session}`)) {
    answered.add(`${from}/${probe.session}`);
    emit({ event: 'probe', from, scope: probe.scope });
  }
  socket.send(
    encodePunchPacket({ kind: 'ack', scope: probe.scope, session: probe.session }),
    rinfo.port,
    rinfo.address,
  );
});
socket.bind(port, '0.0.0.0', () => emit({ event: 'bound', port: socket.address().port }));
process.on('SIGTERM', () => socket.close());
