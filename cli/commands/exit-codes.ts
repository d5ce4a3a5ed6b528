/**
 * Exit codes of the client commands. A command that waits for a job exits with the job's
 * outcome; any other command exits 0 when it did what was asked.
 */
export const CLIENT_EXIT = {
  /** Done; for a waited job: it completed. */
  ok: 0,
  /** The job failed, or a request failed (API error, API unreachable). */
  failed: 1,
  /** Bad command line: unknown command or option, missing or invalid argument. */
  usage: 2,
  /** The job was cancelled. */
  cancelled: 3,
  /** Not signed in, or the credentials are invalid or lack a scope or role (401/403). */
  auth: 4,
  /** Stopped watching on Ctrl-C without cancelling; the job goes on (128 + SIGINT). */
  detached: 130,
} as const;

export type ClientExitCode = (typeof CLIENT_EXIT)[keyof typeof CLIENT_EXIT];
