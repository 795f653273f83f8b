import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hosts } from './hosts.js';
import type { TestFile } from './test-file.js';
import { TimedProcess } from './timed-process.js';

/** Runs the two processes of bench/transfer/cipher-peer.ts once: bob receives, alice sends. */

const PEER = fileURLToPath(new URL('./cipher-peer.js', import.meta.url));
const START_TIMEOUT_MS = 20_000;

export interface CeilingRun {
  bytes: number;
  /** Sender: handshake done → the receiver has the file on disk and closed. */
  transferSeconds: number;
  senderCpu: number;
  receiverCpu: number;
}

export async function runCipherCeiling(
  hosts: Hosts,
  /** Where bob listens: 127.0.0.1 on loopback, bob's LAN address in the lab. */
  bobAddress: string,
  file: TestFile,
  out: string,
  dir: string,
  timeoutMs: number,
): Promise<CeilingRun> {
  const peer = (role: 'alice' | 'bob', config: object) =>
    new TimedProcess(
      hosts,
      role,
      `cipher ${role}`,
      ['node', PEER, JSON.stringify(config)],
      join(dir, `cipher-${role}.time`),
    );
  const receiver = peer('bob', { role: 'receive', host: bobAddress, out });
  let sender: TimedProcess | undefined;
  try {
    const { line } = await receiver.next('listening', START_TIMEOUT_MS);
    sender = peer('alice', { role: 'send', host: bobAddress, port: line.port, file: file.path });
    const connected = await sender.next('connected', START_TIMEOUT_MS);
    const received = await receiver.next('received', timeoutMs);
    const sent = await sender.next('sent', timeoutMs);
    await Promise.all([sender.finished(timeoutMs), receiver.finished(timeoutMs)]);
    if (received.line.sha256 !== file.sha256 || sent.line.sha256 !== file.sha256)
      throw new Error(`cipher ceiling: sha256 mismatch (${String(received.line.sha256)})`);
    return {
      bytes: file.bytes,
      transferSeconds: (sent.stamp.at - connected.stamp.at) / 1000,
      senderCpu: Number(sent.line.cpuSeconds),
      receiverCpu: Number(received.line.cpuSeconds),
    };
  } finally {
    await Promise.all([receiver.stop(), sender?.stop()]);
  }
}
