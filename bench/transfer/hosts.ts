import type { ChildProcess } from 'node:child_process';
import type { CommandResult, RunOptions } from '../../lab/command.js';
import type { World } from '../lab-bench/world.js';
import type { LoopbackHost } from './loopback-host.js';

/**
 * Where the transfer benchmarks run their programs: the three roles of a file transfer (the
 * servers, the sender alice, the receiver bob) in one loopback namespace or in the lab's hosts.
 * The same measuring code then serves loopback and the lab LAN.
 */

export type Role = 'server' | 'alice' | 'bob';

export interface Hosts {
  /** Where the roles are, for reports. */
  readonly where: string;
  spawn(role: Role, argv: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess;
  exec(role: Role, argv: readonly string[], opts?: RunOptions): Promise<CommandResult>;
}

export function loopbackHosts(host: LoopbackHost): Hosts {
  return {
    where: 'loopback',
    spawn: (_role, argv, env) => host.spawn(argv, env),
    exec: (_role, argv, opts) => host.exec(argv, opts),
  };
}

export function labHosts(world: World): Hosts {
  return {
    where: `lab ${world.lab.spec.name}`,
    spawn: (role, argv, env) => world.lab.spawn(role, argv, env ? { env } : {}),
    exec: (role, argv, opts) => world.lab.exec(role, argv, opts),
  };
}
