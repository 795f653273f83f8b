import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { TestServices } from '../store/services.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const CLUSTER_SECRET = 'test-cluster-secret-0123456789';

/** A server node in a process of its own, as an operator runs it: `buddylink server --postgres --redis`. */
export interface NodeProcess {
  nodeId: string;
  child: ChildProcess;
  urls: { ws: string; http: string; stun: string };
  stderr: () => string;
}

export interface NodeSettings {
  redis?: string;
  onlineTtlSeconds?: number;
  extra?: string[];
}

/** Starts a node; `keep` gets it as soon as it listens, so that an after() hook stops it whatever else fails. */
export async function spawnNode(
  services: TestServices,
  nodeId: string,
  s: NodeSettings = {},
  keep?: NodeProcess[],
): Promise<NodeProcess> {
  const args = [
    ...['server', '--json', '--host', '127.0.0.1', '--port', '0', '--stun-port', '0', '--http-port', '0'],
    ...['--log-level', 'warn', '--node-id', nodeId, '--cluster-prefix', services.redisPrefix],
    ...['--online-ttl', String(s.onlineTtlSeconds ?? 15), ...(s.extra ?? [])],
  ];
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: {
      ...process.env,
      BUDDYLINK_POSTGRES: services.postgres,
      BUDDYLINK_REDIS: s.redis ?? services.redis,
      BUDDYLINK_CLUSTER_SECRET: CLUSTER_SECRET,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${nodeId}: no listening line; ${err}`));
    }, 15_000);
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.split('\n')[0] ?? '');
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node ${nodeId} exited ${code}: ${err}`));
    });
  });
  const listening = JSON.parse(line) as { ws: string; http: string; stun: string };
  const node: NodeProcess = {
    nodeId,
    child,
    urls: { ws: listening.ws, http: listening.http, stun: listening.stun },
    stderr: () => err,
  };
  keep?.push(node);
  return node;
}

/** SIGTERM and wait; SIGKILL when it does not go within 5 s. */
export async function stopNode(node: NodeProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  const exited = once(node.child, 'exit');
  node.child.kill(signal);
  const timer = setTimeout(() => node.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export async function healthOf(
  node: NodeProcess,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${node.urls.http}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
