import { createHash, randomBytes } from 'node:crypto';
import { pino } from 'pino';

export type Logger = pino.Logger;

/**
 * Structured logs on stderr, so that stdout stays clean for `--json` (the listening line is a contract).
 * Synchronous writes: a log line never outlives the process that wrote it.
 */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'buddylink-server' } }, pino.destination({ fd: 2, sync: true }));
}

/**
 * Client addresses never reach the logs in clear (issue 3, SPEC §4.4): this tag lets an operator follow
 * one address through the logs of one run. The salt is random per process, so tags cannot be reversed
 * by hashing the address space, nor joined across runs.
 */
export function createAddressTagger(): (ip: string) => string {
  const salt = randomBytes(16);
  return (ip) => createHash('sha256').update(salt).update(ip).digest('base64url').slice(0, 12);
}
