import { execFile, execFileSync } from 'node:child_process';
import { LAB_DEFAULTS } from './options.js';

/** A lab command (ip, nft, sysctl, a program inside a host) failed; `argv` says which. */
export class LabCommandError extends Error {
  readonly code = 'LAB_COMMAND_FAILED';
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`lab command failed (${exitCode ?? 'signal'}): ${argv.join(' ')}: ${stderr.trim()}`);
    this.name = 'LabCommandError';
  }
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunOptions {
  /** Text written to the command's stdin (nft -f - reads its ruleset there). */
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolve with the exit code instead of throwing when it is not 0. */
  allowFailure?: boolean;
}

/**
 * Runs one program with an argument vector: never a shell, so no input is ever parsed as shell text.
 */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new TypeError('empty argv'));
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        timeout: opts.timeoutMs ?? LAB_DEFAULTS.commandTimeoutMs,
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve({ stdout, stderr, exitCode: 0 });
          return;
        }
        const code = typeof err.code === 'number' ? err.code : null;
        if (opts.allowFailure && code !== null) {
          resolve({ stdout, stderr, exitCode: code });
          return;
        }
        reject(new LabCommandError(argv, code, stderr || err.message));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** The synchronous form, only for the last-chance cleanup in a process 'exit' handler. */
export function runSyncQuiet(argv: readonly string[]): string {
  const [file, ...args] = argv;
  if (file === undefined) return '';
  try {
    return execFileSync(file, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5_000,
    });
  } catch {
    return '';
  }
}

/** argv that runs `argv` inside network namespace `ns`. */
export function inNamespace(ns: string, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}
