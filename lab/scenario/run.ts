import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertNothingLeft } from '../cleanup.js';
import { Lab } from '../lab.js';
import { findTopology, withDelay } from '../topologies.js';
import { INTERNET, type TopologySpec } from '../topology.js';
import { addressesSeen, Capture, type PunchDatagrams, punchDatagramsFrom } from './capture.js';
import { CliProcess, type JsonLine, runCli } from './cli-driver.js';

/**
 * One row of the NAT matrix, end to end with the real CLI: a server on the lab internet, alice and
 * bob with their own homes, accounts, buddies, `receive` in bob, `send` in alice; then the path, the
 * hashes, the server's logs and metrics, and (optionally) what each side's wire carried.
 */

export interface Scenario {
  topology: string;
  delayMs?: number;
  /** Extra server flags, e.g. ['--v4-prefix', '31']. */
  serverArgs?: readonly string[];
  /** Extra `send` flags, e.g. ['--path', 'internet'] for the naive always-global baseline. */
  sendArgs?: readonly string[];
  /** Clients reach the server over IPv6 (registered addresses are IPv6). */
  ipv6?: boolean;
  /** Capture both clients' wires and look for the other side's local addresses. */
  capture?: boolean;
  fileBytes?: number;
  /**
   * Run lab/stranger.js on the `stranger` host, on the UDP port bob is told to use: it holds bob's
   * local address on alice's LAN and answers her LAN probes.
   */
  stranger?: boolean;
  /** Send the file this many times (each a new `send` process) to time repeated connects. */
  sends?: number;
  /**
   * Each further send gets a new `receive --once` (a new peer socket, so a new global port): the
   * NAT state a send leaves (bob's conntrack holes towards alice's ports, 30 s) cannot help the
   * next, and each send is an independent try (birthday punching's success rate).
   */
  receiverPerSend?: boolean;
}

export interface Attempt {
  path: string;
  ok: boolean;
  ms: number;
  reason: string | null;
}

export interface ScenarioResult {
  topology: string;
  delayMs: number;
  sendExit: number;
  attempts: Attempt[];
  path?: string;
  connectMs?: number;
  receiverConnectMs?: number;
  fileSha256: string;
  sentSha256?: string;
  receivedSha256?: string;
  /** Client addresses (local and public) found in the server's logs or metrics. */
  addressesInServerOutput: string[];
  /** Local addresses of one side found on the other side's wire (only with `capture`). */
  localAddressesOnPeerWire?: string[];
  /** Positive control of the capture: each client's wire shows its own local address. */
  captureSeesOwnAddress?: boolean;
  /** Punch datagrams each client sent on its wire during the first send (only with `capture`). */
  punchDatagrams?: { alice: PunchDatagrams; bob: PunchDatagrams };
  /** How many LAN probes the stranger answered (only with `stranger`). */
  strangerProbes?: number;
  sendStderr: string;
  /** Path and connect time of every send (the first is the one above). */
  connects: Connect[];
}

const STRANGER = fileURLToPath(new URL('../stranger.js', import.meta.url));
/** How long each step of a scenario may take before the row fails. */
const STEP_TIMEOUT_MS = { start: 10_000, ready: 15_000, send: 60_000, received: 15_000 } as const;
const PASSWORD = 'lab-password-not-secret';
/** Bob's peer socket port when a stranger mimics him: both must hold the same local endpoint. */
const BOB_UDP_PORT = 41000;

function topologyOf(s: Scenario): TopologySpec {
  const base = findTopology(s.topology);
  if (!base) throw new Error(`no topology ${s.topology}`);
  return s.delayMs ? withDelay(base, s.delayMs) : base;
}

/** Every address that identifies a client: LAN addresses, and public ones of routers and public hosts. */
function clientAddresses(spec: TopologySpec): string[] {
  const hosts = spec.hosts.filter((h) => h.role !== 'server');
  const lan = hosts.flatMap((h) => (h.v6 ? [h.v4, h.v6] : [h.v4]));
  const routers = spec.routers.flatMap((r) => [
    r.wan.v4,
    ...(r.wan.v6 ? [r.wan.v6] : []),
    ...(r.nat.kind === 'pool' ? r.nat.addresses : []),
  ]);
  return [...new Set([...lan, ...routers])];
}

