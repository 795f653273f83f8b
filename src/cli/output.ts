import { CommanderError } from 'commander';
import { BuddylinkError } from '../protocol/index.js';
import { EXIT, type ExitCode } from './exit-codes.js';

/** A command-line mistake: wrong or missing arguments, options or settings (exit 2). */
export class UsageError extends BuddylinkError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

/** Error codes → the CLI's exit codes (the contract in exit-codes.ts). */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CommanderError) return EXIT.usage;
  if (!(error instanceof BuddylinkError)) return EXIT.other;
  switch (error.code) {
    case 'USAGE':
    case 'BAD_REQUEST':
      return EXIT.usage;
    case 'AUTH_FAILED':
    case 'NO_CREDENTIALS':
    case 'NOT_LOGGED_ON':
      return EXIT.auth;
    case 'NOT_BUDDY':
    case 'BUDDY_OFFLINE':
      return EXIT.notBuddyOrOffline;
    case 'NO_PATH':
      return EXIT.noPath;
    default:
      return EXIT.other;
  }
}

/**
 * Everything a command prints goes through here. With --json, stdout carries one JSON object per
 * line and nothing else; people's text goes to stdout without --json; notes and errors to stderr.
 */
export class Output {
  constructor(readonly json: boolean) {}

  /** A machine-readable event (--json) or, without --json, the given human line (if any). */
  event(event: Record<string, unknown> & { event: string }, human?: string): void {
    if (this.json) process.stdout.write(`${JSON.stringify(event)}\n`);
    else if (human !== undefined) process.stdout.write(`${human}\n`);
  }

  /** A note for people; never on stdout, so it cannot spoil --json output. */
  note(text: string): void {
    process.stderr.write(`${text}\n`);
  }

  error(error: unknown): void {
    const code = error instanceof BuddylinkError ? error.code : 'ERROR';
    const message = error instanceof Error ? error.message : String(error);
    const line = message.split('\n')[0] ?? message;
    if (this.json) process.stdout.write(`${JSON.stringify({ event: 'error', code, message: line })}\n`);
    process.stderr.write(`buddylink: ${line}\n`);
  }
}

/** Runs a command body, prints a failure in one line, and exits with the contract's code. */
export async function runCommand(json: boolean, body: (out: Output) => Promise<void>): Promise<never> {
  const out = new Output(json);
  let code: ExitCode = EXIT.ok;
  try {
    await body(out);
  } catch (error) {
    out.error(error);
    code = exitCodeOf(error);
  }
  process.exit(code);
}
