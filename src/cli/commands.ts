import type { Command } from 'commander';
import { registerAccount } from './account.js';
import { registerBuddy } from './buddy.js';
import { registerChat } from './chat.js';
import { registerDoctor } from './doctor.js';
import { withGlobals } from './globals.js';
import { registerJudge } from './judge.js';
import { registerLogin } from './login.js';
import { registerLogout } from './logout.js';
import { registerReceive } from './receive.js';
import { registerSend } from './send.js';
import { registerWhoami } from './whoami.js';

/**
 * Registers every client command (account, login, logout, buddy, whoami, judge, send, receive, chat, doctor).
 * The global options are accepted before the command name too (`buddylink --json whoami`); the
 * program parses options positionally so `buddylink server --json` stays the server's own flag.
 */
export function registerClientCommands(program: Command): void {
  program.enablePositionalOptions();
  withGlobals(program);
  registerAccount(program);
  registerLogin(program);
  registerLogout(program);
  registerBuddy(program);
  registerWhoami(program);
  registerJudge(program);
  registerSend(program);
  registerReceive(program);
  registerChat(program);
  registerDoctor(program);
}
