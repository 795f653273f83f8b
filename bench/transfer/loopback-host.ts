import { type ChildProcess, spawn } from 'node:child_process';
import {
  deleteNamespace,
  deleteNamespaceSync,
  registerLab,
  type Teardownable,
  unregisterLab,
} from '../../lab/cleanup.js';
import { type CommandResult, inNamespace, type RunOptions, run } from '../../lab/command.js';
import { RunNames } from '../../lab/names.js';

/**
 * A network namespace that holds nothing but `lo`, for the loopback benchmarks: every peer (ours,
 * iperf3, magic-wormhole) can only reach 127.0.0.0/8, so none offers or dials the machine's real
 * interfaces (both tools advertise every interface address they find). Named like a lab namespace, so
 * `npm run lab -- down` finds a leftover; torn down on SIGINT/SIGTERM and at exit like a lab.
 */
export class LoopbackHost implements Teardownable {
  private readonly children = new Set<ChildProcess>();
  private downing: Promise<void> | undefined;

  private constructor(
    readonly ns: string,
    readonly runId: string,
  ) {}

  static async open(): Promise<LoopbackHost> {
    if (process.getuid?.() !== 0) throw new Error('the loopback benchmarks need root (a network namespace)');
    const names = new RunNames();
    const host = new LoopbackHost(names.namespace('loopback'), names.runId);
    registerLab(host);
    try {
      await run(['ip', 'netns', 'add', host.ns]);
      await host.exec(['ip', 'link', 'set', 'lo', 'up']);
    } catch (error) {
      await host.down();
      throw error;
    }
    return host;
  }

  get namespaces(): string[] {
    return [this.ns];
  }

  exec(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    return run(inNamespace(this.ns, argv), opts);
  }

  spawn(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
    const [file, ...args] = inNamespace(this.ns, argv);
    const child = spawn(file!, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  down(): Promise<void> {
    this.downing ??= (async () => {
      for (const child of this.children) child.kill('SIGKILL');
      await deleteNamespace(this.ns);
      unregisterLab(this);
    })();
    return this.downing;
  }

  downSync(): void {
    for (const child of this.children) child.kill('SIGKILL');
    deleteNamespaceSync(this.ns);
  }
}
