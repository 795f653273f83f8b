import { run, runSyncQuiet } from './command.js';
import { NFT_TABLE } from './nft.js';
import { LAB_DEFAULTS } from './options.js';

/**
 * Teardown that always happens: every live lab registers here; SIGINT/SIGTERM tear all of them down
 * before the process exits, and a last synchronous pass at 'exit' deletes whatever is left.
 */

export interface Teardownable {
  readonly namespaces: readonly string[];
  down(): Promise<void>;
  /** Kill children and delete namespaces without awaiting anything (for the 'exit' event). */
  downSync(): void;
}

const live = new Set<Teardownable>();
let installed = false;

function onSignal(signal: NodeJS.Signals): void {
  const code = signal === 'SIGINT' ? 130 : 143;
  const all = [...live];
  Promise.allSettled(all.map((l) => l.down())).finally(() => process.exit(code));
}

function onExit(): void {
  for (const l of live) l.downSync();
  live.clear();
}

export function registerLab(lab: Teardownable): void {
  live.add(lab);
  if (installed) return;
  installed = true;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
}

export function unregisterLab(lab: Teardownable): void {
  live.delete(lab);
  if (live.size > 0 || !installed) return;
  // With no lab alive, give the signals back to their default behaviour.
  installed = false;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('exit', onExit);
}

/** Names of network namespaces whose name starts with `prefix`. */
export async function listNamespaces(prefix: string = LAB_DEFAULTS.namespacePrefix): Promise<string[]> {
  const { stdout } = await run(['ip', 'netns', 'list'], { allowFailure: true });
  return parseNetnsList(stdout).filter((n) => n.startsWith(prefix));
}

export function parseNetnsList(text: string): string[] {
  // `ip netns list` prints "name" or "name (id: 3)" per line.
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0);
}

/** Kill every process still inside `ns`, then delete it (its veths, bridges and nft tables go with it). */
export async function deleteNamespace(ns: string): Promise<void> {
  const { stdout } = await run(['ip', 'netns', 'pids', ns], { allowFailure: true });
  for (const pid of stdout.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await run(['ip', 'netns', 'del', ns], { allowFailure: true });
}

export function deleteNamespaceSync(ns: string): void {
  const pids = runSyncQuiet(['ip', 'netns', 'pids', ns]);
  for (const pid of pids.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  runSyncQuiet(['ip', 'netns', 'del', ns]);
}

/** `lab down`: remove every namespace any buddylink lab left behind. Returns their names. */
export async function downAll(prefix: string = LAB_DEFAULTS.namespacePrefix): Promise<string[]> {
  const names = await listNamespaces(prefix);
  await Promise.all(names.map((n) => deleteNamespace(n)));
  return names;
}

/** Throws unless nothing of a run is left: no namespace with its prefix, no lab table in the root. */
export async function assertNothingLeft(lab: { names: { namespacePrefix: string } }): Promise<void> {
  const left = await listNamespaces(lab.names.namespacePrefix);
  if (left.length > 0) throw new Error(`namespaces left behind: ${left.join(', ')}`);
  const tables = (await rootNftTables()).filter((t) => t.includes(NFT_TABLE));
  if (tables.length > 0) throw new Error(`lab nft tables in the root namespace: ${tables.join(', ')}`);
}

/** The nftables tables of the root namespace (the lab must never add one there). */
export async function rootNftTables(): Promise<string[]> {
  const { stdout } = await run(['nft', 'list', 'tables'], { allowFailure: true });
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}
