import { type ChildProcess, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertNothingLeft } from '../../lab/cleanup.js';
import type { Lab } from '../../lab/lab.js';
import { LAB_DEFAULTS } from '../../lab/options.js';

/**
 * What the lab tests share: the can-we-run check (skip locally, fail under CI), a driver for the
 * UDP peer inside lab hosts, and the after-run leftovers check.
 */

let cachedReason: string | null | undefined;

/** Why the lab cannot run here, or null when it can. */
export function labUnavailableReason(): string | null {
  if (cachedReason !== undefined) return cachedReason;
  cachedReason = probeLab();
  return cachedReason;
}

function probeLab(): string | null {
  if (process.platform !== 'linux') return 'the NAT lab needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'the NAT lab needs root (network namespaces, nftables)';
  for (const [tool, arg] of [
    ['ip', '-V'],
    ['nft', '--version'],
  ] as const) {
    try {
      execFileSync(tool, [arg], { stdio: 'ignore' });
    } catch {
      return `the NAT lab needs \`${tool}\` (apt install ${tool === 'ip' ? 'iproute2' : 'nftables'})`;
    }
  }
  // Root without the capabilities (an unprivileged container) cannot make namespaces or tables.
  const probe = `${LAB_DEFAULTS.namespacePrefix}check-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'exec', probe, 'nft', 'add', 'table', 'inet', 'probe'], { stdio: 'ignore' });
  } catch {
    return 'the NAT lab cannot create network namespaces and nftables tables here (CAP_NET_ADMIN, CAP_SYS_ADMIN)';
  } finally {
    try {
      execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
    } catch {
      // it was never made
    }
  }
  return null;
}

/**
 * True when the lab can run. Otherwise the test fails under CI=true (CI must prove the NAT claims)
 * and is skipped with the reason elsewhere.
 */
export function requireLab(t: TestContext): boolean {
  const reason = labUnavailableReason();
  if (reason === null) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true but the lab cannot run: ${reason}`);
  t.skip(reason);
  return false;
}

export const UDP_PEER = fileURLToPath(new URL('../../lab/udp-peer.js', import.meta.url));

export interface PeerEvent {
  event: string;
  port?: number;
  from?: string;
  by?: string;
  as?: string;
  n?: number;
}

/** Drives lab/udp-peer.js inside one lab host. */
export class UdpPeer {
  readonly events: PeerEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private nextN = 1;

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as PeerEvent);
      } catch {
        return;
      }
      for (const w of this.waiters) w();
    });
  }

  static async start(lab: Lab, host: string, opts: { port?: number; v6?: boolean } = {}): Promise<UdpPeer> {
    const argv = ['node', UDP_PEER, '--port', String(opts.port ?? 0), ...(opts.v6 ? ['--v6'] : [])];
    const peer = new UdpPeer(lab.spawn(host, argv));
    await peer.waitFor((e) => e.event === 'bound', 5_000);
    return peer;
  }

  get port(): number {
    return this.events.find((e) => e.event === 'bound')?.port ?? 0;
  }

  waitFor(match: (e: PeerEvent) => boolean, timeoutMs: number): Promise<PeerEvent | undefined> {
    const found = this.events.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const check = (): void => {
        const hit = this.events.find(match);
        if (!hit) return;
        done(hit);
      };
      const done = (value: PeerEvent | undefined): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Sends one probe to `target` (with IP TTL `ttl` when given); returns its number. */
  send(target: string, ttl?: number): number {
    const n = this.nextN++;
    this.child.stdin!.write(
      `${JSON.stringify(ttl === undefined ? { probe: target, n } : { probe: target, n, ttl })}\n`,
    );
    return n;
  }

  /**
   * Probes `target` up to `tries` times, `intervalMs` apart, until it answers; returns the address the
   * target saw us as, or undefined when it never answered.
   */
  async probe(target: string, tries = 4, intervalMs = 150): Promise<string | undefined> {
    for (let i = 0; i < tries; i++) {
      const n = this.send(target);
      const seen = await this.waitFor((e) => e.event === 'seen' && e.n === n, intervalMs);
      if (seen?.as) return seen.as;
    }
    const late = await this.waitFor((e) => e.event === 'seen' && e.by === target, intervalMs);
    return late?.as;
  }

  stop(): void {
    this.child.stdin!.end();
    this.child.kill('SIGTERM');
  }
}

/** 'IP' of 'IP:PORT' or '[IP]:PORT'. */
export function hostOf(endpoint: string | undefined): string | undefined {
  return endpoint === undefined ? undefined : /^\[?(.+?)\]?:\d+$/.exec(endpoint)?.[1];
}

/** Runs `body` against a built lab and always tears it down, then checks nothing was left. */
export async function withLab<T>(lab: Lab, body: (lab: Lab) => Promise<T>): Promise<T> {
  await lab.up();
  try {
    return await body(lab);
  } finally {
    await lab.down();
    await assertNothingLeft(lab);
  }
}
