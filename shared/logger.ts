/**
 * JSON-lines logging with pino. A line names its request, tenant or job itself (no AsyncLocalStorage:
 * on Node 20 one entered turns on promise hooks for every promise of the process; docs/performance.md
 * › The API without AsyncLocalStorage); credentials are redacted wherever they appear under the usual names.
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from './config.ts';

export type { Logger };

/** Field paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'key',
  '*.key',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.cookie',
];

export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'LOG_PRETTY'>, name = 'catalytic'): Logger {
  const options: pino.LoggerOptions = {
    name,
    level: config.LOG_LEVEL,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const wantsPretty = config.LOG_PRETTY ?? process.stdout.isTTY === true;
  // On a terminal a line is one event: fields inline, not one line each.
  const prettyStream = () => pretty({ colorize: true, sync: true, singleLine: true, ignore: 'pid,hostname,name' });
  // Written synchronously: pino's default stream writes asynchronously, so a process.exit right
  // after a role's last line ("stopped") dropped it and the lines queued before it, and its
  // flush() calls back at once without waiting (minLength 0).
  return wantsPretty ? pino(options, prettyStream()) : pino(options, pino.destination({ dest: 1, sync: true }));
}
