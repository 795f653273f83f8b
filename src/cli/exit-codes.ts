/** The CLI's exit codes: a contract that scripts outside the project rely on (README, `--help`). */
export const EXIT = {
  ok: 0,
  other: 1,
  usage: 2,
  auth: 3,
  /** Not a buddy, offline, or the receiver declined the transfer. */
  notBuddyOrOffline: 4,
  /** No path worked, or the transfer cannot fit the relay's budget and no direct path exists. */
  noPath: 5,
  /** Stopped by Ctrl-C (128 + SIGINT); what arrived is kept for a resume. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_HELP = `Exit codes:
  0    done
  1    other failure (transfer broke, disk full, …)
  2    usage: wrong arguments or options, a file to send is missing or unreadable
  3    authentication: not logged in, wrong password, expired session
  4    not a buddy, buddy offline, or the receiver declined
  5    no path to the buddy worked, or the transfer does not fit the relay budget
  130  interrupted (Ctrl-C); an interrupted transfer resumes when sent again`;
