#!/usr/bin/env node
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';

/**
 * A tiny UDP peer run inside lab hosts by the lab's self-tests. It answers every probe with the
 * source address it saw (the server side of STUN in miniature: the NAT's rewrite made visible), and
 * sends probes on command, so a test can punch holes from both sides with the one socket.
 *
 *   node dist/lab/udp-peer.js [--port N] [--v6]
 *   stdin:  {"probe":"IP:PORT","n":1}          ("ttl":3 sends this probe with IP TTL 3)
 *   stdout: {"event":"bound","port":N}
 *           {"event":"probe","from":"IP:PORT","n":1}          a probe arrived (and was answered)
 *           {"event":"seen","by":"IP:PORT","as":"IP:PORT","n":1}  a peer answered: it saw us as `as`
 */

interface Message {
  t: 'probe' | 'seen';
  n: number;
  as?: string;
}

function endpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function parseEndpoint(text: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  if (!m?.[1] || !m[2]) return undefined;
  return { host: m[1], port: Number(m[2]) };
}

function parseMessage(buf: Buffer): Message | undefined {
  try {
    const value: unknown = JSON.parse(buf.toString('utf8'));
    if (typeof value !== 'object' || value === null) return undefined;
    const { t, n, as } = value as Record<string, unknown>;
    if ((t !== 'probe' && t !== 'seen') || typeof n !== 'number') return undefined;
    return typeof as === 'string' ? { t, n, as } : { t, n };
  } catch {
    return undefined;
  }
}

/** Linux's default TTL (net.ipv4.ip_default_ttl), restored after a low-TTL probe. */
const DEFAULT_TTL = 64;

const args = process.argv.slice(2);
const portAt = args.indexOf('--port');
const port = portAt >= 0 ? Number(args[portAt + 1]) : 0;
const v6 = args.includes('--v6');
const socket = createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
const emit = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`);
};

socket.on('message', (buf, rinfo) => {
  const msg = parseMessage(buf);
  const from = endpoint(rinfo.address, rinfo.port);
  if (msg?.t === 'probe') {
    emit({ event: 'probe', from, n: msg.n });
    socket.send(JSON.stringify({ t: 'seen', n: msg.n, as: from }), rinfo.port, rinfo.address);
  } else if (msg?.t === 'seen') {
    emit({ event: 'seen', by: from, as: msg.as, n: msg.n });
  }
});
socket.on('error', (err) => emit({ event: 'error', message: err.message }));
socket.bind(port, v6 ? '::' : '0.0.0.0', () => emit({ event: 'bound', port: socket.address().port }));

createInterface({ input: process.stdin }).on('line', (line) => {
  try {
    const cmd = JSON.parse(line) as { probe?: unknown; n?: unknown; ttl?: unknown };
    const target = typeof cmd.probe === 'string' ? parseEndpoint(cmd.probe) : undefined;
    if (!target) return;
    const n = typeof cmd.n === 'number' ? cmd.n : 0;
    // The TTL applies from setTTL until the datagram is out; commands come one at a time.
    if (typeof cmd.ttl === 'number') socket.setTTL(cmd.ttl);
    socket.send(JSON.stringify({ t: 'probe', n }), target.port, target.host, () => {
      if (typeof cmd.ttl === 'number') socket.setTTL(DEFAULT_TTL);
    });
  } catch {
    emit({ event: 'error', message: 'bad command' });
  }
});
process.stdin.on('end', () => socket.close());
