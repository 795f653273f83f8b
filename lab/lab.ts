import { type ChildProcess, spawn as spawnProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  deleteNamespace,
  deleteNamespaceSync,
  registerLab,
  type Teardownable,
  unregisterLab,
} from './cleanup.js';
import { type CommandResult, inNamespace, LabCommandError, type RunOptions, run } from './command.js';
import { RunNames } from './names.js';
import { LAB_DEFAULTS } from './options.js';
import { type DelayMode, type LabPlan, OPTIONAL_SYSCTLS, planLab } from './plan.js';
import { INTERNET, type TopologySpec } from './topology.js';

export interface LabSpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * A built topology: namespaces with real veths, bridges and NAT rules. Run commands inside its hosts
 * with `exec` / `spawn`; `down()` removes everything (also on SIGINT/SIGTERM and at process exit).
 */
export class Lab implements Teardownable {
  readonly names: RunNames;
  readonly spec: TopologySpec;
  plan: LabPlan;
  private readonly children = new Set<ChildProcess>();
  private downing: Promise<void> | undefined;

  constructor(spec: TopologySpec, names: RunNames = new RunNames()) {
    this.spec = spec;
    this.names = names;
    this.plan = planLab(spec, names);
  }

  get runId(): string {
    return this.names.runId;
  }

  get namespaces(): string[] {
    return this.plan.nodes.map((n) => n.ns);
  }

  /** The namespace of a node (host, router, or 'internet' for the core). */
  namespaceOf(node: string): string {
    const plan = this.plan.nodes.find((n) => n.name === node);
    if (!plan) throw new RangeError(`no node ${node} in topology ${this.spec.name}`);
    return plan.ns;
  }

  /** argv that runs `argv` inside `node`, for people and for other tools. */
  argvIn(node: string, argv: readonly string[]): string[] {
    return inNamespace(this.namespaceOf(node), argv);
  }

  /** An interface name of this run (e.g. 'eth0' of hosts, 'wan' / 'lan' of routers). */
  iface(label: string): string {
    return this.names.iface(label);
  }

  exec(node: string, argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    return run(this.argvIn(node, argv), opts);
  }

