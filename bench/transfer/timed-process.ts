import { readFileSync } from 'node:fs';
import { processCpuSeconds } from '../harness/processes.js';
import { JsonChild, type Line } from '../lab-bench/json-child.js';
import type { Hosts, Role } from './hosts.js';

/**
 * A command under measurement: run by GNU time (whole-command wall and CPU seconds, the program and
 * whatever it waited for), its JSON lines stamped on arrival with the clock and the program's CPU
 * seconds so far (from /proc), so a window between two lines (connected → sent) has both.
 */

export const GNU_TIME = '/usr/bin/time';

export interface Stamp {
  /** performance.now() in this process when the line arrived. */
  at: number;
  /** User + system CPU seconds of the program when the line arrived. */
  cpuSeconds: number;
}

export interface Usage {
  wallSeconds: number;
  userSeconds: number;
  systemSeconds: number;
}

export class TimedProcess {
  readonly startedAt = performance.now();
  private readonly stamps = new WeakMap<Line, Stamp>();
  private programPid: number | undefined;
  readonly child: JsonChild;

  constructor(
    hosts: Hosts,
    role: Role,
    name: string,
    argv: readonly string[],
    private readonly timeFile: string,
    env?: NodeJS.ProcessEnv,
  ) {
    const wrapped = [GNU_TIME, '-f', '%e %U %S', '-o', timeFile, ...argv];
    this.child = new JsonChild(name, hosts.spawn(role, wrapped, env), false);
    this.child.onLine((line) => {
      this.stamps.set(line, { at: performance.now(), cpuSeconds: this.cpuSeconds() });
      if (line.event === 'attempt') this.attempts.push(line);
      return false;
    });
  }

  /** The `attempt` lines so far (the CLI prints one per path it tried, with why it failed). */
  readonly attempts: Line[] = [];

  /** The next line with this event, and when it came. */
  async next(event: string, timeoutMs: number): Promise<{ line: Line; stamp: Stamp }> {
    const line = await this.child.next(event, timeoutMs);
    return { line, stamp: this.stamps.get(line)! };
  }

  /** Waits for the exit; throws unless the program exited 0. Returns when it did. */
  async finished(timeoutMs: number): Promise<number> {
    const code = await this.child.waitForExit(timeoutMs);
    const at = performance.now();
    if (code !== 0) throw new Error(`${this.child.name} exited ${code}: ${this.child.stderrTail}`);
    return at;
  }

  /** GNU time's figures for the whole command (after it exited). */
  usage(): Usage {
    // A failing command gets a "Command exited with non-zero status" line first: the figures are last.
    const last = readFileSync(this.timeFile, 'utf8').trim().split('\n').pop() ?? '';
    const [wall, user, system] = last.split(' ').map(Number);
    if (wall === undefined || user === undefined || system === undefined || Number.isNaN(system))
      throw new Error(`unreadable ${this.timeFile}: ${last}`);
    return { wallSeconds: wall, userSeconds: user, systemSeconds: system };
  }

  stop(): Promise<void> {
    return this.child.stop();
  }

  /** CPU seconds of the program itself: the child of time (ip netns exec has exec'd into time). */
  private cpuSeconds(): number {
    try {
      if (this.programPid === undefined) {
        const wrapper = this.child.child.pid!;
        const children = readFileSync(`/proc/${wrapper}/task/${wrapper}/children`, 'utf8').trim();
        this.programPid = Number(children.split(' ')[0]);
      }
      return processCpuSeconds(this.programPid);
    } catch {
      return Number.NaN;
    }
  }
}
