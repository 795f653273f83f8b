import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { crc32 } from '../../src/stun/crc32.js';

/**
 * Closed-loop STUN Binding load generator, run as its own process (pinned to its own core) so that
 * it never shares a CPU with the server under test. The same generator drives our server and coturn.
 * Bounded in count (maxRequests) and time (warm-up + measure); sends to loopback only.
 *
 * Each of `sockets × window` slots keeps one request in flight: send, wait for the answer, send the
 * next. A request unanswered after `lossTimeoutMs` counts as lost and the slot moves on.
 * Requests are what our client sends: a Binding request with FINGERPRINT (28 bytes).
 */

const Config = z.object({
  host: z.union([z.literal('127.0.0.1'), z.literal('::1')]),
  port: z.number().int().min(1).max(65535),
  sockets: z.number().int().min(1).max(64),
  window: z.number().int().min(1).max(256),
  warmupMs: z.number().int().min(0).max(60_000),
  measureMs: z.number().int().min(100).max(120_000),
  maxRequests: z.number().int().min(1).max(50_000_000),
  lossTimeoutMs: z.number().int().min(10).max(5000),
});
export type LoadConfig = z.infer<typeof Config>;

export interface LoadResult {
  answered: number;
  lost: number;
  measuredMs: number;
  answeredPerSecond: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  generatorCpuSeconds: number;
}

const MAX_LATENCY_SAMPLES = 5_000_000;
const REQUEST_LENGTH = 28;

function main(): void {
  const config = Config.parse(JSON.parse(process.argv[2] ?? '{}'));
  const slotsPerSocket = config.window;
  const slotCount = config.sockets * slotsPerSocket;
  const nonce = (Math.random() * 0xffffffff) >>> 0;
  const sentAt = new Float64Array(slotCount);
  const sequence = new Uint32Array(slotCount);
  const packets: Buffer[] = [];
  for (let slot = 0; slot < slotCount; slot++) {
    const packet = Buffer.alloc(REQUEST_LENGTH);
    packet.writeUInt16BE(0x0001, 0);
    packet.writeUInt16BE(8, 2);
    packet.writeUInt32BE(0x2112a442, 4);
    packet.writeUInt32BE(slot, 8);
    packet.writeUInt32BE(nonce, 16);
    packet.writeUInt16BE(0x8028, 20);
    packet.writeUInt16BE(4, 22);
    packets.push(packet);
  }
  const latencies = new Float64Array(Math.min(MAX_LATENCY_SAMPLES, config.maxRequests));
  let samples = 0;
  let answered = 0;
  let lost = 0;
  let sent = 0;
  let measuring = false;
  let stopped = false;
  let cpuAtStart = process.cpuUsage();
  let measureStartedAt = 0;

  const sockets: Socket[] = [];
  const send = (slot: number): void => {
    if (stopped || sent >= config.maxRequests) return;
    const packet = packets[slot]!;
    const seq = (sequence[slot]! + 1) >>> 0;
    sequence[slot] = seq;
    packet.writeUInt32BE(seq, 12);
    packet.writeUInt32BE((crc32(packet, 0, 20) ^ 0x5354554e) >>> 0, 24);
    sentAt[slot] = performance.now();
    sent++;
    sockets[Math.floor(slot / slotsPerSocket)]!.send(packet, config.port, config.host);
  };

  const onAnswer = (answer: Buffer): void => {
    // A Binding success response for a slot's current sequence number; anything else is ignored.
    if (answer.length < 20 || answer.readUInt16BE(0) !== 0x0101 || answer.readUInt32BE(16) !== nonce) return;
    const slot = answer.readUInt32BE(8);
    if (slot >= slotCount || answer.readUInt32BE(12) !== sequence[slot]) return;
    if (measuring) {
      answered++;
      if (samples < latencies.length) latencies[samples++] = (performance.now() - sentAt[slot]!) * 1000;
    }
    send(slot);
  };

  const lossScan = setInterval(
    () => {
      const now = performance.now();
      for (let slot = 0; slot < slotCount; slot++) {
        if (now - sentAt[slot]! > config.lossTimeoutMs) {
          if (measuring) lost++;
          send(slot);
        }
      }
    },
    Math.max(5, Math.floor(config.lossTimeoutMs / 4)),
  );

  let bound = 0;
  for (let i = 0; i < config.sockets; i++) {
    const socket = createSocket({ type: config.host === '::1' ? 'udp6' : 'udp4' });
    socket.on('message', onAnswer);
    sockets.push(socket);
    socket.bind(0, config.host, () => {
      if (++bound < config.sockets) return;
      for (let slot = 0; slot < slotCount; slot++) send(slot);
      setTimeout(startMeasuring, config.warmupMs);
    });
  }

  function startMeasuring(): void {
    measuring = true;
    cpuAtStart = process.cpuUsage();
    measureStartedAt = performance.now();
    process.stdout.write(`${JSON.stringify({ phase: 'measuring' })}\n`);
    setTimeout(finish, config.measureMs);
  }

  function finish(): void {
    const measuredMs = performance.now() - measureStartedAt;
    measuring = false;
    stopped = true;
    clearInterval(lossScan);
    const cpu = process.cpuUsage(cpuAtStart);
    const taken = latencies.subarray(0, samples).sort();
    const at = (p: number): number =>
      taken[Math.min(samples - 1, Math.max(0, Math.ceil((p / 100) * samples) - 1))] ?? 0;
    const result: LoadResult = {
      answered,
      lost,
      measuredMs,
      answeredPerSecond: (answered / measuredMs) * 1000,
      p50Us: at(50),
      p99Us: at(99),
      maxUs: samples > 0 ? taken[samples - 1]! : 0,
      generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
    process.stdout.write(`${JSON.stringify({ phase: 'done', result })}\n`);
    for (const socket of sockets) socket.close();
  }
}

main();
