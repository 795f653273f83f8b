import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';

/** Where a node takes the other nodes' links, on its WebSocket port. */
export const LINK_PATH = '/cluster/link';

/** A link's proof of the shared secret is good this long (clocks of the nodes may differ by as much). */
const PROOF_WINDOW_MS = 60_000;
/** A link not open within this time is given up; the next message tries again. */
const OPEN_TIMEOUT_MS = 3000;
/** A link that failed is not tried again for this long (its node may be down): Redis carries meanwhile. */
const RETRY_MS = 1000;
/** Bytes unsent on a link beyond which messages go through Redis instead: a stalled node costs no memory. */
const HIGH_WATER_BYTES = 8 * 1024 * 1024;
/** A link message is one bus message; the bus's own limits apply after parsing. */
const MAX_MESSAGE_BYTES = 256 * 1024;

export interface NodeLinksOptions {
  nodeId: string;
  secret: Buffer;
  /** The WebSocket URL another node advertised (relay-route.ts), or undefined when it is not known. */
  urlOf(node: string): Promise<string | undefined>;
  /** A message another node sent on its link to this one: a bus message, parsed by the bus. */
  receive(text: string): void;
  log: { warn(o: object, m: string): void };
}

/**
 * Direct WebSockets between the nodes, for the messages on the hot path (events for another node's
 * connections: signals and presence). Through Redis's pub/sub each of them crossed two hops between
 * processes (publisher → Redis → subscriber); a link is one, which is what keeps a signal across nodes
 * close to one on a single node. Each node opens its own link to each node it sends to, on first use;
 * until it is open (and whenever it is not) `send` says so and the caller uses Redis.
 *
 * The linking node proves it knows the shared secret with an HMAC over both node ids and the time; the
 * links are trusted infrastructure like Redis (keep them on the nodes' private network).
 */
export class NodeLinks {
  readonly #o: NodeLinksOptions;
  /** Outgoing links by node; 'opening' while the node's URL is looked up. */
  readonly #out = new Map<string, WebSocket | 'opening'>();
  /** When a link to a node last failed: it is not tried again for RETRY_MS. */
  readonly #failed = new Map<string, number>();
  readonly #inbound = new Set<WebSocket>();
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  #closed = false;
  /** Messages sent on links, for the gauges and the tests. */
  sent = 0;

  constructor(options: NodeLinksOptions) {
    this.#o = options;
  }

  /** Writes on the open link to `node`; false (and the link is being opened) when there is none. */
  send(node: string, text: string): boolean {
    const link = this.#out.get(node);
    if (
      link instanceof WebSocket &&
      link.readyState === WebSocket.OPEN &&
      link.bufferedAmount < HIGH_WATER_BYTES
    ) {
      link.send(text);
      this.sent++;
      return true;
    }
    if (link === undefined) this.warm(node);
    return false;
  }

  /** Opens a link to `node` ahead of need (a node newly seen alive). */
  warm(node: string): void {
    if (node === this.#o.nodeId || this.#out.has(node) || this.#closed) return;
    if (Date.now() - (this.#failed.get(node) ?? 0) < RETRY_MS) return;
    void this.#open(node);
  }

  /** Nodes this one has an open link to. */
  get open(): string[] {
    return [...this.#out]
      .filter(([, ws]) => ws instanceof WebSocket && ws.readyState === WebSocket.OPEN)
      .map(([node]) => node);
  }

  /** An upgrade on LINK_PATH: accepted when it proves the secret and names this node. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const from = header(req, 'x-buddylink-node');
    const at = Number(header(req, 'x-buddylink-time'));
    const proof = header(req, 'x-buddylink-proof');
    const fresh = Number.isFinite(at) && Math.abs(Date.now() - at) <= PROOF_WINDOW_MS;
    if (this.#closed || !from || !proof || !fresh || !this.#proofMatches(proof, from, this.#o.nodeId, at)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#inbound.add(ws);
      ws.on('message', (data, isBinary) => {
        if (!isBinary) this.#o.receive(data.toString());
      });
      ws.on('error', () => {});
      ws.on('close', () => this.#inbound.delete(ws));
    });
  }

  close(): void {
    this.#closed = true;
    for (const ws of [...this.#out.values(), ...this.#inbound]) if (ws instanceof WebSocket) ws.terminate();
    this.#out.clear();
    this.#inbound.clear();
  }

  async #open(node: string): Promise<void> {
    // Claimed before the first await, so that one link per node is opened, not one per message.
    this.#out.set(node, 'opening');
    const url = await this.#o.urlOf(node).catch(() => undefined);
    if (!url || this.#closed) {
      this.#out.delete(node);
      this.#failed.set(node, Date.now());
      return;
    }
    const at = Date.now();
    const ws = new WebSocket(new URL(LINK_PATH, url), {
      perMessageDeflate: false,
      handshakeTimeout: OPEN_TIMEOUT_MS,
      headers: {
        'x-buddylink-node': this.#o.nodeId,
        'x-buddylink-time': String(at),
        'x-buddylink-proof': this.#proof(this.#o.nodeId, node, at),
      },
    });
    this.#out.set(node, ws);
    ws.on('error', (err) => this.#o.log.warn({ node, err: err.message }, 'node link failed'));
    ws.on('close', () => {
      if (this.#out.get(node) !== ws) return;
      this.#out.delete(node);
      this.#failed.set(node, Date.now());
    });
    // Nothing comes back on a link: what the other node sends us travels on its own link.
    ws.on('message', () => ws.terminate());
  }

  #proof(from: string, to: string, at: number): string {
    return createHmac('sha256', this.#o.secret)
      .update(`buddylink node link\n${from}\n${to}\n${at}`)
      .digest('hex');
  }

  #proofMatches(proof: string, from: string, to: string, at: number): boolean {
    const want = Buffer.from(this.#proof(from, to, at));
    const got = Buffer.from(proof);
    return got.length === want.length && timingSafeEqual(got, want);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value.length <= 256 ? value : undefined;
}