  /** A long-running program inside `node`; killed by `down()` if still running. */
  spawn(node: string, argv: readonly string[], opts: LabSpawnOptions = {}): ChildProcess {
    const [file, ...args] = this.argvIn(node, argv);
    const child = spawnProcess(file!, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  async up(): Promise<this> {
    registerLab(this);
    try {
      if (this.plan.delayMs > 0) this.plan = planLab(this.spec, this.names, await chooseDelayMode());
      await this.build();
    } catch (err) {
      await this.down();
      throw err;
    }
    return this;
  }

  private async build(): Promise<void> {
    const { nodes, links, delayMs } = this.plan;
    await run(['ip', '-batch', '-'], { input: nodes.map((n) => `netns add ${n.ns}\n`).join('') });
    await Promise.all(
      nodes.map(async (n) => {
        await run(inNamespace(n.ns, ['sysctl', '-q', '-w', ...n.sysctls]));
        // br_netfilter's switches exist only when that module is in the kernel: best effort.
        await run(inNamespace(n.ns, ['sysctl', '-q', '-w', ...OPTIONAL_SYSCTLS]), { allowFailure: true });
      }),
    );
    // Both ends are created directly in their namespaces: the root namespace never holds a lab interface.
    const linkLines = links.map(
      (l) => `link add ${l.a.ifname} netns ${l.a.ns} type veth peer name ${l.b.ifname} netns ${l.b.ns}\n`,
    );
    if (linkLines.length > 0) await run(['ip', '-batch', '-'], { input: linkLines.join('') });
    // Segment owners (core, routers) first: their bridges must exist before ports join them.
    const owners = nodes.filter((n) => n.kind !== 'host');
    await Promise.all(
      owners.map((n) =>
        this.configure(
          n.ns,
          n.ipLines.filter((l) => !l.startsWith('route')),
        ),
      ),
    );
    await Promise.all(nodes.map((n) => this.configure(n.ns, n.kind === 'host' ? n.ipLines : [])));
    await Promise.all(
      owners.map((n) =>
        this.configure(
          n.ns,
          n.ipLines.filter((l) => l.startsWith('route')),
        ),
      ),
    );
    await Promise.all(
      nodes
        .filter((n) => n.nft !== undefined)
        .map((n) => run(inNamespace(n.ns, ['nft', '-f', '-']), { input: n.nft! })),
    );
    if (delayMs > 0) await this.addDelay(delayMs);
    await this.waitForLinks();
  }

  /**
   * The kernel activates a new link's queue from linkwatch, up to a second after carrier comes up;
   * until then the link silently drops what is sent. Wait until every link has left 'noop'.
   */
  private async waitForLinks(): Promise<void> {
    const deadline = Date.now() + LAB_DEFAULTS.linkUpTimeoutMs;
    for (;;) {
      const pending = await Promise.all(
        this.plan.nodes.map(async (n) => {
          const { stdout } = await run(['ip', '-n', n.ns, '-o', 'link', 'show']);
          return stdout
            .split('\n')
            .filter((l) => l.includes(' qdisc noop ') || / state (DOWN|LOWERLAYERDOWN) /.test(l));
        }),
      );
      const down = pending.flat();
      if (down.length === 0) return;
      if (Date.now() > deadline)
        throw new LabCommandError(['ip', 'link'], null, `links not up: ${down.join('; ')}`);
      await new Promise((r) => setTimeout(r, LAB_DEFAULTS.linkPollMs));
    }
  }

  private async configure(ns: string, lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    await run(['ip', '-n', ns, '-batch', '-'], { input: lines.map((l) => `${l}\n`).join('') });
  }

  private async addDelay(delayMs: number): Promise<void> {
    if (this.plan.delayMode === 'netem') {
      const netem = (ns: string, dev: string) =>
        run(['tc', '-n', ns, 'qdisc', 'add', 'dev', dev, 'root', 'netem', 'delay', `${delayMs}ms`]);
      await Promise.all(this.plan.nodes.flatMap((n) => n.delayed.map((dev) => netem(n.ns, dev))));
      return;
    }
    const pairs = this.plan.wires.map(([from, towards]) => `${from}:${towards}`);
    const wire = this.spawn(INTERNET, ['python3', DELAY_WIRE, String(delayMs), ...pairs]);
    await new Promise<void>((resolve, reject) => {
      let said = '';
      const timer = setTimeout(
        () => reject(new LabUnsupportedError(`delay wire did not start: ${said}`)),
        5_000,
      );
      wire.stderr?.on('data', (chunk: Buffer) => {
        said += chunk.toString('utf8');
      });
      wire.stdout?.on('data', (chunk: Buffer) => {
        if (!chunk.toString('utf8').includes('"ready"')) return;
        clearTimeout(timer);
        resolve();
      });
      wire.once('exit', (code) => {
        clearTimeout(timer);
        reject(new LabUnsupportedError(`delay wire exited (${code}): ${said}`));
      });
    });
  }

  /** Stop every process, delete every namespace of this run; safe to call more than once. */
  down(): Promise<void> {
    this.downing ??= this.teardown();
    return this.downing;
  }

  private async teardown(): Promise<void> {
    await Promise.all([...this.children].map((c) => stopChild(c)));
    await Promise.all(this.namespaces.map((ns) => deleteNamespace(ns)));
    unregisterLab(this);
  }

  downSync(): void {
    for (const c of this.children) c.kill('SIGKILL');
    for (const ns of this.namespaces) deleteNamespaceSync(ns);
  }
}

/** The lab cannot do what was asked on this machine (missing kernel feature or tool). */
export class LabUnsupportedError extends Error {
  readonly code = 'LAB_UNSUPPORTED';
  constructor(message: string) {
    super(message);
    this.name = 'LabUnsupportedError';
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), LAB_DEFAULTS.killGraceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

const DELAY_WIRE = fileURLToPath(new URL('../../lab/delay-wire.py', import.meta.url));

let delayMode: Promise<DelayMode> | undefined;

/** netem where the kernel has it; else the userspace wire, which needs python3. */
export function chooseDelayMode(): Promise<DelayMode> {
  delayMode ??= (async () => {
    const probe = `${LAB_DEFAULTS.namespacePrefix}probe-${process.pid}`;
    await run(['ip', 'netns', 'add', probe]);
    try {
      const argv = ['tc', '-n', probe, 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'];
      if ((await run(argv, { allowFailure: true })).exitCode === 0) return 'netem';
    } finally {
      await run(['ip', 'netns', 'del', probe], { allowFailure: true });
    }
    const python = await run(['python3', '--version'], { allowFailure: true }).catch(() => undefined);
    if (python?.exitCode !== 0) {
      throw new LabUnsupportedError(
        'delay needs tc netem (CONFIG_NET_SCH_NETEM) or python3 for the delay wire',
      );
    }
    return 'wire';
  })();
  return delayMode;
}

/** Builds `spec` and returns the running lab; on any failure nothing is left behind. */
export function buildLab(spec: TopologySpec, names?: RunNames): Promise<Lab> {
  return new Lab(spec, names).up();
}
