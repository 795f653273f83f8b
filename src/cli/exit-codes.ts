/** The CLI's exit codes: a contract that scripts outside the project rely on. */
export const EXIT = {
  ok: 0,
  other: 1,
  usage: 2,
  auth: 3,
  notBuddyOrOffline: 4,
  noPath: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
