/** Errors of the client commands that carry their exit code. */
import { CLIENT_EXIT } from './exit-codes.ts';

/** A problem with the command line itself (exit 2). */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = CLIENT_EXIT.usage;
}

/** A command that cannot go on, with the exit code to leave with. */
export class CommandFailure extends Error {
  override name = 'CommandFailure';
  constructor(
    message: string,
    readonly exitCode: number = CLIENT_EXIT.failed,
  ) {
    super(message);
  }
}
