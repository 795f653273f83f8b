import { CommanderError } from 'commander';
import { BuddylinkError } from '../protocol/index.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { clearBar } from './progress.js';

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
    case 'BAD_ARGUMENT':
      return EXIT.usage;
    case 'AUTH_FAILED':
    case 'NO_CREDENTIALS':
    case 'NOT_LOGGED_ON':
      return EXIT.auth;
    case 'NOT_BUDDY':
    case 'BUDDY_OFFLINE':
    case 'DECLINED':
      return EXIT.notBuddyOrOffline;
    case 'NO_PATH':
    case 'RELAY_BUDGET':
      return EXIT.noPath;
    case 'CANCELLED':
      return EXIT.interrupted;
    default:
      return EXIT.other;
  }
}

/** One line a person can read, whatever was thrown: never a stack trace. */
export function plainLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const line = (message.split('\n')[0] ?? message).trim() || 'failed';
  // Node's own errors carry a syscall and path: say what happened in words where we know them.
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'the connection was closed by the other side';
  return line;
}

/**
 * Everything a command prints goes through here. With --json, stdout carries one JSON object per
 * line and nothing else; people's text goes to stdout without --json; notes and errors to stderr.
 * `receive --stdout` moves events and lines to stderr, since stdout carries the file.
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly eventsToStderr = false,
  ) {}

  private print(line: string): void {
    clearBar();
    (this.eventsToStderr ? process.stderr : process.stdout).write(`${line}\n`);
  }

  /** A machine-readable event (--json) or, without --json, the given human line (if any). */
  event(event: Record<string, unknown> & { event: string }, human?: string): void {
    if (this.json) {
      if (event.event === 'progress')
        (this.eventsToStderr ? process.stderr : process.stdout).write(`${JSON.stringify(event)}\n`);
      else this.print(JSON.stringify(event));
    } else if (human !== undefined) this.print(human);
  }

  /** A note for people; never on stdout, so it cannot spoil --json output. */
  note(text: string): void {
    clearBar();
    process.stderr.write(`${text}\n`);
  }

  error(error: unknown): void {
    const code = error instanceof BuddylinkError ? error.code : 'ERROR';
    const line = plainLine(error);
    if (this.json) this.print(JSON.stringify({ event: 'error', code, message: line }));
    clearBar();
    process.stderr.write(`buddylink: ${line}\n`);
  }
}

/** Runs a command body, prints a failure in one line, and exits with the contract's code. */
export async function runCommand(
  json: boolean,
  body: (out: Output) => Promise<void>,
  options: { eventsToStderr?: boolean } = {},
): Promise<never> {
  const out = new Output(json, options.eventsToStderr);
  let code: ExitCode = EXIT.ok;
  try {
    await body(out);
  } catch (error) {
    out.error(error);
    code = exitCodeOf(error);
  }
  process.exit(code);
}
