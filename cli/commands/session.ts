/**
 * What every client command shares: the connection options (`--url`, `--api-key`, `--config`,
 * `--json`), a client built from them, the credentials file, and one place that turns errors
 * into a message and an exit code.
 */
import type { Command } from 'commander';
import {
  CatalyticApiError,
  CatalyticAuthRequiredError,
  CatalyticClient,
  CatalyticConnectionError,
  CredentialsFileError,
  credentialsFileIsExposed,
  type ResolvedConnection,
  resolveConnection,
  type StoredCredentials,
  tokensToStored,
  writeCredentials,
} from '../../client/index.ts';
import { VERSION } from '../../shared/version.ts';
import { CommandFailure, UsageError } from './cli-errors.ts';
import { CLIENT_EXIT } from './exit-codes.ts';

/** Options every client command accepts. */
export interface ConnectionOptions {
  url?: string;
  apiKey?: string;
  config?: string;
  json?: boolean;
}

/** A client command's view of the world. */
export interface Session {
  client: CatalyticClient;
  connection: ResolvedConnection;
  /** `--json`: machine-readable output on stdout. */
  json: boolean;
  /** Writes the credentials file (mode 0600). */
  saveCredentials(credentials: StoredCredentials): Promise<void>;
  /** Prints to stdout. */
  out(text: string): void;
  /** Prints to stderr (progress, notes, warnings). */
  note(text: string): void;
  /** Prints a value as JSON on stdout. */
  printJson(value: unknown): void;
}

/** Adds the connection options to a command. */
export function withConnectionOptions(command: Command): Command {
  return command
    .option('--url <url>', 'API base URL (default: $CATALYTIC_URL, the credentials file, or http://localhost:8000)')
    .option('--api-key <key>', 'API key to use (default: $CATALYTIC_API_KEY or the credentials file)')
    .option('--config <path>', 'credentials file (default: $CATALYTIC_CONFIG or ~/.config/catalytic/credentials.json)')
    .option('--json', 'machine-readable JSON on stdout');
}

/** Creates a client subcommand with the connection options. */
export function clientCommand(parent: Command, nameAndArgs: string, description: string): Command {
  return withConnectionOptions(parent.command(nameAndArgs).description(description));
}

async function openSession(options: ConnectionOptions): Promise<Session> {
  const env = options.config ? { ...process.env, CATALYTIC_CONFIG: options.config } : process.env;
  const connection = await resolveConnection({ url: options.url, apiKey: options.apiKey }, env);
  if (connection.source === 'file' && (await credentialsFileIsExposed(connection.path))) {
    process.stderr.write(`catalytic: warning: ${connection.path} is readable by other users; run chmod 600 on it\n`);
  }
  const saveCredentials = (credentials: StoredCredentials) => writeCredentials(connection.path, credentials);
  const client = new CatalyticClient({
    baseUrl: connection.url,
    apiKey: connection.apiKey,
    tokens: connection.tokens,
    userAgent: `catalytic-cli/${VERSION}`,
    // A refreshed session is saved at once: the old refresh token is spent.
    onTokens:
      connection.source === 'file'
        ? (tokens) => saveCredentials({ ...connection.stored, url: connection.url, ...tokensToStored(tokens) })
        : undefined,
  });
  return {
    client,
    connection,
    json: Boolean(options.json),
    saveCredentials,
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    note: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    printJson: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}

/** How to get past a plan limit: the plan that allows it when the API named one, and how to ask. */
function planHint(problem: unknown): string {
  const upgrade = (problem as { upgrade_plan?: unknown } | undefined)?.upgrade_plan;
  if (typeof upgrade === 'string') return `  the ${upgrade} plan allows it: catalytic subscription change ${upgrade} (an operator approves paid plans)`;
  return '  see what each plan allows with `catalytic plans`, and ask for one with `catalytic subscription change <plan>`';
}

/** The message and exit code for anything a command throws. */
export function describeFailure(err: unknown, session?: Session): { message: string; exitCode: number; problem?: unknown } {
  if (err instanceof UsageError) return { message: err.message, exitCode: CLIENT_EXIT.usage };
  if (err instanceof CommandFailure) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof CatalyticAuthRequiredError) {
    return { message: `${err.message} (run \`catalytic login\`)`, exitCode: CLIENT_EXIT.auth };
  }
  if (err instanceof CatalyticApiError) {
    const lines = [`${err.title}${err.detail && err.detail !== err.title ? `: ${err.detail}` : ''} (HTTP ${err.status} ${err.code})`];
    for (const fieldError of err.errors.slice(0, 10)) lines.push(`  ${fieldError.path}: ${fieldError.message}`);
    // A refused sign-in is not cured by signing in again: the email or password is wrong.
    if (err.code === 'invalid_credentials') lines.push('  check the email and password (no account yet? `catalytic register`)');
    else if (err.status === 401) lines.push(`  run \`catalytic login\` or set CATALYTIC_API_KEY`);
    if (err.code === 'plan_limit_exceeded') lines.push(planHint(err.problem));
    if (err.requestId) lines.push(`  request id ${err.requestId}`);
    return { message: lines.join('\n'), exitCode: err.isAuthError ? CLIENT_EXIT.auth : CLIENT_EXIT.failed, problem: err.problem };
  }
  if (err instanceof CatalyticConnectionError) {
    const where = session ? ` (is the API running at ${session.connection.url}?)` : '';
    return { message: `${err.message}${where}`, exitCode: CLIENT_EXIT.failed };
  }
  if (err instanceof CredentialsFileError) return { message: err.message, exitCode: CLIENT_EXIT.failed };
  const error = err instanceof Error ? err : new Error(String(err));
  return { message: error.message || String(err), exitCode: CLIENT_EXIT.failed };
}

/**
 * Wraps a command's body: opens the session, runs it, reports any failure on stderr and exits
 * with the code the body returned (0 by default) or the failure's.
 */
export function clientAction<A extends unknown[]>(body: (session: Session, ...args: A) => Promise<number | void>) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args.at(-1) as Command;
    const options = command.optsWithGlobals<ConnectionOptions>();
    let session: Session | undefined;
    let exitCode: number;
    try {
      session = await openSession(options);
      exitCode = (await body(session, ...(args.slice(0, -1) as A))) ?? CLIENT_EXIT.ok;
    } catch (err) {
      const failure = describeFailure(err, session);
      if (options.json && failure.problem) process.stderr.write(`${JSON.stringify({ error: failure.problem })}\n`);
      process.stderr.write(`catalytic: ${failure.message}\n`);
      exitCode = failure.exitCode;
    }
    process.exit(exitCode);
  };
}