function attemptsOf(lines: readonly JsonLine[]): Attempt[] {
  return lines
    .filter((l) => l.event === 'attempt')
    .map((l) => ({
      path: String(l.path),
      ok: l.ok === true,
      ms: Number(l.ms),
      reason: typeof l.reason === 'string' ? l.reason : null,
    }));
}

/** One `send`: the path and connect time it reported, or why it failed. */
export interface Connect {
  path: string | null;
  ms: number | null;
  exit: number;
  error?: string;
}

function connectOf(send: { exitCode: number; lines: readonly JsonLine[]; stderr: string }): Connect {
  const connected = send.lines.find((l) => l.event === 'connected');
  const base = connected
    ? { path: String(connected.path), ms: Number(connected.ms), exit: send.exitCode }
    : { path: null, ms: null, exit: send.exitCode };
  return send.exitCode === 0 ? base : { ...base, error: send.stderr.trim().slice(0, 500) };
}

export async function runScenario(s: Scenario): Promise<ScenarioResult> {
  const spec = topologyOf(s);
  const lab = new Lab(spec);
  const dir = await mkdtemp(join(tmpdir(), 'buddylab-matrix-'));
  const started: CliProcess[] = [];
  try {
    await lab.up();
    const serverSpec = spec.hosts.find((h) => h.role === 'server');
    if (!serverSpec?.v6) throw new Error(`${spec.name}: no server host with IPv4 and IPv6`);
    const serverIp = s.ipv6 ? `[${serverSpec.v6}]` : serverSpec.v4;
    const serverHost = s.ipv6 ? '::' : serverSpec.v4;
    const server = CliProcess.spawn(
      lab,
      'server',
      [
        'server',
        '--json',
        '--host',
        serverHost,
        '--port',
        '0',
        '--data',
        ':memory:',
        '--log-level',
        'debug',
        ...(s.serverArgs ?? []),
      ],
      {},
    );
    started.push(server);
    const listening = await server.waitForEvent('listening', STEP_TIMEOUT_MS.start);
    if (!listening) throw new Error(`server did not start: ${server.stderr}`);
    const port = new URL(String(listening.ws)).port;
    const serverUrl = `ws://${serverIp}:${port}`;
    const httpPort = new URL(String(listening.http)).port;
    const env = (user: string): NodeJS.ProcessEnv => ({
      BUDDYLINK_SERVER: serverUrl,
      BUDDYLINK_HOME: join(dir, user),
      BUDDYLINK_PASSWORD: PASSWORD,
      ...(s.stranger && user === 'bob' ? { BUDDYLINK_UDP_PORT: String(BOB_UDP_PORT) } : {}),
    });

    const must = async (host: string, args: string[]): Promise<void> => {
      const r = await runCli(lab, host, [...args, '--json'], env(host));
      if (r.exitCode !== 0)
        throw new Error(`${host}: buddylink ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
    };
    await Promise.all([
      must('alice', ['account', 'create', 'alice']),
      must('bob', ['account', 'create', 'bob']),
    ]);
    await must('alice', ['buddy', 'add', 'bob']);
    await must('bob', ['buddy', 'accept', 'alice']);

    const file = join(dir, 'payload.bin');
    const payload = randomBytes(s.fileBytes ?? 1 << 20);
    await writeFile(file, payload);
    const fileSha256 = createHash('sha256').update(payload).digest('hex');

    const sends = Math.max(1, s.sends ?? 1);
    let stranger: CliProcess | undefined;
    if (s.stranger) {
      stranger = new CliProcess(lab.spawn('stranger', ['node', STRANGER, '--port', String(BOB_UDP_PORT)]));
      started.push(stranger);
      if (!(await stranger.waitForEvent('bound', STEP_TIMEOUT_MS.start)))
        throw new Error(`stranger: ${stranger.stderr}`);
    }

    const startReceiver = async (once: boolean): Promise<CliProcess> => {
      const receiver = CliProcess.spawn(
        lab,
        'bob',
        ['receive', '--out', join(dir, 'inbox'), ...(once ? ['--once'] : []), '--json'],
        env('bob'),
      );
      started.push(receiver);
      if (!(await receiver.waitForEvent('ready', STEP_TIMEOUT_MS.ready)))
        throw new Error(`receive not ready: ${receiver.stderr}`);
      return receiver;
    };
    const receiver = await startReceiver(sends === 1 || s.receiverPerSend === true);

    const captures = s.capture
      ? await Promise.all([
          Capture.start(lab, 'alice', join(dir, 'alice.pcap')),
          Capture.start(lab, 'bob', join(dir, 'bob.pcap')),
        ])
      : [];

    const send = await runCli(
      lab,
      'alice',
      ['send', 'bob', file, '--json', ...(s.sendArgs ?? [])],
      env('alice'),
      STEP_TIMEOUT_MS.send,
    );
    const received =
      send.exitCode === 0 ? await receiver.waitForEvent('received', STEP_TIMEOUT_MS.received) : undefined;
    const receiverConnected = receiver.lines.find((l) => l.event === 'connected');

    let localAddressesOnPeerWire: string[] | undefined;
    let captureSeesOwnAddress: boolean | undefined;
    let punchDatagrams: ScenarioResult['punchDatagrams'];
    if (captures.length === 2) {
      const [aliceWire, bobWire] = await Promise.all(captures.map((c) => c.stop()));
      // Only addresses behind a NAT are local ones; a public host's address is its global one.
      const local = (name: string) =>
        spec.hosts.filter((h) => h.name === name && h.on !== INTERNET).map((h) => h.v4);
      localAddressesOnPeerWire = [
        ...addressesSeen(bobWire!, local('alice')),
        ...addressesSeen(aliceWire!, local('bob')),
      ];
      captureSeesOwnAddress =
        addressesSeen(aliceWire!, local('alice')).length === local('alice').length &&
        addressesSeen(bobWire!, local('bob')).length === local('bob').length;
      const v4Of = (name: string) => spec.hosts.find((h) => h.name === name)?.v4 ?? '';
      punchDatagrams = {
        alice: punchDatagramsFrom(aliceWire!, v4Of('alice')),
        bob: punchDatagramsFrom(bobWire!, v4Of('bob')),
      };
    }

    const connects = [connectOf(send)];
    for (let i = 2; i <= sends; i++) {
      const fresh = s.receiverPerSend ? await startReceiver(true) : undefined;
      const again = await runCli(
        lab,
        'alice',
        ['send', 'bob', file, '--json', ...(s.sendArgs ?? [])],
        env('alice'),
        STEP_TIMEOUT_MS.send,
      );
      if (again.exitCode === 0) {
        if (fresh) await fresh.waitForEvent('received', STEP_TIMEOUT_MS.received);
        else await receiver.waitForNth('received', i, STEP_TIMEOUT_MS.received);
      }
      await fresh?.stop();
      connects.push(connectOf(again));
    }

    const metrics = await lab.exec(
      'server',
      [
        'node',
        '-e',
        `fetch('http://${serverIp}:${httpPort}/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))`,
      ],
      { allowFailure: true },
    );
    await server.stop();
    const serverOutput = `${server.stdout}\n${server.stderr}\n${metrics.stdout}`;
    const connected = send.lines.find((l) => l.event === 'connected');
    const sent = send.lines.find((l) => l.event === 'sent');
    return {
      topology: spec.name,
      delayMs: s.delayMs ?? 0,
      sendExit: send.exitCode,
      attempts: attemptsOf(send.lines),
      ...(connected ? { path: String(connected.path), connectMs: Number(connected.ms) } : {}),
      ...(receiverConnected ? { receiverConnectMs: Number(receiverConnected.ms) } : {}),
      fileSha256,
      ...(sent ? { sentSha256: String(sent.sha256) } : {}),
      ...(received ? { receivedSha256: String(received.sha256) } : {}),
      addressesInServerOutput: clientAddresses(spec).filter((a) => serverOutput.includes(a)),
      ...(localAddressesOnPeerWire ? { localAddressesOnPeerWire, captureSeesOwnAddress } : {}),
      ...(punchDatagrams ? { punchDatagrams } : {}),
      ...(stranger ? { strangerProbes: stranger.lines.filter((l) => l.event === 'probe').length } : {}),
      sendStderr: send.stderr,
      connects,
    };
  } finally {
    await Promise.all(started.map((p) => p.stop()));
    await lab.down();
    await rm(dir, { recursive: true, force: true });
    await assertNothingLeft(lab);
  }
}
