import { LAB_ADDRESSES, LAB_PORTS } from '../lab-bench/options.js';
import { World } from '../lab-bench/world.js';
import { startBuddylinkServer } from './buddylink-cli.js';
import { type Hosts, labHosts, loopbackHosts } from './hosts.js';
import { LoopbackHost } from './loopback-host.js';

/**
 * Where a file-transfer benchmark runs: a namespace with only loopback, or the NAT lab's one-nat
 * topology (alice and bob on one LAN behind one NAT, the servers on the lab internet). Either way
 * the buddylink server is up; `close()` removes every namespace and process, also after a failure.
 */
export interface Place {
  readonly name: string;
  /** The lab run id or the namespace, for logs (and for the smoke tests' leftover check). */
  readonly id: string;
  readonly hosts: Hosts;
  /** The buddylink server's WebSocket URL and STUN host:port. */
  readonly ws: string;
  readonly stun: string;
  /** Where other servers (wormhole's) listen, and where bob can be reached by alice. */
  readonly serverAddress: string;
  readonly bobAddress: string;
  /** The buddylink server's process, where this place can read its CPU time (loopback). */
  readonly serverPid?: number;
  close(): Promise<void>;
}

export async function openLoopback(): Promise<Place> {
  const host = await LoopbackHost.open();
  try {
    const hosts = loopbackHosts(host);
    const { ws, stun, server } = await startBuddylinkServer(hosts, '127.0.0.1');
    const serverPid = server.child.pid;
    return {
      name: 'loopback',
      id: host.runId,
      hosts,
      ws,
      stun,
      serverAddress: '127.0.0.1',
      bobAddress: '127.0.0.1',
      ...(serverPid !== undefined ? { serverPid } : {}),
      close: () => host.down(),
    };
  } catch (error) {
    await host.down();
    throw error;
  }
}

/** The lab LAN; `shapeRate` (e.g. '1gbit') shapes both directions of each client's LAN link. */
export async function openLabLan(options: { shapeRate?: string } = {}): Promise<Place> {
  const world = await World.open({
    topology: 'one-nat',
    delayMs: 0,
    globalAddressTtlMs: 20_000,
    agents: false,
    ...(options.shapeRate ? { shapeLanRate: options.shapeRate } : {}),
  });
  return {
    name: options.shapeRate ? `lab LAN shaped to ${options.shapeRate}` : 'lab LAN',
    id: world.lab.runId,
    hosts: labHosts(world),
    ws: world.serverUrl,
    stun: `${LAB_ADDRESSES.server}:${LAB_PORTS.stun}`,
    serverAddress: LAB_ADDRESSES.server,
    bobAddress: LAB_ADDRESSES.bobOnLan,
    close: () => world.close(),
  };
}
