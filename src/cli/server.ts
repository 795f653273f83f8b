import { type Command, Option } from 'commander';
import {
  DEFAULT_OPTIONS,
  OPTION_SPECS,
  optionsFromEnv,
  parseOptionText,
  type ServerOptions,
} from '../server/config.js';
import type { RunningServer } from '../server/index.js';
import { lockDataDir } from './data-lock.js';
import { EXIT } from './exit-codes.js';

/**
 * `buddylink server`: flags and environment are parsed here, everything else is src/server.
 * Precedence: flag, then BUDDYLINK_* variable, then the default in src/server/config.ts.
 * With --json the first stdout line is the listening event (a contract for tests and tools); logs go to
 * stderr.
 */
export function registerServerCommand(program: Command): void {
  const command = program
    .command('server')
    .description('run the buddylink server (WebSocket control channel, STUN, relay, /healthz, /metrics)');
  const attributes = new Map<keyof ServerOptions, string>();
  for (const [key, spec] of Object.entries(OPTION_SPECS) as [
    keyof ServerOptions,
    (typeof OPTION_SPECS)[keyof ServerOptions],
  ][]) {
    const option = new Option(spec.flag, `${spec.description} (env ${spec.env})`);
    attributes.set(key, option.attributeName());
    command.addOption(option);
  }
  command.option('--json', 'print the listening line as JSON on stdout (env BUDDYLINK_JSON)');
  command.action(async (flags: Record<string, unknown>) => {
    let options: Partial<ServerOptions>;
    try {
      options = { ...optionsFromEnv(process.env), ...flagOptions(command, flags, attributes) };
    } catch (err) {
      process.stderr.write(`buddylink server: ${(err as Error).message}\n`);
      process.exit(EXIT.usage);
    }
    const json =
      flags.json === true ||
      ['1', 'true', 'yes', 'on'].includes((process.env.BUDDYLINK_JSON ?? '').toLowerCase());
    await runServer(options, json);
  });
}

function flagOptions(
  command: Command,
  flags: Record<string, unknown>,
  attributes: Map<keyof ServerOptions, string>,
): Partial<ServerOptions> {
  const out: Record<string, unknown> = {};
  for (const [key, attribute] of attributes) {
    if (command.getOptionValueSource(attribute) !== 'cli') continue;
    const spec = OPTION_SPECS[key];
    const value = flags[attribute];
    if (spec.kind === 'bool') out[key] = value === true;
    else if (spec.kind === 'list')
      out[key] = (value as string[]).flatMap((v) => v.split(',')).filter((v) => v !== '');
    else out[key] = parseOptionText(spec.kind, String(value), spec.flag.split(' ')[0] ?? key);
  }
  return out as Partial<ServerOptions>;
}

async function runServer(options: Partial<ServerOptions>, json: boolean): Promise<void> {
  // Signals are caught before anything is printed: a tool may send SIGTERM the moment it reads the
  // listening line, and must still get a clean shutdown.
  let server: RunningServer | undefined;
  let stopping = false;
  let unlock = () => {};
  const stop = () => {
    stopping = true;
    if (!server) return;
    server.close().then(
      () => {
        unlock();
        process.exit(EXIT.ok);
      },
      () => {
        unlock();
        process.exit(EXIT.other);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // Loaded here, not at the top, so that client commands do not pay for the server's dependencies.
  const { startServer } = await import('../server/index.js').catch((err: NodeJS.ErrnoException) => {
    // A client-only install: the server's dependencies are optional peer dependencies (README "Package").
    if (err.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    process.stderr.write(
      `buddylink server: ${err.message}\nthe server needs its dependencies: npm install better-sqlite3 pino prom-client\n`,
    );
    return process.exit(EXIT.other);
  });
  try {
    // Several nodes keep nothing in the data directory (PostgreSQL holds it): nodes on one machine share none.
    const usesPostgres = (options.postgres ?? null) !== null;
    if (!usesPostgres)
      unlock = lockDataDir(options.dataDir === undefined ? DEFAULT_OPTIONS.dataDir : options.dataDir);
    server = await startServer(options);
  } catch (err) {
    unlock();
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`buddylink server: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
    process.exit(e instanceof TypeError ? EXIT.usage : EXIT.other);
  }
  const { urls } = server;
  if (json) process.stdout.write(`${JSON.stringify({ event: 'listening', ...urls })}\n`);
  else
    process.stdout.write(`buddylink server: control ${urls.ws}, STUN ${urls.stun}, metrics ${urls.http}\n`);
  if (stopping) stop();
}
