import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  Client,
  CredentialsMissingError,
  DEFAULT_TIMEOUTS,
  defaultHome,
  Home,
  type LogonOptions,
  type Timeouts,
} from '../client/index.js';
import type { Endpoint } from '../protocol/index.js';
import { endpoint } from '../protocol/index.js';
import { UsageError } from './output.js';
import { promptPassword } from './prompt.js';

/**
 * Options every client command takes, each also an environment variable, so the same commands run
 * unchanged on a laptop, in CI and inside the NAT lab's namespaces.
 */
export interface Globals {
  server?: string;
  home: string;
  json: boolean;
  stun?: string;
  udpPort?: number;
  udpHost?: string;
  localAddress?: string[];
  device?: string;
  timeout?: string[];
}

function globalOptions(): Option[] {
  return [
    new Option('--server <url>', 'server WebSocket URL, e.g. ws://im.example:7070').env('BUDDYLINK_SERVER'),
    new Option('--home <dir>', 'where the key pair and session token live (default ~/.buddylink)').env(
      'BUDDYLINK_HOME',
    ),
    new Option('--json', 'one JSON object per line on stdout, nothing else'),
    new Option('--stun <host:port>', 'STUN server (default: where the server says its STUN answers)').env(
      'BUDDYLINK_STUN',
    ),
    new Option('--udp-port <port>', 'UDP port of the peer socket (default: any free port)')
      .env('BUDDYLINK_UDP_PORT')
      .argParser((v) => parsePort(v)),
    new Option('--udp-host <ip>', 'bind address of the peer socket (default: all)').env('BUDDYLINK_UDP_HOST'),
    // One value per flag (repeat it, or use commas): a variadic option before the command name would swallow it.
    new Option('--local-address <ip:port>', 'offer this local address instead of the interfaces (repeatable)')
      .env('BUDDYLINK_LOCAL_ADDRESSES')
      .argParser(collect),
    new Option('--device <name>', 'device name for this logon (default: host name and process id)').env(
      'BUDDYLINK_DEVICE',
    ),
    new Option(
      '--timeout <name=ms>',
      `tune a timeout, repeatable (${Object.keys(DEFAULT_TIMEOUTS).join(', ')})`,
    )
      .env('BUDDYLINK_TIMEOUTS')
      .argParser(collect),
  ];
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError(`not a port: ${text}`);
  return port;
}

/** Adds the global options to a command; the program gets them too (before the command name). */
export function withGlobals(command: Command): Command {
  for (const option of globalOptions()) command.addOption(option);
  return command;
}

export function readGlobals(command: Command): Globals {
  // A flag typed on the command line beats the environment wherever it was typed (before or after
  // the command name): the subcommand's copy of an option also reads the environment.
  const merged: Record<string, unknown> = {};
  const fromCli = new Set<string>();
  for (let c: Command | null = command; c; c = c.parent) {
    for (const [k, v] of Object.entries(c.opts())) {
      if (v === undefined || fromCli.has(k)) continue;
      const typed = c.getOptionValueSource(k) === 'cli';
      if (typed || !(k in merged)) merged[k] = v;
      if (typed) fromCli.add(k);
    }
  }
  const list = (v: unknown) =>
    v === undefined
      ? undefined
      : (Array.isArray(v) ? v : [v]).flatMap((s) => String(s).split(',')).filter(Boolean);
  const globals: Globals = { home: String(merged.home ?? defaultHome()), json: merged.json === true };
  if (merged.server !== undefined) globals.server = String(merged.server);
  if (merged.stun !== undefined) globals.stun = String(merged.stun);
  if (merged.udpPort !== undefined) globals.udpPort = Number(merged.udpPort);
  if (merged.udpHost !== undefined) globals.udpHost = String(merged.udpHost);
  if (merged.device !== undefined) globals.device = String(merged.device);
  const local = list(merged.localAddress);
  if (local) globals.localAddress = local;
  const timeout = list(merged.timeout);
  if (timeout) globals.timeout = timeout;
  return globals;
}

function parseEndpoint(text: string): Endpoint {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const parsed = endpoint.safeParse(m ? { host: m[1], port: Number(m[2]) } : {});
  if (!parsed.success) throw new UsageError(`not an IP:PORT address: ${text}`);
  return parsed.data;
}

export function parseTimeouts(entries: string[] | undefined): Partial<Timeouts> {
  const out: Partial<Timeouts> = {};
  for (const entry of entries ?? []) {
    const [name, value] = entry.split('=');
    if (!name || !(name in DEFAULT_TIMEOUTS) || !value || !/^\d+$/.test(value)) {
      throw new UsageError(
        `--timeout wants NAME=MS with NAME one of ${Object.keys(DEFAULT_TIMEOUTS).join(', ')}`,
      );
    }
    out[name as keyof Timeouts] = Number(value);
  }
  return out;
}

/** The server to use: the flag or environment, else the one of the kept session. */
async function serverOf(globals: Globals, home: Home): Promise<string> {
  if (globals.server) return globals.server;
  const kept = await home.session();
  if (kept) return kept.server;
  throw new UsageError('no server: give --server URL or set BUDDYLINK_SERVER');
}

export function passwordFromEnv(): string | undefined {
  const password = process.env.BUDDYLINK_PASSWORD;
  return password === undefined || password === '' ? undefined : password;
}

/** The password from BUDDYLINK_PASSWORD, else asked for without echo. */
export async function askPassword(user: string): Promise<string> {
  return passwordFromEnv() ?? (await promptPassword(`password for ${user}: `));
}

/** The logon options shared by every way a command opens a client. */
export async function logonOptions(globals: Globals, user: string): Promise<LogonOptions> {
  const home = new Home(globals.home);
  const options: LogonOptions = { server: await serverOf(globals, home), user, home: globals.home };
  if (globals.stun) options.stun = globals.stun;
  if (globals.udpPort !== undefined) options.udpPort = globals.udpPort;
  if (globals.udpHost) options.udpHost = globals.udpHost;
  if (globals.device) options.device = globals.device;
  if (globals.localAddress) options.localAddresses = globals.localAddress.map(parseEndpoint);
  const timeouts = parseTimeouts(globals.timeout);
  if (Object.keys(timeouts).length > 0) options.timeouts = timeouts;
  return options;
}

/**
 * Logs on as the user of the kept session with its token; when the token has expired, with the
 * password from the environment (SPEC: every command but login uses the kept token).
 */
export async function openClient(globals: Globals, extra: { listen?: boolean } = {}): Promise<Client> {
  const home = new Home(globals.home);
  const kept = await home.session();
  if (!kept)
    throw new CredentialsMissingError(
      'not logged in: run `buddylink login USER` or `buddylink account create USER`',
    );
  const options = await logonOptions(globals, kept.user);
  const password = passwordFromEnv();
  if (password !== undefined) options.password = password;
  if (extra.listen !== undefined) options.listen = extra.listen;
  return Client.logon(options);
}
