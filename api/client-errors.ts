/**
 * Answers what Node's HTTP parser refuses before the Koa app sees a request — malformed request
 * lines and headers, oversized headers, a slow client cut off by the request timeout, an `Expect`
 * other than 100-continue, a missing Host — with the same problem+json the app sends, instead
 * of Node's bare status lines. Nothing is written once a response has started on the socket.
 */
import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { AppError, type ErrorCode, toProblem } from '../shared/errors.ts';

/** The problem for a parser or socket error, by Node's error code. */
function problemFor(err: NodeJS.ErrnoException): AppError {
  let code: ErrorCode = 'validation_failed';
  let detail = 'The request is not valid HTTP';
  if (err.code === 'HPE_HEADER_OVERFLOW') [code, detail] = ['headers_too_large', 'The request headers exceed the server limit'];
  else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') [code, detail] = ['request_timeout', 'The request did not arrive in time'];
  else if (err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') [code, detail] = ['payload_too_large', 'The chunk extensions are too large'];
  return new AppError(code, detail);
}

function rawResponse(error: AppError): string {
  const body = JSON.stringify(toProblem(error));
  return [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

function sendProblem(res: ServerResponse, error: AppError): void {
  const body = JSON.stringify(toProblem(error));
  res.writeHead(error.status, { 'Content-Type': 'application/problem+json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
  res.end(body);
}

/**
 * Wraps the app's request listener: an HTTP/1.1 request without `Host` (RFC 9112 §3.2) gets a
 * 400 problem here. The server is created with `requireHostHeader: false` so that Node does not
 * answer it first with an empty body.
 */
export function requireHost(listener: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
      sendProblem(res, new AppError('validation_failed', 'HTTP/1.1 requests need a Host header'));
      return;
    }
    listener(req, res);
  };
}

/** Installs the handlers on a server (once, before it listens). */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Mirrors Node's default: answer only if nothing of a response has gone out on the socket.
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (err.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
      socket.end(rawResponse(problemFor(err)), () => socket.destroy());
    } else {
      socket.destroy();
    }
  });
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    sendProblem(res, new AppError('expectation_failed', 'Only `Expect: 100-continue` is supported'));
  });
}
